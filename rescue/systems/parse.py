"""Reading what a system answered: JSON in text, dotted paths, an output's field, cited documents, token usage.

What a PoC function returned is normalised by :mod:`rescue.systems.shapes` (standard library only, so the PoC's
own interpreter runs it too); its names are re-exported here.
"""

from __future__ import annotations

import re
from typing import Any

from .shapes import normalise, parse_output, token_count, token_usage

__all__ = [
    "cited_documents",
    "dig",
    "normalise",
    "output_field",
    "parse_output",
    "token_count",
    "token_usage",
]


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
