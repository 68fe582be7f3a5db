"""The runner against a real local HTTP PoC that misbehaves: every failure recorded, nothing repeated."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rescue.auditlog import read_log, verify_log
from rescue.ledger import Ledger
from rescue.spec import load_spec
from rescue.systems import RunPolicy, make_poc_adapter, run


class Flaky(BaseHTTPRequestHandler):
    """Answers by the item's text: 'ok N', '5xx-once N', 'always-500 N', '429 N', 'slow N', 'garbage N'."""

    seen: dict[str, int]
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["input"]
        with self.lock:
            self.seen[text] = self.seen.get(text, 0) + 1
            n = self.seen[text]
        kind = text.split()[0]
        if (kind == "5xx-once" and n == 1) or kind == "always-500":
            return self._send(503, b"{}")
        if kind == "429" and n == 1:
            return self._send(429, b"{}", {"Retry-After": "0.2"})
        if kind == "slow":
            time.sleep(1.0)
        if kind == "garbage":
            return self._send(200, b"<html>oops")
        answer = {"result": {"sentiment": "positive"}, "usage": {"prompt_tokens": 10, "completion_tokens": 2}}
        self._send(200, json.dumps(answer).encode())

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def flaky_server():
    Flaky.seen = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def http_spec(write_spec, sample_spec_data, flaky_server, monkeypatch):
    monkeypatch.setenv("RESCUE_POC_TOKEN", "Bearer test")
    data = dict(sample_spec_data)
    data["poc"] = {"kind": "http", "url": f"http://127.0.0.1:{flaky_server.server_address[1]}/classify",
                   "request": {"input": "{text}"}, "response_path": "result", "usage_path": "usage",
                   "headers": {"Authorization": "${RESCUE_POC_TOKEN}"}, "timeout_s": 0.5, "concurrency": 4}  # fmt: skip
    return load_spec(write_spec(data))


def _items(kinds: list[str]) -> list[dict]:
    return [{"item_id": f"i{i}", "text": f"{k} {i}"} for i, k in enumerate(kinds)]


def test_every_failure_is_recorded_and_counted(http_spec, flaky_server, tmp_path: Path) -> None:
    kinds = ["ok", "5xx-once", "always-500", "429", "slow", "garbage", "ok", "ok"]
    items = _items(kinds)
    adapter = make_poc_adapter(http_spec)
    policy = RunPolicy(retries=2, backoff_s=0.01)
    with Ledger(tmp_path) as ledger:
        started = time.perf_counter()
        calls = run(adapter, items, ledger, "production", policy, progress=False)
        elapsed = time.perf_counter() - started
        assert ledger.count() == len(items)
    by_kind = {k: c for k, c in zip(kinds, calls, strict=True)}
    assert (
        by_kind["ok"].ok
        and by_kind["ok"].output == {"sentiment": "positive"}
        and by_kind["ok"].tokens_in == 10
    )
    assert by_kind["5xx-once"].ok and by_kind["5xx-once"].attempts == 2  # retried, then answered
    assert by_kind["429"].ok and by_kind["429"].attempts == 2  # waited for Retry-After
    assert (by_kind["always-500"].error_kind, by_kind["always-500"].attempts) == ("http_5xx", 3)
    assert by_kind["slow"].error_kind == "timeout"
    assert by_kind["garbage"].error_kind == "bad_response"
    assert Flaky.seen["always-500 2"] == 3 and Flaky.seen["429 3"] == 2
    assert elapsed < 10


