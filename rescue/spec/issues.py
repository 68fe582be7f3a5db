"""Translating pydantic's validation errors into :class:`~rescue.errors.SpecIssue`: the field path, the value and
what was expected, in words a user can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from ..errors import MISSING, SpecIssue
from .models import SLUG_PATTERN


def format_loc(loc: tuple[Any, ...]) -> str:
    """('sources', 1, 'kind') -> 'sources[1].kind'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return node


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Annotated/list/dict wrappers."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict):
        found = []
        for arg in typing.get_args(annotation):
            found += _unwrap(arg)
        return found
    return [annotation]


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        inner = [t for t in _unwrap(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        current = inner[0] if inner else None
    return current


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _expected(err: dict[str, Any], root_model: type[BaseModel]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "a value (this field is required)"
    if kind == "secret_literal":
        return "an environment variable reference like ${CRM_DSN}; secrets are never written in rescue.yaml"
    if kind == "extra_forbidden":
        parent = _model_at(root_model, tuple(err["loc"][:-1]))
        name = str(err["loc"][-1])
        if parent is None:
            return "no such field"
        allowed = _field_names(parent)
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"a known field; {hint}allowed here: {', '.join(allowed)}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "a whole number"
    if kind in ("float_type", "float_parsing"):
        return "a number"
    if kind in ("bool_type", "bool_parsing"):
        return "true or false"
    if kind == "string_type":
        return "text (a string)"
    if kind in ("list_type", "tuple_type"):
        return "a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "a mapping of fields (key: value)"
    if kind == "greater_than":
        return f"a number greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"a number of at least {ctx['ge']}"
    if kind == "less_than":
        return f"a number less than {ctx['lt']}"
    if kind == "less_than_equal":
        return f"a number of at most {ctx['le']}"
    if kind == "string_too_short":
        return "non-empty text"
    if kind == "string_too_long":
        return f"text of at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == SLUG_PATTERN:
            return "a lowercase name of letters, digits, '-' or '_' (like crm-feedback)"
        return f"text matching {ctx.get('pattern')}"
    if kind in (
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
    ):
        return "a date written YYYY-MM-DD"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return err["msg"]


def issues_from_validation(exc: ValidationError, data: Any, model: type[BaseModel]) -> list[SpecIssue]:
    """Turn a pydantic ValidationError into SpecIssues with field paths and expectations."""
    issues = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        value = _value_at(data, loc)
        if err["type"] == "secret_literal" and value is not MISSING:
            value = "<a literal value, not shown>"
        issues.append(SpecIssue(format_loc(loc), value, _expected(err, model)))
    return issues
