"""The OpenAI-compatible chat adapter against a small compatible server on loopback (no provider, no network)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from rescue.errors import RescueError
from rescue.ledger import Ledger
from rescue.spec import load_spec
from rescue.systems import CallFailed, RunPolicy, ensure_served, make_poc_adapter, make_system_adapter, run
from rescue.systems.serve import _SERVED, _served_models, _stop
from tests.conftest import free_port

KEY = "sk-test-4f1c9e0b7d2a"


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []
    once: ClassVar[set[str]] = set()

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(200, {"data": [{"id": "m"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"body": body, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._send(401, {"error": {"message": "bad key"}})
        if body["model"] == "missing":
            return self._send(404, {"error": {"message": "model 'missing' not found"}})
        question = body["messages"][-1]["content"]
        if "boom" in question:
            return self._send(500, {"error": {"message": "internal"}})
        if "busy" in question and question not in type(self).once:
            type(self).once.add(question)
            return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
        if "garbage" in question:
            return self._send(200, b"not json")
        if "plain" in question:
            content = "Patients mostly like it."
        else:
            content = json.dumps({"answer": f"echo: {question}", "documents": ["r1", "r2"]})
        self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                         "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
                         "citations": ["c9"]})  # fmt: skip


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen, _Handler.once = [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def _project(tmp_path: Path, url: str, **poc: Any) -> Path:
    spec = {"version": 1, "project": "chat", "use_case": "answer questions", "poc": {"kind": "openai", "url": url, "model": "m",
            "api_key": "${CHAT_KEY}", "system_prompt": "Be brief.", "prompt": "Q: {text}", "timeout_s": 2, **poc}}  # fmt: skip
    (tmp_path / "rescue.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return tmp_path


def test_request_answer_usage_and_key(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_KEY", KEY)
    adapter = make_poc_adapter(load_spec(_project(tmp_path, server, max_tokens=50)))
    answer = adapter.call({"item_id": "1", "text": "what about aspirin?"})
    assert answer.output == {"answer": "echo: Q: what about aspirin?", "documents": ["r1", "r2"]}
    assert (answer.tokens_in, answer.tokens_out) == (11, 7)
    body = _Handler.seen[-1]["body"]
    assert body["model"] == "m" and body["temperature"] == 0.0 and body["max_tokens"] == 50
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Q: what about aspirin?"}]  # fmt: skip
    assert _Handler.seen[-1]["auth"] == f"Bearer {KEY}"
    # the key is no part of the config hash or the adapter's details
    assert KEY not in adapter.config and KEY not in json.dumps(adapter.details)


def test_plain_text_answers_and_documents_path(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_KEY", KEY)
    adapter = make_poc_adapter(load_spec(_project(tmp_path, server, documents_path="citations")))
    assert adapter.call({"item_id": "1", "text": "plain"}).output == {
        "answer": "Patients mostly like it.",
        "documents": ["c9"],
    }


def test_failures_are_recorded_not_raised(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_KEY", KEY)
    adapter = make_poc_adapter(load_spec(_project(tmp_path, server)))
    items = [{"item_id": str(i), "text": t} for i, t in enumerate(["fine", "boom", "busy", "garbage"])]
    with Ledger(tmp_path / "out") as ledger:
        calls = run(
            adapter, items, ledger, "production", RunPolicy(retries=2, backoff_s=0.01), progress=False
        )
        again = run(adapter, items, ledger, "production", progress=False)
    by = {c.item: c for c in calls}
    assert by["0"].ok and by["0"].tokens_in == 11
    assert by["1"].error_kind == "http_5xx" and by["1"].attempts == 3  # retried, then recorded
    assert by["2"].ok and by["2"].attempts == 2  # 429 with Retry-After: 0, then answered
    assert by["3"].error_kind == "bad_response"
    assert [c.cached for c in again] == [True, False, True, True]  # only the transient 5xx is asked again


def test_wrong_key_and_unknown_model(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_KEY", "sk-wrong")
    adapter = make_poc_adapter(load_spec(_project(tmp_path, server)))
    with pytest.raises(CallFailed) as failed:
        adapter.call({"item_id": "1", "text": "x"})
    assert failed.value.kind == "auth" and not failed.value.transient and "sk-wrong" not in str(failed.value)
    monkeypatch.setenv("CHAT_KEY", KEY)
    spec = load_spec(_project(tmp_path, server))
    other = make_system_adapter(spec, spec.poc.model_copy(update={"model": "missing"}), "judge", "eval.judge")
    with pytest.raises(CallFailed, match="model 'missing' not found") as failed:
        other.call({"item_id": "1", "text": "x"})
    assert failed.value.kind == "http_4xx"


def test_missing_key_variable_is_named(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAT_KEY", raising=False)
    with pytest.raises(RescueError, match="CHAT_KEY"):
        make_poc_adapter(load_spec(_project(tmp_path, server)))


# a model server for `serve:`: it lists model m on any GET, on the port it is given
MODEL_SERVER = """import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.end_headers()
        self.wfile.write(json.dumps({'data': [{'id': 'm'}]}).encode())
HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
"""


def test_serve_starts_the_endpoint_and_names_a_failure(tmp_path: Path, server: str) -> None:
    (tmp_path / "srv.py").write_text(MODEL_SERVER)
    url = f"http://127.0.0.1:{free_port()}/v1"
    spec = load_spec(_project(tmp_path, url, serve=["python", "srv.py", "{port}"], api_key=None))
    ensure_served(spec, spec.poc)
    assert _served_models(url) == ["m"]
    process = _SERVED.pop(url)
    ensure_served(spec, spec.poc)  # already serving: nothing new is started
    assert url not in _SERVED
    _stop(process)
    assert process.poll() is not None
    # a command that exits names its exit code and its last words, and leaves nothing recorded as running
    broken = spec.poc.model_copy(update={"serve": [sys.executable, "-c", "import sys; print('no such model'); sys.exit(3)"],
                                         "url": f"http://127.0.0.1:{free_port()}/v1"})  # fmt: skip
    for _ in range(2):
        with pytest.raises(RescueError, match=r"poc.serve did not bring up .*exit code 3.*no such model"):
            ensure_served(spec, broken)
    # something else answering on the port is refused, not used
    other = spec.poc.model_copy(update={"url": server, "model": "gpt-x"})
    with pytest.raises(RescueError, match=r"answers but does not serve model gpt-x \(it lists m\)"):
        ensure_served(spec, other)


_SERVE_AND_HANG = """
import sys, time
from rescue.spec import load_spec
from rescue.systems.serve import _SERVED, ensure_served
spec = load_spec(sys.argv[1])
ensure_served(spec, spec.poc)
print(_SERVED[spec.poc.url].pid, flush=True)
time.sleep(600)
"""


def test_a_server_does_not_outlive_the_process_that_started_it_even_killed(tmp_path: Path) -> None:
    """A kernel killed (or terminated as hung in its shutdown) runs no exit handler: the server's watchdog sees its
    pipe close and stops the server's process group."""
    import subprocess
    import time

    (tmp_path / "srv.py").write_text(MODEL_SERVER)
    url = f"http://127.0.0.1:{free_port()}/v1"
    project = _project(tmp_path, url, serve=["python", "srv.py", "{port}"], api_key=None)
    kernel = subprocess.Popen([sys.executable, "-c", _SERVE_AND_HANG, str(project)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        watchdog = int(kernel.stdout.readline())
        assert _served_models(url) == ["m"]
    finally:
        kernel.kill()  # SIGKILL: no atexit handler runs in it
        kernel.wait(10)
    deadline = time.monotonic() + 15
    while _served_models(url) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _served_models(url) is None  # the server is gone
    stat = Path(f"/proc/{watchdog}/stat")
    while stat.exists() and stat.read_text().split(") ")[-1][0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not stat.exists() or stat.read_text().split(") ")[-1][0] == "Z"  # and the watchdog has exited


def test_a_command_that_cannot_start_is_named(tmp_path: Path) -> None:
    spec = load_spec(_project(tmp_path, f"http://127.0.0.1:{free_port()}/v1", serve=["no-such-server-cmd"],
                              api_key=None))  # fmt: skip
    with pytest.raises(RescueError, match=r"poc.serve could not start no-such-server-cmd: .*No such file"):
        ensure_served(spec, spec.poc)


def test_a_refused_connection_is_a_connection_failure_not_a_timeout(tmp_path: Path) -> None:
    spec = load_spec(_project(tmp_path, f"http://127.0.0.1:{free_port()}/v1", api_key=None))
    with pytest.raises(CallFailed) as failed:
        make_poc_adapter(spec).call({"item_id": "1", "text": "x"})
    assert failed.value.kind == "connection" and failed.value.transient


def test_changed_request_is_asked_again_and_transient_failures_are_retried(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_KEY", KEY)
    spec = load_spec(_project(tmp_path, server, prompt="Q: {text} ({extra})"))
    adapter = make_poc_adapter(spec)
    with Ledger(tmp_path / "out") as ledger:
        run(adapter, [{"item_id": "1", "text": "a", "extra": "x"}, {"item_id": "2", "text": "boom"}], ledger, "p",
            RunPolicy(retries=0), progress=False)  # fmt: skip
        asked = len(_Handler.seen)
        same = run(adapter, [{"item_id": "1", "text": "a", "extra": "x"}], ledger, "p", progress=False)
        assert same[0].cached and len(_Handler.seen) == asked
        changed = run(adapter, [{"item_id": "1", "text": "a", "extra": "y"}], ledger, "p", progress=False)
        assert not changed[0].cached and changed[0].output["answer"] == "echo: Q: a (y)"
        again = run(
            adapter, [{"item_id": "2", "text": "boom"}], ledger, "p", RunPolicy(retries=0), progress=False
        )
        assert not again[0].cached and again[0].error_kind == "http_5xx"  # a 5xx is tried again by a new run
        kept = run(
            adapter,
            [{"item_id": "2", "text": "boom"}],
            ledger,
            "p",
            RunPolicy(retry_failed=False),
            progress=False,
        )
        assert kept[0].cached
        assert ledger.count("p") == 2
