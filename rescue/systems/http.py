"""``http`` systems: a JSON request template posted to the PoC's endpoint, the answer read by a dotted path.

:class:`JsonClient` is the pooled client every HTTP transport uses (``openai`` too).
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import urllib3

from ..spec import PocSpec, Spec
from ..spec.secrets import redact
from .base import Adapter, Answer, CallFailed, behaviour, config_hash
from .parse import dig, parse_output, token_usage


def render_template(template: Any, item: dict[str, Any]) -> Any:
    """Fill ``{field}`` placeholders of a JSON request template with the item's fields."""
    if isinstance(template, str):
        whole = re.fullmatch(r"\{(\w+)\}", template)
        if whole:
            return item.get(whole.group(1))
        return re.sub(r"\{(\w+)\}", lambda m: str(item.get(m.group(1), "")), template)
    if isinstance(template, dict):
        return {k: render_template(v, item) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, item) for v in template]
    return template


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class JsonClient:
    """A pooled HTTP client (urllib3: ~half the CPU per call of httpx, which matters under the GIL with many
    calls in flight). No retries here: the runner retries, with backoff and Retry-After."""

    def __init__(self, headers: dict[str, str], timeout_s: float, connections: int) -> None:
        self.timeout_s = timeout_s
        self.pool = urllib3.PoolManager(
            num_pools=4, maxsize=connections, block=False, headers=headers, retries=False,
            timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
        )  # fmt: skip

    def request_json(self, method: str, url: str, body: Any) -> Any:
        """One HTTP call that returns the JSON document, or raises CallFailed with a kind."""
        try:
            response = self.pool.request(method, url, json=body, preload_content=True)
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout errors in urllib3 2
            raise CallFailed(
                "connection", f"cannot connect: {exc.__class__.__name__}", transient=True
            ) from None
        except urllib3.exceptions.TimeoutError:
            raise CallFailed("timeout", f"no answer within {self.timeout_s:g} s", transient=True) from None
        except urllib3.exceptions.HTTPError as exc:
            raise CallFailed("connection", f"{type(exc).__name__}: {exc}", transient=True) from None
        status = response.status
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if status == 429:
            raise CallFailed("rate_limited", "HTTP 429", True, retry_after)
        if status >= 500:
            raise CallFailed("http_5xx", f"HTTP {status}", True, retry_after)
        if status in (401, 403):
            raise CallFailed("auth", f"HTTP {status}: the endpoint refused the credentials")
        if status >= 400:
            # a server may echo what it was sent: redacted before the 160-character cut, so no part of it stays
            raise CallFailed("http_4xx", f"HTTP {status}{_error_message(response.data)}")
        try:
            return json.loads(response.data)
        except ValueError:
            raise CallFailed("bad_response", "the response is not JSON") from None


def _error_message(data: bytes) -> str:
    """The message of an OpenAI-style error body, shortened (``: model not found``), or nothing."""
    with contextlib.suppress(ValueError, KeyError, AttributeError, TypeError):
        message = json.loads(data)["error"]["message"]
        return f": {redact(str(message))[:160]}"
    return ""


def http_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    """The adapter for an ``http`` system."""
    headers = {key: ref.resolve("poc.headers") for key, ref in poc.headers.items()}
    client = JsonClient(headers, poc.timeout_s, poc.concurrency * 2)
    template = poc.request if poc.request is not None else {"text": "{text}"}

    def call(item: dict[str, Any]) -> Answer:
        document = client.request_json(poc.method, poc.url or "", render_template(template, item))
        try:
            output = dig(document, poc.response_path)
        except KeyError:
            raise CallFailed("bad_response", f"no {poc.response_path} in the response") from None
        usage = None
        with contextlib.suppress(KeyError):
            usage = dig(document, poc.usage_path) if poc.usage_path else None
        return Answer(parse_output(output), *token_usage(usage))

    config = config_hash(behaviour(poc, {"headers"}), sorted(poc.headers))
    return Adapter(name, config, call, poc.timeout_s, poc.concurrency, {"url": poc.url},
                   request_of=lambda item: render_template(template, item))  # fmt: skip
