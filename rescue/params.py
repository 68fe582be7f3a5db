"""The workbooks' parameters: one meaning per name, checked the same way by ``rescue week`` and by each workbook.

A parameter reaches a workbook three ways: typed in JupyterLab, injected by ``papermill -p`` (where
``-p interactive false`` is the *string* "false") and set by ``rescue week`` (YAML scalars: ``-p as_of
2026-11-30`` is a date). :func:`parameters` turns each into the one type the workbook uses, or stops before
any work with an error that names the parameter and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .errors import RescueError

TRUE = frozenset({"true", "yes", "on", "1"})
FALSE = frozenset({"false", "no", "off", "0", ""})


class ParameterError(RescueError, ValueError):
    """A workbook parameter of the wrong type or value, named."""


def as_bool(name: str, value: Any) -> bool:
    """True/False, or the words papermill passes as strings: "true"/"false", "yes"/"no", "1"/"0"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise ParameterError(f"parameter {name!r} must be true or false (or 1/0, yes/no); got {value!r}")


def as_date(name: str, value: Any) -> date | None:
    """A date, from a date or a YYYY-MM-DD string; empty or None means today (None)."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ParameterError(f"parameter {name!r} must be a date YYYY-MM-DD, or empty for today; got {value!r}")


def as_count(name: str, value: Any) -> int:
    """A whole number of at least 1, from an int or a string of digits."""
    number: Any = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ParameterError(f"parameter {name!r} must be a whole number of at least 1; got {value!r}")
    return number


def as_text(name: str, value: Any) -> str:
    """Text (a path-like becomes its string)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if not isinstance(value, str):
        raise ParameterError(f"parameter {name!r} must be text; got {type(value).__name__} {value!r}")
    return value


@dataclass(frozen=True)
class Parameter:
    """One workbook parameter: what it means and how its value is read."""

    read: Callable[[str, Any], Any]
    means: str

    def injected(self, value: Any) -> Any:
        """The value as papermill writes it into a notebook (a date as its YYYY-MM-DD text)."""
        return value.isoformat() if isinstance(value, date) else value


PARAMETERS: dict[str, Parameter] = {
    "project": Parameter(as_text, "the audit project folder (holds rescue.yaml)"),
    "out": Parameter(as_text, "the output folder"),
    "interactive": Parameter(as_bool, "widgets (JupyterLab) or not (batch)"),
    "as_of": Parameter(as_date, "the reference date, YYYY-MM-DD (empty: today)"),
    "probes": Parameter(as_count, "latency probes per source"),
    "labeler": Parameter(as_text, "who is labeling (empty: asked once)"),
}


def check(name: str, value: Any) -> Any:
    """``value`` read as parameter ``name`` (:data:`PARAMETERS`); a name rescue does not know is refused."""
    if name not in PARAMETERS:
        raise ParameterError(f"no workbook parameter {name!r}; the parameters are: {', '.join(PARAMETERS)}")
    return PARAMETERS[name].read(name, value)


def parameters(**values: Any) -> tuple[Any, ...]:
    """The workbook's parameters, checked and read, in the order given: the first cell of every workbook.

    ``project, out, interactive = parameters(project=project, out=out, interactive=interactive)``
    """
    return tuple(check(name, value) for name, value in values.items())
