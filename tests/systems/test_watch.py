"""What a call reaches on the network, through Python's audit hooks: names resolved, addresses connected to."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rescue.systems.watch import Watch


@pytest.fixture
def server() -> Iterator[int]:
    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


def test_a_call_through_urllib_and_httpx_is_seen_with_its_name(server: int) -> None:
    import httpx

    with Watch() as watch:
        urllib.request.urlopen(f"http://localhost:{server}/", timeout=5).read()
        httpx.get(f"http://localhost:{server}/", timeout=5)
    [dest] = watch.destinations
    assert dest["host"] == "localhost" and dest["port"] == server and dest["loopback"]
    assert dest["connections"] >= 2 and "127.0.0.1" in dest["addresses"]


def test_an_unreachable_provider_is_still_a_destination() -> None:
    with Watch() as watch:
        with contextlib.suppress(OSError):
            socket.getaddrinfo(
                "api.us-east.example-llm.invalid", 443
            )  # the name leaks even if it never resolves
        with contextlib.suppress(OSError), socket.socket() as s:
            s.settimeout(0.05)
            s.connect(("192.0.2.10", 8443))  # TEST-NET-1: never answers
    hosts = {(d["host"], d["port"]): d for d in watch.destinations}
    assert hosts[("api.us-east.example-llm.invalid", 443)]["connections"] == 0
    reached = hosts[("192.0.2.10", 8443)]
    assert reached["connections"] == 1 and not reached["loopback"]


def test_each_thread_sees_its_own_call(server: int) -> None:
    seen: dict[str, list] = {}

    def call(name: str, url: str | None) -> None:
        with Watch() as watch:
            if url:
                urllib.request.urlopen(url, timeout=5).read()
        seen[name] = watch.destinations

    threads = [threading.Thread(target=call, args=("a", f"http://127.0.0.1:{server}/")),
               threading.Thread(target=call, args=("b", None))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [d["host"] for d in seen["a"]] == ["127.0.0.1"] and seen["b"] == []
    with Watch() as nothing:
        pass
    assert nothing.destinations == []  # outside a watch nothing is recorded


CALLS_OUT = """
import urllib.request

def classify(text):
    port = text.split(":")[1]
    urllib.request.urlopen(f"http://localhost:{port}/", timeout=5).read()
    if text.startswith("fail"):
        raise RuntimeError("the provider said no")
    return {"label": "ok"}
"""


@pytest.mark.parametrize("isolation", ["process", "thread"])
def test_every_call_records_its_destinations_in_the_ledger(
    server: int, tmp_path: Path, isolation: str
) -> None:
    from rescue.ledger import Ledger
    from rescue.spec import load_spec
    from rescue.systems import make_poc_adapter, run
    from tests.systems.test_workers import _project

    spec = load_spec(_project(tmp_path / "p", CALLS_OUT, isolation=isolation))
    items = [{"item_id": "a", "text": f"ok:{server}"}, {"item_id": "b", "text": f"fail:{server}"}]
    with Ledger(tmp_path / "out") as ledger:
        calls = run(make_poc_adapter(spec), items, ledger, "d", progress=False)
        again = ledger.done("d", "poc", calls[0].config)
    for call in (*calls, *again.values()):  # a failed call's destinations are kept too, and read back
        [dest] = call.destinations
        assert (dest["host"], dest["port"], dest["loopback"]) == ("localhost", server, True)
    assert [c.ok for c in calls] == [True, False]
