"""Every HTTP request a PoC's call sends is a span in the ledger: the real ``openai`` SDK, in a worker process,
against a local OpenAI-compatible server that is also the "egress proxy" for two made-up hosts."""

from __future__ import annotations

import http.server
import json
import os
import threading
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from rescue.errors import CallFailed
from rescue.ledger import Call, Ledger
from rescue.systems import spans as spans_module
from rescue.systems.function import poc_code
from rescue.systems.workers import WorkerPool

EMAIL = "jo.planted@example.org"


class _Provider(http.server.BaseHTTPRequestHandler):
    """Answers chat completions (any host: it is the proxy too) and takes telemetry pings."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        url = urlsplit(self.path)
        _Provider.seen.append({"host": url.hostname or self.headers.get("host"), "path": url.path,
                               "headers": {k.lower() for k in self.headers}})  # fmt: skip
        if url.path.endswith("/collect"):
            self.send_response(204)
            self.end_headers()
            return
        request = json.loads(body)
        text = request["messages"][-1]["content"]
        answer = {"id": "c1", "object": "chat.completion", "created": 0, "model": request["model"] + "-2024-07-18",
                  "choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": json.dumps({"echo": text[:20]})}}],
                  "usage": {"prompt_tokens": 11 + len(text), "completion_tokens": 7, "total_tokens": 18 + len(text)}}  # fmt: skip
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def provider() -> Any:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


SDK_POC = """
import json
from openai import OpenAI

client = OpenAI(base_url="http://eu.example-llm.test/v1", api_key="sk-not-a-real-key", max_retries=0)

def classify(text):
    resp = client.chat.completions.create(model="gpt-4o-mini", temperature=0,
                                          messages=[{"role": "user", "content": text}])
    client._client.post("http://telemetry.example-analytics.test/collect", json={"n": 1})  # a leftover
    return json.loads(resp.choices[0].message.content)
"""

ASYNC_POC = """
import json
from openai import AsyncOpenAI

client = AsyncOpenAI(base_url="http://eu.example-llm.test/v1", api_key="sk-not-a-real-key", max_retries=0)

async def classify(text):
    resp = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    return json.loads(resp.choices[0].message.content)
"""

REFUSED_POC = """
from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:{port}/v1", api_key="sk-not-a-real-key", max_retries=0)

