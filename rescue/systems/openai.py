"""``openai`` systems: an OpenAI-compatible chat completions endpoint (a provider, vLLM, Ollama, a local stub)."""

from __future__ import annotations

import contextlib
from typing import Any

from ..hashing import file_sha256
from ..spec import PocSpec, Spec
from .base import Adapter, Answer, CallFailed, behaviour, config_hash
from .http import JsonClient, render_template
from .parse import dig, parse_output, token_usage
from .serve import ensure_served


def chat_messages(system: PocSpec, item: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages for ``item``: the system prompt and the user prompt filled from the item."""
    messages = [{"role": "system", "content": system.system_prompt}] if system.system_prompt else []
    return [*messages, {"role": "user", "content": render_template(system.prompt, item)}]


def openai_adapter(spec: Spec, system: PocSpec, name: str = "poc", where: str = "poc") -> Adapter:
    """The adapter for an ``openai`` system (started first when it has ``serve``)."""
    headers = {key: ref.resolve(f"{where}.headers") for key, ref in system.headers.items()}
    if system.api_key:
        headers["Authorization"] = f"Bearer {system.api_key.resolve(f'{where}.api_key')}"
    ensure_served(spec, system, where, headers=headers)
    client = JsonClient(headers, system.timeout_s, system.concurrency * 2)
    url = (system.url or "").rstrip("/") + "/chat/completions"
    documents_field = spec.eval.documents_field

    def body_of(item: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": system.model, "messages": chat_messages(system, item)}
        if system.temperature is not None:
            body["temperature"] = system.temperature
        if system.max_tokens is not None:
            body["max_tokens"] = system.max_tokens
        return body

    def call(item: dict[str, Any]) -> Answer:
        document = client.request_json("POST", url, body_of(item))
        try:
            content = dig(document, "choices.0.message.content")
        except KeyError:
            raise CallFailed("bad_response", "no choices[0].message.content in the response") from None
        output = parse_output(content)
        if not isinstance(output, dict):
            output = {"answer": "" if output is None else str(output)}
        if system.documents_path:
            with contextlib.suppress(KeyError):
                output[documents_field] = dig(document, system.documents_path)
        return Answer(output, *token_usage(document.get("usage") if isinstance(document, dict) else None))

    served = [file_sha256(spec.path(p)) for p in system.serve or [] if (spec.root / p).is_file()]
    config = config_hash(behaviour(system, {"headers"}), sorted(system.headers), served)
    return Adapter(
        name, config, call, system.timeout_s, system.concurrency, {"url": system.url}, request_of=body_of
    )
