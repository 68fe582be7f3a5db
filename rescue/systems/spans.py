"""Every HTTP request a PoC's call sends, as OpenTelemetry spans: where it went, how long it took, what it cost.

During each call the PoC's own ``httpx`` and ``httpx2`` clients (the OpenAI, Anthropic and Google SDKs all send
through one of them) are watched by OpenTelemetry's ``opentelemetry-instrumentation-httpx``; each request becomes
one span with the HTTP semantic conventions (``http.request.method``, ``server.address``, ``server.port``,
``url.scheme``, ``url.path``, ``http.response.status_code``, ``error.type``) and its duration. For a body in the
shape of the OpenAI (and OpenAI-compatible), Anthropic or Gemini APIs, rescue adds the GenAI semantic conventions
the instrumentation of those SDKs would (``gen_ai.request.model``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``, ``gen_ai.provider.name`` for the providers' own
hosts), read from the request it sent and the response it got: OpenTelemetry's own GenAI instrumentation for
``openai`` does not run with the versions on the registry today (``opentelemetry-instrumentation-openai-v2``
2.4b0 imports a module ``opentelemetry-util-genai`` 1.3b0 lacks).

What it does not change: nothing is patched but the transports' ``handle_request``, which the instrumentation
wraps; no trace header is added to what the PoC sends (the propagator is empty); the body the PoC reads is the
one it was sent (rescue reads a copy as it streams past, at most :data:`BODY_LIMIT` bytes).

The request bodies are handed back with the spans (:attr:`Spans.sent`, at most :data:`SENT_LIMIT` characters
each) so that rescue can count the personal data in what was sent; they are never stored.

Like :mod:`rescue.systems.watch`, this file is loaded by the worker process from its path, in any interpreter:
without OpenTelemetry there (the PoC's own virtualenv), :func:`install` says False and the call is still watched
by the audit hooks. Standard library at import time.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from typing import Any

BODY_LIMIT = 1 << 20  # response bytes read for the model and the usage; a longer body is only counted
SENT_LIMIT = 64 * 1024  # request characters handed back for the personal-data count

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"installed": None}
_LOCAL = threading.local()
_GLOBAL: list[Any] = []  # the call being watched in this process (a worker runs one at a time)
_TEES: dict[type, type] = {}

# the providers' own API hosts (for others the API's shape is named, not a provider)
PROVIDER_HOSTS = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gcp.gemini",
    "api.mistral.ai": "mistral_ai",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.x.ai": "x_ai",
    "api.cohere.com": "cohere",
}
PROVIDER_SUFFIXES = {".openai.azure.com": "azure.ai.openai", "aiplatform.googleapis.com": "gcp.vertex_ai"}


def provider_of(host: str) -> str | None:
    """The GenAI ``gen_ai.provider.name`` of a provider's own API host (None for any other host)."""
    host = host.lower()
    return PROVIDER_HOSTS.get(host) or next(
        (p for s, p in PROVIDER_SUFFIXES.items() if host.endswith(s)), None
    )


def install() -> bool:
    """Instrument ``httpx`` and ``httpx2`` once per process; False when OpenTelemetry (or both clients) are not
    installed in this interpreter, or it cannot instrument them."""
    with _LOCK:
        if _STATE["installed"] is None:
            try:
                _STATE["installed"] = _install()
            except Exception:  # another OpenTelemetry than rescue's, or none: the audit hooks still watch
                _STATE["installed"] = False
        return bool(_STATE["installed"])


def _install() -> bool:
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")  # the stable HTTP attribute names
    from opentelemetry import propagate
    from opentelemetry.instrumentation import httpx as otel_httpx
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    class _ToCall(SpanProcessor):
        def on_end(self, span: Any) -> None:
            call = _current()
            if call is not None:
                call.ended(span)

    propagate.set_global_textmap(CompositePropagator([]))  # no traceparent header in what the PoC sends
    provider = TracerProvider()
    provider.add_span_processor(_ToCall())
    hooks = {"tracer_provider": provider, "request_hook": _request_hook, "response_hook": _response_hook,
             "async_request_hook": _async_request_hook, "async_response_hook": _async_response_hook}  # fmt: skip
    done = False
    for name in ("HTTPXClientInstrumentor", "HTTPX2ClientInstrumentor"):
        instrumentor = getattr(otel_httpx, name, None)
        if instrumentor is None:
            continue
        try:
            instrumentor().instrument(**hooks)
            done = True
        except ModuleNotFoundError:  # that client is not installed here
            continue
    return done


def _current() -> _Call | None:
    return getattr(_LOCAL, "call", None) or (_GLOBAL[-1] if _GLOBAL else None)