def test_each_batch_is_in_the_audit_log_with_counts_only(http_spec, tmp_path: Path) -> None:
    items = _items(["ok", "always-500", "ok", "garbage"])
    adapter = make_poc_adapter(http_spec)
    policy = RunPolicy(retries=1, backoff_s=0.01)
    with Ledger(tmp_path) as ledger:
        run(adapter, items[:2], ledger, "production", policy, progress=False)
        run(adapter, items, ledger, "production", policy, progress=False)
    records = [r for r in read_log(tmp_path) if r["event"] == "calls"]
    batch = {"dataset": "production", "system": adapter.name, "config": adapter.config, "repeat": 0}
    assert [{k: r[k] for k in r if k in {*batch, "status", "items", "to_send", "cached", "calls", "failed"}}
            for r in records] == [
        {**batch, "status": "started", "items": 2, "to_send": 2, "cached": 0},
        {**batch, "status": "finished", "calls": 2, "failed": 1},
        # the transient failure is tried again, the answered item comes from the ledger
        {**batch, "status": "started", "items": 4, "to_send": 3, "cached": 1},
        {**batch, "status": "finished", "calls": 3, "failed": 2},
    ]  # fmt: skip
    assert records[-1]["failed_by_kind"] == {"bad_response": 1, "http_5xx": 1}
    log = (tmp_path / "audit-log.jsonl").read_text()
    assert not any(it["text"] in log for it in items) and "positive" not in log  # no text, no answer
    assert "Bearer test" not in log  # nor a secret
    assert verify_log(tmp_path) == 4


def test_rerun_repeats_nothing_and_caches_never_count_as_latency(http_spec, tmp_path: Path) -> None:
    items = _items(["ok"] * 6)
    adapter = make_poc_adapter(http_spec)
    with Ledger(tmp_path) as ledger:
        first = run(adapter, items, ledger, "production", progress=False)
        calls_after_first = dict(Flaky.seen)
        second = run(adapter, items, ledger, "production", progress=False)
    assert Flaky.seen == calls_after_first  # no PoC call on the re-run
    assert all(c.cached for c in second) and not any(c.cached for c in first)
    assert [c.latency_ms for c in second] == [
        c.latency_ms for c in first
    ]  # the live measurement, not the cache hit


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from rescue.ledger import Ledger
    from rescue.systems import Adapter, Answer, run

    log = open(sys.argv[2], "a")

    def call(item):
        log.write(item["item_id"] + "\\n"); log.flush()
        time.sleep(0.05)
        return Answer({"label": "x"})

    items = [{"item_id": f"i{i}", "text": f"t{i}"} for i in range(60)]
    with Ledger(sys.argv[1]) as ledger:
        run(Adapter("poc", "cfg", call, 5.0, 2), items, ledger, "production", progress=False)
    """
)


def test_sigkill_mid_run_resumes_losing_nothing_and_repeating_nothing(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    log = tmp_path / "calls.log"
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(log)])
    deadline = time.time() + 20
    while time.time() < deadline and (not log.exists() or len(log.read_text().split()) < 15):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Ledger(tmp_path) as ledger:
        finished_before = set(ledger.done("production", "poc", "cfg"))
    assert 5 <= len(finished_before) < 60
    # the killed run left its "started" record: 60 items sent to the PoC, and no end
    (started_record,) = read_log(tmp_path)
    assert (started_record["event"], started_record["status"]) == ("calls", "started")
    assert (started_record["to_send"], started_record["cached"]) == (60, 0)
    assert verify_log(tmp_path) == 1
    started_before = log.read_text().split()
    subprocess.run([sys.executable, str(script), str(tmp_path), str(log)], check=True)
    with Ledger(tmp_path) as ledger:
        assert len(ledger.done("production", "poc", "cfg")) == 60
    started = log.read_text().split()
    second_run = started[len(started_before) :]
    assert not set(second_run) & finished_before  # no finished item called again
    # at most the calls in flight at the kill (concurrency 2) ran twice
    assert len(started) - 60 <= 2
    resumed, ended = read_log(tmp_path)[1:]
    assert (resumed["to_send"], resumed["cached"]) == (60 - len(finished_before), len(finished_before))
    assert (ended["status"], ended["calls"], ended["failed"]) == ("finished", 60 - len(finished_before), 0)
