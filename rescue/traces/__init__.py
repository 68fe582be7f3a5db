"""Production traces as items: read what an LLM app already logged, one row per LLM call.

For an LLM app the best real, messy sample of production data is its traces. :func:`read_traces` reads
them from the formats teams keep them in and maps every attribute name variant onto one vocabulary
(:mod:`rescue.traces.vocabulary`):

- ``otlp_json``: OTLP JSON as the OpenTelemetry Collector's file exporter writes it (one ``resourceSpans``
  document per line), with OpenTelemetry GenAI spans in the current or older names, OpenInference or
  OpenLLMetry attributes (:mod:`rescue.traces.otlp`);
- ``langfuse``: a Langfuse export, from the public API or the blob storage export (:mod:`rescue.traces.langfuse`);
- ``phoenix``: an Arize Phoenix span dataframe saved as Parquet, CSV or JSON lines (:mod:`rescue.traces.phoenix`).

A row is an LLM call (a generation span): its trace, span and parent ids, session, start and end (UTC),
latency, operation, provider, model, input and output text, tokens, status and error class, destination
(``server.address``/``server.port``) and the app that made it (``service.name``); :data:`COLUMNS`.
A :class:`TraceReadReport` says what was read and what was not: lines skipped and why (a truncated last
line is skipped and reported, never raised), spans that are not LLM calls, calls without a parent span
or whose parent is not in the file, and the attribute names the vocabulary does not know, by name.

    >>> frame, report = read_traces_with_report(Path("traces.jsonl"))   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rescue.errors import SourceUnavailable

from . import langfuse, otlp, phoenix
from .frame import COLUMNS, SkippedLine, TraceReadReport, cyclic_gc_paused, first_text
from .generate import generate_otlp

__all__ = [
    "COLUMNS",
    "FORMATS",
    "SkippedLine",
    "TraceReadReport",
    "detect_format",
    "generate_otlp",
    "read_traces",
    "read_traces_with_report",
]

_READERS: dict[str, Callable[[Path, TraceReadReport], pd.DataFrame]] = {
    otlp.FORMAT: otlp.read,
    langfuse.FORMAT: langfuse.read,
    phoenix.FORMAT: phoenix.read,
}
FORMATS: tuple[str, ...] = tuple(_READERS)
"""The trace formats :func:`read_traces` reads (and ``"auto"`` tells apart)."""

# the order matters: an OTLP file also says "traceId", a Phoenix JSON export never says "resourceSpans"
_SNIFFERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (otlp.FORMAT, otlp.sniff),
    (phoenix.FORMAT, phoenix.sniff),
    (langfuse.FORMAT, langfuse.sniff),
)


def detect_format(path: Path) -> str:
    """The format of a trace file, from its content (not its name)."""
    path = Path(path)
    _check_readable(path)
    if phoenix.is_parquet(path):
        return phoenix.FORMAT
    head = first_text(path)
    for name, sniff in _SNIFFERS:
        if sniff(head):
            return name
    raise SourceUnavailable(
        str(path),
        "format",
        f"not a trace export rescue reads: found neither OTLP JSON (resourceSpans), a Phoenix span dataframe "
        f"(context.span_id) nor a Langfuse export (observations); say which with format= one of {', '.join(FORMATS)}",
    )


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise SourceUnavailable(str(path), "missing_file", f"no trace file at {path}")


def read_traces_with_report(path: Path, format: str = "auto") -> tuple[pd.DataFrame, TraceReadReport]:
    """The LLM calls in a trace file, one row each (:data:`COLUMNS`), and the report of the read.

    ``format`` is one of :data:`FORMATS`, or ``"auto"`` to tell it from the content. Raises
    :class:`~rescue.errors.SourceUnavailable` when the file is missing or is not a trace export.
    """
    path = Path(path)
    _check_readable(path)
    if format == "auto":
        format = detect_format(path)
    reader = _READERS.get(format)
    if reader is None:
        raise SourceUnavailable(
            str(path),
            "format",
            f"unknown trace format {format!r}; expected auto or one of {', '.join(FORMATS)}",
        )
    report = TraceReadReport(path=str(path), format=format)
    with cyclic_gc_paused():
        frame = reader(path, report)
    return frame, report


def read_traces(path: Path, format: str = "auto") -> pd.DataFrame:
    """The LLM calls in a trace file, one row each (:data:`COLUMNS`); see :func:`read_traces_with_report`."""
    return read_traces_with_report(path, format)[0]