class _Call:
    """What one call's requests left: the ended spans and, by span id, what their bodies said."""

    def __init__(self) -> None:
        self.started = time.time_ns()
        self.spans: list[Any] = []
        self.extra: dict[int, dict[str, Any]] = {}
        self.sent: dict[int, str] = {}
        self.lock = threading.Lock()

    def ended(self, span: Any) -> None:
        with self.lock:
            self.spans.append(span)

    def add(self, span: Any, attributes: dict[str, Any]) -> None:
        key = span.get_span_context().span_id
        with self.lock:
            self.extra.setdefault(key, {}).update({k: v for k, v in attributes.items() if v is not None})


def _span_key(span: Any) -> int:
    return span.get_span_context().span_id


def _request_hook(span: Any, request: Any) -> None:
    call = _current()
    if call is None:
        return
    with contextlib.suppress(Exception):  # a body rescue cannot read stays unread; the request goes on
        _request_seen(call, span, request)


async def _async_request_hook(span: Any, request: Any) -> None:
    _request_hook(span, request)


def _response_hook(span: Any, request: Any, response: Any) -> None:
    call = _current()
    if call is None:
        return
    with contextlib.suppress(Exception):
        _response_seen(call, span, request, response)


async def _async_response_hook(span: Any, request: Any, response: Any) -> None:
    _response_hook(span, request, response)


def _request_seen(call: _Call, span: Any, request: Any) -> None:
    stream = request.stream
    size = _header_int(request.headers, "content-length")
    body = None
    if type(stream).__name__ == "ByteStream":  # the whole body in memory (json=, content=): read it as sent
        body = b"".join(stream)
        size = len(body)
    attributes: dict[str, Any] = {"http.request.body.size": size}
    if body:
        text = body.decode("utf-8", "replace")
        with call.lock:
            call.sent[_span_key(span)] = text[:SENT_LIMIT]
        document = _json(body)
        if isinstance(document, dict) and isinstance(document.get("model"), str):
            attributes["gen_ai.request.model"] = document["model"]
    host = request.url.host.decode() if isinstance(request.url.host, bytes) else str(request.url.host)
    attributes["gen_ai.provider.name"] = provider_of(host)
    call.add(span, attributes)


def _response_seen(call: _Call, span: Any, request: Any, response: Any) -> None:
    size = _header_int(response.headers, "content-length")
    call.add(span, {"http.response.body.size": size})
    content_type = _header(response.headers, "content-type") or ""
    if "json" in content_type or "event-stream" in content_type:
        _tee(response.stream, _Body(call, span, "event-stream" in content_type))


class _Body:
    """A response body as it streams past the PoC: on its end, its size and what its GenAI shape says."""

    def __init__(self, call: _Call, span: Any, events: bool) -> None:
        self.call, self.span, self.events = call, span, events
        self.chunks: list[bytes] = []
        self.size = 0
        self.finished = False

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= BODY_LIMIT:
            self.chunks.append(chunk)

    def done(self) -> None:
        if self.finished:
            return
        self.finished = True
        attributes: dict[str, Any] = {"http.response.body.size": self.size}
        if self.size <= BODY_LIMIT:
            attributes.update(genai_attributes(b"".join(self.chunks), self.events))
        self.call.add(self.span, attributes)
        self.chunks = []


def _tee(stream: Any, body: _Body) -> None:
    """Let ``stream`` copy what it yields to ``body`` (its class becomes a subclass that does; one that cannot
    take another class is left alone, unread)."""
    cls = type(stream)
    tee = _TEES.get(cls)
    if tee is None:
        if hasattr(cls, "__aiter__") and not hasattr(cls, "__iter__"):

            class _AsyncTee(cls):  # type: ignore[valid-type, misc]
                async def __aiter__(self):  # type: ignore[no-untyped-def]
                    async for chunk in cls.__aiter__(self):
                        self._rescue_body.feed(chunk)
                        yield chunk
                    self._rescue_body.done()

                async def aclose(self) -> None:
                    try:
                        await cls.aclose(self)
                    finally:
                        self._rescue_body.done()

            tee = _AsyncTee
        elif hasattr(cls, "__iter__"):

            class _SyncTee(cls):  # type: ignore[valid-type, misc]
                def __iter__(self):  # type: ignore[no-untyped-def]
                    for chunk in cls.__iter__(self):
                        self._rescue_body.feed(chunk)
                        yield chunk
                    self._rescue_body.done()

                def close(self) -> None:
                    try:
                        cls.close(self)
                    finally:
                        self._rescue_body.done()

            tee = _SyncTee
        else:
            return
        _TEES[cls] = tee
    try:
        stream.__class__ = tee
        stream._rescue_body = body
    except (TypeError, AttributeError):
        return


def genai_attributes(body: bytes, events: bool = False) -> dict[str, Any]:
    """The GenAI attributes a response body says: ``gen_ai.response.model`` and ``gen_ai.usage.*`` for the
    OpenAI (chat completions, responses, embeddings; OpenAI-compatible servers too), Anthropic and Gemini shapes,
    whole or as server-sent events; ``rescue.api_shape`` names the shape. Empty for any other body."""
    documents = _events(body) if events else [_json(body)]
    found: dict[str, Any] = {}
    for document in documents:
        if isinstance(document, dict):
            found.update(_shape(document))
    return found