def classify(text):
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
"""


def _pool(tmp_path: Path, source: str, port: int | None, **kwargs: Any) -> WorkerPool:
    """A worker pool for ``source``, whose requests go through the proxy on ``port`` (None: no proxy)."""
    path = tmp_path / "poc.py"
    path.write_text(source)
    proxy = (
        {"HTTP_PROXY": f"http://127.0.0.1:{port}", "http_proxy": f"http://127.0.0.1:{port}"} if port else {}
    )
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "all_proxy")}
    env = {**env, **proxy, "NO_PROXY": "", "no_proxy": ""}
    return WorkerPool(poc_code(path, "classify", False), size=1, timeout_s=20, env=env, **kwargs)


def test_each_request_of_an_sdk_call_is_a_span_with_the_genai_attributes(
    tmp_path: Path, provider: int
) -> None:
    _Provider.seen.clear()
    with _pool(tmp_path, SDK_POC, provider) as pool:
        answer = pool.call({"item_id": "1", "text": f"My dizziness got worse; write to {EMAIL}"})
    assert answer.output == {"echo": "My dizziness got wor"}  # the body the PoC read is the one it was sent
    chat, ping = answer.spans or []
    a = chat["attributes"]
    assert (a["http.request.method"], a["server.address"], a["server.port"], a["url.path"]) == (
        "POST", "eu.example-llm.test", 80, "/v1/chat/completions")  # fmt: skip
    assert a["http.response.status_code"] == 200 and a["http.request.body.size"] > 0
    assert a["http.response.body.size"] > 100 and a["rescue.api_shape"] == "openai"
    assert (a["gen_ai.request.model"], a["gen_ai.response.model"]) == (
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )
    n = len(f"My dizziness got worse; write to {EMAIL}")
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (11 + n, 7)
    assert (answer.tokens_in, answer.tokens_out) == (11 + n, 7)  # the answer had none: the wire's
    assert a["rescue.personal_data"] == {"email": 1}  # counted, never kept
    assert EMAIL not in json.dumps(answer.spans) and "sk-not-a-real-key" not in json.dumps(answer.spans)
    assert ping["attributes"]["server.address"] == "telemetry.example-analytics.test"
    assert ping["attributes"]["http.response.status_code"] == 204
    assert 0 <= chat["start_ms"] <= ping["start_ms"] and chat["duration_ms"] > 0
    # what the PoC sent is what it would send unwatched: no trace header added
    assert all("traceparent" not in s["headers"] for s in _Provider.seen)
    assert [s["host"] for s in _Provider.seen] == ["eu.example-llm.test", "telemetry.example-analytics.test"]


def test_an_async_sdk_call_is_captured_too(tmp_path: Path, provider: int) -> None:
    with _pool(tmp_path, ASYNC_POC, provider) as pool:
        answer = pool.call({"item_id": "1", "text": "hello"})
    [span] = answer.spans or []
    assert span["attributes"]["gen_ai.usage.output_tokens"] == 7 and answer.output == {"echo": "hello"}


def test_a_refused_request_is_a_span_of_the_failed_call(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        _pool(tmp_path, REFUSED_POC.replace("{port}", str(port)), None) as pool,
        pytest.raises(CallFailed) as failed,
    ):
        pool.call({"item_id": "1", "text": "hello"})
    [span] = failed.value.spans or []
    assert span["attributes"]["error.type"] == "ConnectError" and span["attributes"]["server.port"] == port
    assert "http.response.status_code" not in span["attributes"]


def test_no_spans_when_capture_is_off_or_the_poc_sends_nothing(tmp_path: Path, provider: int) -> None:
    with _pool(tmp_path, SDK_POC, provider, spans=False) as pool:
        assert pool.call({"item_id": "1", "text": "hello"}).spans is None
    with _pool(tmp_path, "def classify(text):\n    return {'n': len(text)}\n", provider) as pool:
        assert pool.call({"item_id": "1", "text": "hello"}).spans is None  # no HTTP client imported


def test_genai_shapes_of_the_three_apis_whole_and_streamed() -> None:
    anthropic = {"id": "m", "type": "message", "model": "claude-sonnet-4-5", "content": [],
                 "usage": {"input_tokens": 12, "output_tokens": 5, "cache_creation_input_tokens": 0}}  # fmt: skip
    gemini = {"candidates": [], "modelVersion": "gemini-2.5-flash",
              "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 4}}  # fmt: skip
    got = spans_module.genai_attributes(json.dumps(anthropic).encode())
    assert (got["rescue.api_shape"], got["gen_ai.usage.input_tokens"], got["gen_ai.usage.output_tokens"]) == (
        "anthropic", 12, 5)  # fmt: skip
    got = spans_module.genai_attributes(json.dumps(gemini).encode())
    assert (got["gen_ai.response.model"], got["gen_ai.usage.input_tokens"]) == ("gemini-2.5-flash", 9)
    stream = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in [
        {"object": "chat.completion.chunk", "model": "gpt-4o-mini", "choices": [{"delta": {"content": "hi"}}]},
        {"object": "chat.completion.chunk", "model": "gpt-4o-mini", "choices": [],
         "usage": {"prompt_tokens": 3, "completion_tokens": 1}}]) + b"data: [DONE]\n\n"  # fmt: skip
    got = spans_module.genai_attributes(stream, events=True)
    assert (got["gen_ai.usage.input_tokens"], got["gen_ai.usage.output_tokens"]) == (3, 1)
    assert spans_module.genai_attributes(b"<html>not json</html>") == {}
    assert spans_module.provider_of("api.openai.com") == "openai"
    assert spans_module.provider_of("myco.openai.azure.com") == "azure.ai.openai"
    assert spans_module.provider_of("eu.example-llm.test") is None


def test_the_ledger_keeps_the_spans_and_migrates_an_older_ledger(tmp_path: Path) -> None:
    import sqlite3

    span = {"name": "POST", "start_ms": 1.0, "duration_ms": 2.0, "attributes": {"server.address": "h"}}
    old = tmp_path / "old"
    old.mkdir()
    con = sqlite3.connect(old / "ledger.sqlite")  # the calls table as rescue wrote it before spans
    con.execute("CREATE TABLE calls (dataset TEXT NOT NULL, item TEXT NOT NULL, system TEXT NOT NULL, "
                "config TEXT NOT NULL, repeat INTEGER NOT NULL, input_hash TEXT NOT NULL, output TEXT, error TEXT, "
                "error_kind TEXT, latency_ms REAL, attempts INTEGER NOT NULL, tokens_in INTEGER, tokens_out INTEGER, "
                "cost_eur REAL, created_at TEXT NOT NULL, raw_output TEXT, destinations TEXT, "
                "PRIMARY KEY (dataset, item, system, config, repeat))")  # fmt: skip
    con.execute(
        "INSERT INTO calls VALUES ('d','1','poc','c',0,'h','1',NULL,NULL,1.0,1,NULL,NULL,NULL,'t',NULL,NULL)"
    )
    con.commit()
    con.close()
    with Ledger(old) as ledger:
        assert ledger.done("d", "poc", "c")["1"].spans is None
        ledger.record(Call("d", "2", "poc", "c", 0, "h", "x", None, None, 1.0, 1, spans=[span]))
        assert ledger.done("d", "poc", "c")["2"].spans == [span]


def test_calls_in_threads_of_rescues_process_each_get_their_own_spans(tmp_path: Path, provider: int) -> None:
    """``poc.isolation: thread``: the PoC in rescue's own process, several calls at once, each with its requests
    only; the proxy comes from poc.env."""
    from concurrent.futures import ThreadPoolExecutor

    from rescue.spec import load_spec
    from rescue.systems import make_poc_adapter
    from tests.systems.test_workers import _project

    env = {"HTTP_PROXY": f"http://127.0.0.1:{provider}", "NO_PROXY": ""}
    project = _project(tmp_path / "p", SDK_POC, isolation="thread", env=env)
    adapter = make_poc_adapter(load_spec(project))
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(adapter.call, [{"item_id": str(i), "text": f"text {i}"} for i in range(8)])
            )
    finally:
        if adapter.close is not None:
            adapter.close()
    for i, answer in enumerate(answers):
        chat, ping = answer.spans or []
        assert chat["attributes"]["server.address"] == "eu.example-llm.test"
        assert chat["attributes"]["gen_ai.usage.input_tokens"] == 11 + len(f"text {i}") == answer.tokens_in
        assert ping["attributes"]["server.address"] == "telemetry.example-analytics.test"
