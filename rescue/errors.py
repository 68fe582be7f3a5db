"""Errors a rescue user can meet, and what each one carries.

    RescueError                 base: a mistake or a condition the user can act on
     ├── SpecError              rescue.yaml (or attestations.yaml) is invalid: field path, value, expectation
     ├── InputFileError         a project file (labels, grades, demo examples, predictions) is unusable: file, column
     ├── SecretUnavailable      a ${VAR} reference names an environment variable that is not set
     ├── SourceUnavailable      a production source cannot be reached or read: source, kind, reason
     ├── CallFailed             one call of a system (the PoC, a baseline, the judge) gave no answer: kind
     ├── ArtifactError          an artifact is missing or does not match its schema
     ├── WorkbookFailed         a day's workbook failed: day, cell, error, kept notebook
     ├── LogTampered            the audit log's hash chain is broken
     ├── ParameterError         a workbook parameter of the wrong type or value (rescue.params)
     ├── PdfUnavailable         no chromium to print the readout with: how to get one (rescue.pdf)
     └── PdfFailed              chromium did not print a page: failed, timed out, wrote no PDF (rescue.pdf)

The CLI prints these without a traceback; anything else is a bug in rescue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class RescueError(Exception):
    """Base class for errors a rescue user can act on."""


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec: where (dotted field path), what was there, what was expected."""

    path: str
    value: Any
    expected: str

    def __str__(self) -> str:
        shown = "(missing)" if self.value is _MISSING else repr(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{self.path or '(top level)'}: got {shown}; expected {self.expected}"


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING: Any = _Missing()
MISSING = _MISSING


class SpecError(RescueError):
    """A spec file is invalid. ``path`` is the first offending field (dotted, ``sources[1].kind``)."""

    def __init__(self, file: str | Path | None, issues: list[SpecIssue]):
        if not issues:
            raise ValueError("SpecError needs at least one issue")
        self.file = str(file) if file is not None else "rescue.yaml"
        self.issues = issues
        first = issues[0]
        self.path = first.path
        self.value = first.value
        self.expected = first.expected
        lines = [f"{self.file} is invalid ({len(issues)} problem{'s' if len(issues) > 1 else ''}):"]
        lines += [f"  - {issue}" for issue in issues]
        super().__init__("\n".join(lines))


class SecretUnavailable(RescueError):
    """A ``${VAR}`` secret reference names an environment variable that is not set."""

    def __init__(self, var: str, where: str = ""):
        self.var = var
        self.where = where
        at = f" (used by {where})" if where else ""
        super().__init__(
            f"environment variable {var} is not set{at}; secrets are read only from the environment"
        )


class InputFileError(RescueError):
    """A project file rescue reads (labels, grades, demo examples, predictions) cannot be used as it is.

    Names the file, the column (when one is at fault), the line (when one is) and what was expected.
    """

    def __init__(self, file: str | Path, problem: str, column: str | None = None, line: int | None = None):
        self.file = str(file)
        self.column = column
        self.line = line
        self.problem = problem
        where = (
            self.file
            + (f", line {line}" if line is not None else "")
            + (f", column {column!r}" if column else "")
        )
        super().__init__(f"{where}: {problem}")


class SourceUnavailable(RescueError):
    """A production source cannot be reached or read. ``kind`` says how it failed: ``missing_file``,
    ``no_table``, ``encoding``, ``connection``, ``credentials``, ``timeout``, ``format`` or ``error``."""

    def __init__(self, source: str, kind: str, reason: str):
        self.source = source
        self.kind = kind
        self.reason = reason
        super().__init__(f"source {source!r} is unavailable: {reason}")


class CallFailed(RescueError):
    """One call of a system gave no answer. The runner records it in the ledger and counts it; it never stops the
    run. ``kind`` is ``error``, ``timeout``, ``connection``, ``http_5xx``, ``rate_limited``, ``auth``, ``http_4xx``,
    ``bad_request``, ``bad_response``, ``crash`` or ``missing``; ``transient`` ones are retried, after
    ``retry_after_s`` when the system said. ``destinations``: where the failed call went, when it was watched;
    ``spans``: the HTTP requests it sent, when they were captured."""

    def __init__(self, kind: str, message: str, transient: bool = False, retry_after_s: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.transient = transient
        self.retry_after_s = retry_after_s
        self.destinations: list[dict] | None = None
        self.spans: list[dict] | None = None


class ArtifactError(RescueError):
    """An artifact is missing, unreadable or does not match its schema."""


class LogTampered(RescueError):
    """The audit log's hash chain is broken at ``line``."""

    def __init__(self, log: str | Path, line: int, reason: str):
        self.log = str(log)
        self.line = line
        self.reason = reason
        super().__init__(f"{log}: record on line {line} {reason}")


class WorkbookFailed(RescueError):
    """A day's workbook failed. Carries the day, the cell, the error and the kept notebook."""

    def __init__(
        self,
        day: int,
        workbook: str,
        cell_index: int | None,
        error_name: str,
        error_value: str,
        notebook: str | Path | None,
        cell_source: str = "",
    ):
        self.day = day
        self.workbook = workbook
        self.cell_index = cell_index
        self.error_name = error_name
        self.error_value = error_value
        self.notebook = str(notebook) if notebook else None
        self.cell_source = cell_source
        cell = f"cell {cell_index}" if cell_index is not None else "before any cell ran"
        first_line = cell_source.strip().splitlines()[0] if cell_source.strip() else ""
        msg = f"day {day} ({workbook}) failed in {cell}"
        if first_line:
            msg += f" [{first_line[:70]}]"
        msg += f": {error_name}: {error_value}"
        if self.notebook:
            msg += f"\n  the executed notebook is kept at {self.notebook}"
        super().__init__(msg)