def _shape(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else None
    if doc.get("type") in ("message", "message_start", "message_delta") or (
        usage is not None and "input_tokens" in usage and "cache_creation_input_tokens" in usage
    ):
        message = doc.get("message") if isinstance(doc.get("message"), dict) else doc
        usage = message.get("usage") if isinstance(message.get("usage"), dict) else usage
        out["rescue.api_shape"] = "anthropic"
        out["gen_ai.response.model"] = message.get("model")
        if usage:
            out["gen_ai.usage.input_tokens"] = _int(usage.get("input_tokens"))
            out["gen_ai.usage.output_tokens"] = _int(usage.get("output_tokens"))
    elif isinstance(doc.get("usageMetadata"), dict) or "candidates" in doc:
        meta = doc.get("usageMetadata") or {}
        out["rescue.api_shape"] = "gemini"
        out["gen_ai.response.model"] = doc.get("modelVersion")
        out["gen_ai.usage.input_tokens"] = _int(meta.get("promptTokenCount"))
        out["gen_ai.usage.output_tokens"] = _int(meta.get("candidatesTokenCount"))
    elif "choices" in doc or str(doc.get("object", "")).startswith(("chat.completion", "text_completion",
                                                                      "response", "list")):  # fmt: skip
        out["rescue.api_shape"] = "openai"
        out["gen_ai.response.model"] = doc.get("model")
        if usage:
            out["gen_ai.usage.input_tokens"] = _int(usage.get("prompt_tokens", usage.get("input_tokens")))
            out["gen_ai.usage.output_tokens"] = _int(
                usage.get("completion_tokens", usage.get("output_tokens"))
            )
    return {k: v for k, v in out.items() if v is not None and v != ""}


def _events(body: bytes) -> list[Any]:
    out = []
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                out.append(_json(data.encode()))
    return out


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _header(headers: Any, name: str) -> str | None:
    try:
        value = headers.get(name)
    except Exception:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _header_int(headers: Any, name: str) -> int | None:
    value = _header(headers, name)
    return int(value) if value and value.isdigit() else None


KEPT = (
    "http.request.method", "server.address", "server.port", "url.scheme", "http.response.status_code",
    "error.type", "network.protocol.version",
)  # fmt: skip


def record(span: Any, extra: dict[str, Any], started_ns: int) -> dict[str, Any]:
    """One span as the ledger keeps it: its name, start (ms after the call began), duration and attributes
    (the URL's path, never its query: a key may be in it)."""
    attributes = {k: span.attributes[k] for k in KEPT if k in span.attributes}
    url = span.attributes.get("url.full") or span.attributes.get("http.url")
    if url:
        from urllib.parse import urlsplit

        parts = urlsplit(str(url))
        attributes["url.path"] = parts.path
        attributes.setdefault("url.scheme", parts.scheme)
        attributes.setdefault("server.address", parts.hostname or "")
        attributes.setdefault("server.port", parts.port or (443 if parts.scheme == "https" else 80))
    attributes.update(extra)
    end = span.end_time or span.start_time
    return {"name": span.name, "start_ms": round((span.start_time - started_ns) / 1e6, 3),
            "duration_ms": round((end - span.start_time) / 1e6, 3), "attributes": attributes}  # fmt: skip


class Spans:
    """The HTTP spans of one call: ``with Spans() as s: ...; s.spans, s.sent``. ``per_thread``: only this
    thread's requests (calls that run side by side in threads of one process); else every request the process
    sends meanwhile (a worker process runs one call at a time, and the PoC may use threads of its own)."""

    def __init__(self, per_thread: bool = False) -> None:
        self.per_thread = per_thread
        self.spans: list[dict[str, Any]] | None = None
        self.sent: list[tuple[int, str]] = []  # (index in spans, request body) for the personal-data count
        self._call: _Call | None = None

    def __enter__(self) -> Spans:
        if install():
            self._call = _Call()
            if self.per_thread:
                _LOCAL.call = self._call
            else:
                _GLOBAL.append(self._call)
        return self

    def __exit__(self, *exc: object) -> None:
        call = self._call
        if call is None:
            return
        if self.per_thread:
            _LOCAL.call = None
        elif call in _GLOBAL:
            _GLOBAL.remove(call)
        with call.lock:
            ended = sorted(call.spans, key=lambda s: s.start_time)
            self.spans = [record(s, call.extra.get(_span_key(s), {}), call.started) for s in ended]
            self.sent = [
                (i, call.sent[_span_key(s)]) for i, s in enumerate(ended) if _span_key(s) in call.sent
            ]
