"""Stand-in for the LLM provider and the customer's egress proxy of the review-sentiment PoC: standard library only.

The PoC notebook (``poc/sentiment_poc.ipynb``) calls ``gpt-4o-mini`` through the official ``openai`` SDK at
``OPENAI_BASE_URL=http://eu.example-llm.com/v1``, with ``HTTP_PROXY`` pointing here: the customer's egress proxy.
So requests arrive in absolute form (``POST http://eu.example-llm.com/v1/chat/completions``) and this server
answers each as if it were that host, with no network:

* ``eu.example-llm.com`` (and requests sent here directly, as rescue's ``serve`` check does):
  ``GET /v1/models`` and ``POST /v1/chat/completions``, OpenAI-compatible. The answer is ``{"sentiment": ...}``
  in ``choices[0].message.content``, with a ``usage`` record (prompt and completion tokens, about 4 characters
  a token) and the dated model name the provider reports (``gpt-4o-mini-2024-07-18``).
* ``telemetry.example-analytics.io``: ``POST /collect`` takes the usage ping the PoC's ``classify`` still sends
  (a contractor's leftover) and answers 204.
* any other host: 502, as a locked-down proxy would (nothing is forwarded anywhere). ``CONNECT`` (https) is
  refused: this stand-in proxies plain http only.

The sentiment is a rule over the review (the last user message): the weighted word lists in
``stub/lexicon.json`` (fitted by ``scripts/build_sdk_sample.py`` on the sample's reviews: a stand-in for a model,
its quality chosen, not earned), plus deterministic mistakes for a fixed share of reviews. Latencies (10-60 ms),
HTTP 500s (on every attempt) and HTTP 429s (on the first attempt only) come from a SHA-256 hash of the review, so
every run answers alike; the only state is the set of reviews that already had their one 429.

Run from the project folder (``sample_data/review-sentiment-sdk``)::

    python stub/stub_server.py --port 8771 [--api-key-env NAME] [--request-log FILE]

``--api-key-env NAME`` requires ``Authorization: Bearer $NAME`` (any non-empty key is accepted otherwise);
``--request-log FILE`` appends one JSON line per request: host, method, path, model, status and the SHA-256 of
the review (never the text itself).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import math
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
LEXICON = HERE / "lexicon.json"

LLM_HOST = "eu.example-llm.com"
TELEMETRY_HOST = "telemetry.example-analytics.io"
MODEL = "gpt-4o-mini"
SNAPSHOT = "gpt-4o-mini-2024-07-18"  # what the provider reports as the model that answered
MODELS = (MODEL, SNAPSHOT)
LABELS = ("positive", "neutral", "negative")

# Buckets out of 10 000 from a hash of a salt and the review. Salts fixed once; shares nominal.
FAILURE_SALT = "review-sentiment-sdk:failure:1"
ERROR_BUCKETS = 150  # ~1.5%: HTTP 500 on every attempt (the SDK retries twice, then raises)
RATE_LIMIT_BUCKETS = 300  # ~3%: HTTP 429 on the first attempt only (the SDK's own retry gets the answer)
MISTAKE_SALT = "review-sentiment-sdk:mistake:1"
MISTAKE_BUCKETS = 600  # ~6%: the answer moves one class along positive - neutral - negative
RETRY_AFTER_MS = "20"


def bucket(key: str, size: int = 10_000) -> int:
    """A stable bucket in ``range(size)`` for ``key`` (SHA-256, not Python's salted ``hash``)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % size


def text_sha256(text: str) -> str:
    """The SHA-256 of a review as the request log records it (whitespace at the ends stripped)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def load_lexicon(path: Path = LEXICON) -> dict[str, dict[str, float]]:
    """The weighted word lists: label -> word -> weight (and ``bias``: label -> prior weight)."""
    return json.loads(path.read_text(encoding="utf-8"))


def words(text: str) -> set[str]:
    """The lower-cased words of a review, HTML entities decoded."""
    return set(re.findall(r"[a-z']+", html.unescape(text).lower()))


def lexicon_sentiment(lexicon: dict[str, dict[str, float]], text: str) -> str:
    """The label whose words (and prior) weigh most in ``text``; ties go to the earlier label."""
    found = words(text)
    bias = lexicon.get("bias", {})
    scores = {
        label: bias.get(label, 0.0) + sum(lexicon[label].get(w, 0.0) for w in found) for label in LABELS
    }
    return max(LABELS, key=lambda label: scores[label])


def sentiment(lexicon: dict[str, dict[str, float]], text: str) -> str:
    """The stub's answer for a review: the lexicon's label, moved one class along for a fixed ~6% of reviews."""
    label = lexicon_sentiment(lexicon, text)
    if bucket(f"{MISTAKE_SALT}:{text.strip()}") < MISTAKE_BUCKETS:
        return "neutral" if label != "neutral" else ("negative" if bucket(text.strip(), 2) else "positive")
    return label


def failure_mode(text: str) -> str | None:
    """``"error"`` (HTTP 500 on every attempt), ``"rate_limit"`` (one HTTP 429 first) or ``None``."""
    value = bucket(f"{FAILURE_SALT}:{text.strip()}")
    if value < ERROR_BUCKETS:
        return "error"
    if value < ERROR_BUCKETS + RATE_LIMIT_BUCKETS:
        return "rate_limit"
    return None


def latency_s(text: str) -> float:
    """A fixed latency per review: 10-60 ms."""
    return (10 + bucket(f"latency:{text.strip()}", 51)) / 1000


def tokens(chars: int) -> int:
    """Tokens for ``chars`` characters, at about 4 characters a token."""
    return max(1, math.ceil(chars / 4))


def message_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """An error in the OpenAI API's shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class StubServer(ThreadingHTTPServer):
    """The server: the lexicon, the key it requires (if any), the request log and the reviews already 429'd."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], lexicon: dict[str, dict[str, float]], api_key: str | None,
                 request_log: Path | None) -> None:  # fmt: skip
        super().__init__(address, Handler)
        self.lexicon = lexicon
        self.api_key = api_key
        self.request_log = request_log
        self.rate_limited: set[str] = set()
        self.lock = threading.Lock()

    def first_attempt(self, text: str) -> bool:
        """True the first time ``text`` is seen (it then gets its one HTTP 429)."""
        with self.lock:
            if text in self.rate_limited:
                return False
            self.rate_limited.add(text)
            return True

    def log_request(self, record: dict[str, Any]) -> None:
        """Append one line to the request log (when there is one)."""
        if self.request_log is None:
            return
        with self.lock, self.request_log.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    """One request, sent directly or through this server as a proxy (absolute-form request target)."""

    server: StubServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; no 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
        pass

    # --- plumbing ----------------------------------------------------------------------------------------

    def target(self) -> tuple[str, str]:
        """(host, path) of the request: from an absolute-form target (a proxied request) or the Host header."""
        parts = urlsplit(self.path)
        if parts.scheme and parts.hostname:
            return parts.hostname.lower(), parts.path or "/"
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        return host, parts.path or "/"

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def record(
        self, host: str, path: str, status: int, model: str | None = None, text: str | None = None
    ) -> None:
        self.server.log_request({"host": host, "method": self.command, "path": path, "status": status,
                                 "model": model, "text_sha256": None if text is None else text_sha256(text)})  # fmt: skip

    def authorised(self, host: str, path: str) -> bool:
        header = self.headers.get("Authorization") or ""
        key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if key and (self.server.api_key is None or key == self.server.api_key):
            return True
        self.record(host, path, 401)
        self.send_json(
            401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        )
        return False

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def elsewhere(self, host: str, path: str) -> None:
        """A request for a host this stand-in does not play: refused, as a locked-down proxy would."""
        self.record(host, path, 502)
        message = f"proxy: no route to {host} (this stand-in forwards nothing; it answers as {LLM_HOST} only)"
        self.send_json(502, error_body(message, "proxy_error"))

    # --- methods -----------------------------------------------------------------------------------------

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0].lower()
        self.record(host, "", 405)
        self.send_json(405, error_body("this stand-in proxies plain http only", "proxy_error"))

    def do_GET(self) -> None:
        host, path = self.target()
        path = path.rstrip("/")
        if host not in (LLM_HOST, "127.0.0.1", "localhost"):
            return self.elsewhere(host, path)
        if path not in ("/v1/models", "/models"):
            self.record(host, path, 404)
            return self.send_json(
                404, error_body(f"Unknown path {path}", "invalid_request_error", "not_found")
            )
        if not self.authorised(host, path):
            return None
        self.record(host, path, 200)
        listed = [{"id": m, "object": "model", "created": 1721172741, "owned_by": "system"} for m in MODELS]
        return self.send_json(200, {"object": "list", "data": listed})

    def do_POST(self) -> None:
        host, path = self.target()
        path = path.rstrip("/")
        raw = self.body()
        if host == TELEMETRY_HOST and path == "/collect":
            self.record(host, path, 204)
            return self.send_json(204, None)
        if host not in (LLM_HOST, "127.0.0.1", "localhost"):
            return self.elsewhere(host, path)
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self.record(host, path, 404)
            return self.send_json(
                404, error_body(f"Unknown path {path}", "invalid_request_error", "not_found")
            )
        if not self.authorised(host, path):
            return None
        return self.complete(host, path, raw)

    def complete(self, host: str, path: str, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            self.record(host, path, 400)
            return self.send_json(
                400, error_body("The body needs a 'messages' list.", "invalid_request_error")
            )
        model = body.get("model")
        if model not in MODELS:
            self.record(host, path, 404, str(model))
            message = f"The model `{model}` does not exist or you do not have access to it."
            return self.send_json(404, error_body(message, "invalid_request_error", "model_not_found"))
        texts = [message_text(m.get("content")) for m in messages]
        users = [text for m, text in zip(messages, texts, strict=True) if m.get("role") == "user"]
        review = users[-1] if users else ""
        time.sleep(latency_s(review))
        mode = failure_mode(review)
        if mode == "error":
            self.record(host, path, 500, model, review)
            message = "The server had an error while processing your request. Sorry about that!"
            return self.send_json(
                500, error_body(message, "server_error"), {"retry-after-ms": RETRY_AFTER_MS}
            )
        if mode == "rate_limit" and self.server.first_attempt(review.strip()):
            self.record(host, path, 429, model, review)
            message = (
                f"Rate limit reached for {MODEL} on requests per min (RPM): Limit 500. Please try again."
            )
            return self.send_json(429, error_body(message, "requests", "rate_limit_exceeded"),
                                  {"retry-after-ms": RETRY_AFTER_MS})  # fmt: skip
        content = json.dumps({"sentiment": sentiment(self.server.lexicon, review)})
        prompt_tokens = tokens(sum(len(text) for text in texts)) + 7 * len(messages)  # per-message overhead
        completion_tokens = tokens(len(content))
        digest = hashlib.sha256(f"{model}\n{review}".encode()).hexdigest()[:29]
        self.record(host, path, 200, model, review)
        return self.send_json(200, {
            "id": f"chatcmpl-{digest}", "object": "chat.completion", "created": 1735689600, "model": SNAPSHOT,
            "system_fingerprint": "fp_stub0001",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    """Start the stub on ``--port`` (0 picks a free one) until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument(
        "--api-key-env", help="require 'Authorization: Bearer $NAME' (default: any non-empty key)"
    )
    parser.add_argument(
        "--request-log", type=Path, help="append one JSON line per request (no texts, hashes)"
    )
    args = parser.parse_args(argv)
    api_key = (os.environ.get(args.api_key_env) or None) if args.api_key_env else None
    if args.api_key_env and api_key is None:
        parser.error(f"--api-key-env {args.api_key_env}: that variable is not set")
    server = StubServer((args.host, args.port), load_lexicon(), api_key, args.request_log)
    host, port = server.server_address[:2]
    print(f"stub_server: answering as {LLM_HOST} and {TELEMETRY_HOST} on http://{host}:{port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())
