"""What a PoC function returned, as rescue scores it: :func:`normalise` and the readers it needs.

Standard library only and Python 3.9 syntax: the PoC's worker process (:mod:`rescue.systems.worker_main`) loads
this file by its path in whatever interpreter runs the PoC, where rescue is not installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Any


def parse_output(output: Any) -> Any:
    """A JSON object given as text becomes the object; anything else stays as it is."""
    if isinstance(output, str) and output.strip().startswith("{"):
        with contextlib.suppress(ValueError):
            return json.loads(output)
    return output


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


def _jsonable(value: Any) -> Any:
    """A value as JSON holds it: a pydantic model's or a dataclass's fields, else the value (text at worst)."""
    if hasattr(value, "model_dump") and callable(value.model_dump):
        with contextlib.suppress(Exception):
            return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "to_dict") and callable(value.to_dict):
        with contextlib.suppress(Exception):
            return value.to_dict()
    return value


# tuples, not X | Y: isinstance takes a union only from Python 3.10, and this file runs in 3.9 too
_SCALARS = (str, int, float, bool)
_CONTAINERS = (dict, list)


def normalise(value: Any) -> tuple[Any, Any, int | None, int | None]:
    """What a PoC function returned, as rescue scores it: (output, raw, tokens in, tokens out).

    - text, numbers, dicts and lists stay as they are (a JSON object in text becomes the object);
    - a pydantic model or a dataclass becomes its fields;
    - an OpenAI ``ChatCompletion`` becomes its first message's content, a LangChain ``AIMessage`` its content, a
      LlamaIndex ``Response`` ``{"answer": ..., "documents": [node ids]}`` — with the tokens they report, and the
      whole object's fields kept as ``raw`` (None when the output is the value itself).
    Nothing of those libraries is imported: the shapes are recognised by their attributes.
    """
    if value is None or isinstance(value, _SCALARS):
        return parse_output(value), None, None, None
    if isinstance(value, _CONTAINERS):
        usage = value.get("usage") if isinstance(value, dict) else None
        return (value, None, *token_usage(_jsonable(usage) if usage is not None else None))
    choices = getattr(value, "choices", None)
    if isinstance(choices, list) and choices and hasattr(choices[0], "message"):  # OpenAI ChatCompletion
        raw = _jsonable(value)
        usage = _jsonable(getattr(value, "usage", None))
        return (parse_output(getattr(choices[0].message, "content", None)), raw, *token_usage(usage))
    if hasattr(value, "content") and (
        hasattr(value, "usage_metadata") or hasattr(value, "response_metadata")
    ):
        raw = _jsonable(value)  # LangChain AIMessage
        usage = _jsonable(getattr(value, "usage_metadata", None))
        return (parse_output(value.content), raw, *token_usage(usage))
    if hasattr(value, "response") and hasattr(value, "source_nodes"):  # LlamaIndex Response
        ids = []
        for node in value.source_nodes or []:
            inner = getattr(node, "node", node)
            ids.append(
                str(
                    getattr(inner, "node_id", None) or getattr(inner, "id_", None) or getattr(node, "id_", "")
                )
            )
        output = {"answer": str(value.response), "documents": [i for i in ids if i]}
        return output, {"response": str(value.response), "source_nodes": ids, "metadata": _jsonable(
            getattr(value, "metadata", None))}, None, None  # fmt: skip
    fields = _jsonable(value)
    if fields is value:  # an object rescue cannot read: its text
        return str(value), None, None, None
    output, _, tokens_in, tokens_out = normalise(fields)  # a model or dataclass: its fields are the output
    return output, None, tokens_in, tokens_out
