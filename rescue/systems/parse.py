"""Reading what a system answered: JSON in text, dotted paths, an output's field, cited documents, token usage."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any


def parse_output(output: Any) -> Any:
    """A JSON object given as text becomes the object; anything else stays as it is."""
    if isinstance(output, str) and output.strip().startswith("{"):
        with contextlib.suppress(ValueError):
            return json.loads(output)
    return output


def dig(document: Any, path: str | None) -> Any:
    """Follow a dotted path (``choices.0.message.content``) into a JSON document."""
    if not path:
        return document
    node = document
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(path)
    return node


def output_field(output: Any, field: str) -> str | None:
    """The value of ``field`` in a system's output as text (the output itself when it is not a dict): a
    classifier's predicted label, a generator's answer."""
    if isinstance(output, dict):
        value = output.get(field)
        return None if value is None else str(value)
    return None if output is None else str(output)


def cited_documents(output: Any, field: str) -> list[str] | None:
    """The document ids a PoC output cites (None when it says nothing about documents)."""
    if not isinstance(output, dict) or output.get(field) is None:
        return None
    value = output[field]
    if isinstance(value, str):
        value = [v for v in re.split(r"[|,\s]+", value) if v]
    if not isinstance(value, list):
        return None
    return [str(v.get("id", v)) if isinstance(v, dict) else str(v) for v in value]


def token_usage(usage: Any) -> tuple[int | None, int | None]:
    """(input, output) tokens from a usage record in either vocabulary (``input_tokens``/``prompt_tokens``)."""
    if not isinstance(usage, dict):
        return None, None
    return token_count(usage.get("input_tokens", usage.get("prompt_tokens"))), token_count(
        usage.get("output_tokens", usage.get("completion_tokens"))
    )


def token_count(value: Any) -> int | None:
    """A token count as reported (None when the endpoint reports something that is not a count)."""
    try:
        count = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return count if count >= 0 else None
