"""What every trace reader shares: the row of an LLM call, the frame built from rows in chunks, the report
of what was read and skipped, JSON lines read one at a time, and timestamps.

A reader turns each LLM call it finds into a :class:`Call` and hands it to a :class:`FrameBuilder`, which
turns every :data:`CHUNK_ROWS` calls into a typed DataFrame chunk, so a 1 GB export never sits in memory as
Python objects. :meth:`FrameBuilder.finish` concatenates the chunks and does what needs the whole file:
a call with no session of its own takes the session of its trace (an agent span often carries the
conversation id, its LLM calls do not), and the calls whose parent is not in the file are counted.
"""

from __future__ import annotations

import gc
import gzip
import json
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
import pandas as pd

COLUMNS: tuple[str, ...] = (
    "trace_id",
    "span_id",
    "parent_id",
    "session_id",
    "start",
    "end",
    "latency_ms",
    "operation",
    "provider",
    "model",
    "input_text",
    "output_text",
    "tokens_in",
    "tokens_out",
    "status",
    "error_type",
    "server_address",
    "server_port",
    "service_name",
    "source_format",
    "attributes_unknown",
)
"""The columns of a frame of LLM calls, one row per call."""

_TEXT_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_id",
    "session_id",
    "operation",
    "provider",
    "model",
    "input_text",
    "output_text",
    "error_type",
    "server_address",
    "service_name",
)
_COUNT_COLUMNS = ("tokens_in", "tokens_out", "server_port")

CHUNK_ROWS = 50_000
MAX_SKIPS_KEPT = 100  # skipped lines beyond these are counted, not listed
_NAT = int(np.iinfo(np.int64).min)
_LAST = int(np.iinfo(np.int64).max)  # a time past 2262 (nanoseconds overflow) reads as no time


class Call(NamedTuple):
    """One LLM call as a reader found it (times in nanoseconds since the epoch, UTC)."""

    trace_id: str | None
    span_id: str | None
    parent_id: str | None
    session_id: str | None
    start_ns: int | None
    end_ns: int | None
    operation: str | None
    provider: str | None
    model: str | None
    input_text: str | None
    output_text: str | None
    tokens_in: int | None
    tokens_out: int | None
    error: bool
    error_type: str | None
    server_address: str | None
    server_port: int | None
    service_name: str | None
    attributes_unknown: int


@dataclass(frozen=True)
class SkippedLine:
    """A line (or a record in it) that was not read, and why."""

    line: int
    reason: str


@dataclass
class TraceReadReport:
    """What reading a trace file found: rows, skipped lines, spans that are not LLM calls, parentless
    calls and attribute names the vocabulary does not know."""

    path: str
    format: str
    rows: int = 0  # LLM calls read: the rows of the frame
    lines_read: int = 0  # non-empty lines (or records) read
    lines_skipped: int = 0
    skipped: list[SkippedLine] = field(default_factory=list)  # the first MAX_SKIPS_KEPT, with reasons
    spans_read: int = 0  # every span (observation) seen, LLM call or not
    spans_skipped: int = 0  # spans too malformed to read (listed in ``skipped`` too)
    not_llm_calls: Counter[str] = field(
        default_factory=Counter
    )  # spans that are not LLM calls, by what they are
    without_parent: int = 0  # LLM calls with no parent span
    orphans: int = 0  # LLM calls whose parent span is not in the file
    unknown_attributes: Counter[str] = field(default_factory=Counter)  # on LLM calls, by name

    def skip(self, line: int, reason: str, *, span: bool = False) -> None:
        """Record a skipped line (or, with ``span``, one skipped span of a line that was read)."""
        if span:
            self.spans_skipped += 1
        else:
            self.lines_skipped += 1
        if len(self.skipped) < MAX_SKIPS_KEPT:
            self.skipped.append(SkippedLine(line, reason))

    @property
    def spans_not_llm(self) -> int:
        return sum(self.not_llm_calls.values())

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data (counters sorted by count, then name)."""
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "lines_read": self.lines_read,
            "lines_skipped": self.lines_skipped,
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "spans_read": self.spans_read,
            "spans_skipped": self.spans_skipped,
            "not_llm_calls": dict(sorted(self.not_llm_calls.items(), key=lambda kv: (-kv[1], kv[0]))),
            "without_parent": self.without_parent,
            "orphans": self.orphans,
            "unknown_attributes": dict(
                sorted(self.unknown_attributes.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
        }

    def summary(self) -> str:
        """A few lines for a person."""
        lines = [
            f"{self.path} ({self.format}): LLM calls {self.rows}, spans read {self.spans_read}, "
            f"not LLM calls {self.spans_not_llm}",
            f"  calls without a parent span {self.without_parent}, whose parent is not in the file {self.orphans}",
        ]
        if self.lines_skipped or self.spans_skipped:
            lines.append(f"  skipped: lines {self.lines_skipped}, spans {self.spans_skipped}")
            lines += [f"    line {s.line}: {s.reason}" for s in self.skipped[:5]]
        if self.unknown_attributes:
            top = ", ".join(f"{name} ({n})" for name, n in self.unknown_attributes.most_common(5))
            lines.append(f"  unknown attribute names {len(self.unknown_attributes)}: {top}")
        return "\n".join(lines)


def _ns_column(values: tuple) -> pd.DatetimeIndex:
    raw = np.array([v if v is not None and _NAT < v <= _LAST else _NAT for v in values], dtype=np.int64)
    return pd.DatetimeIndex(raw.view("datetime64[ns]")).tz_localize("UTC")


def _chunk(rows: list[Call], source_format: str) -> pd.DataFrame:
    columns = dict(zip(Call._fields, zip(*rows, strict=True), strict=True)) if rows else {}

    def values(name: str) -> tuple:
        return columns.get(name, ())

    start = _ns_column(values("start_ns"))
    end = _ns_column(values("end_ns"))
    start_raw = start.asi8
    end_raw = end.asi8
    both = (start_raw != _NAT) & (end_raw != _NAT) & (end_raw >= start_raw)
    latency = np.where(both, (end_raw - start_raw) / 1e6, np.nan)
    data: dict[str, Any] = {}
    for name in COLUMNS:
        if name in _TEXT_COLUMNS:
            data[name] = pd.array(list(values(name)), dtype="string")
        elif name in _COUNT_COLUMNS:
            data[name] = pd.array(list(values(name)), dtype="Int64")
        elif name == "start":
            data[name] = start
        elif name == "end":
            data[name] = end
        elif name == "latency_ms":
            data[name] = latency
        elif name == "status":
            data[name] = pd.array(["error" if e else "ok" for e in values("error")], dtype="string")
        elif name == "source_format":
            data[name] = pd.array([source_format] * len(rows), dtype="string")
        elif name == "attributes_unknown":
            data[name] = np.array(values("attributes_unknown"), dtype=np.int64)
    return pd.DataFrame(data, columns=list(COLUMNS))


class FrameBuilder:
    """Collects the calls of one file into a frame, :data:`CHUNK_ROWS` rows at a time."""

    def __init__(self, source_format: str, chunk_rows: int | None = None):
        self.source_format = source_format
        self.chunk_rows = chunk_rows or CHUNK_ROWS
        self._rows: list[Call] = []
        self._chunks: list[pd.DataFrame] = []
        self.trace_sessions: dict[str, str] = {}  # trace id -> the first session id seen on any of its spans
        self.span_ids: set[str] = set()  # every span seen, to tell orphans from calls whose parent was read
        self._parents: list[str | None] = []  # the parent id of every call added, in order

    def see_span(self, trace_id: str | None, span_id: str | None, session_id: str | None) -> None:
        """Note a span (an LLM call or not): its id, and its session for the other spans of its trace."""
        if span_id:
            self.span_ids.add(span_id)
        if session_id and trace_id and trace_id not in self.trace_sessions:
            self.trace_sessions[trace_id] = session_id

    def add_span(self, found: Any, report: TraceReadReport, *, trace_id: str | None, span_id: str | None,
                 parent_id: str | None, start_ns: int | None, end_ns: int | None, error: bool,
                 service_name: str | None = None) -> None:  # fmt: skip
        """One span whose attributes :func:`rescue.traces.vocabulary.map_attributes` mapped (``found``): noted,
        counted as not an LLM call or added as one, its unknown attribute names counted."""
        self.see_span(trace_id, span_id, found.session_id)
        not_llm = found.not_llm_call()
        if not_llm is not None:
            report.not_llm_calls[not_llm] += 1
            return
        for name in found.unknown:
            report.unknown_attributes[name] += 1
        self.add(Call(
            trace_id=trace_id, span_id=span_id, parent_id=parent_id, session_id=found.session_id,
            start_ns=start_ns, end_ns=end_ns, operation=found.operation, provider=found.provider, model=found.model,
            input_text=found.input_text, output_text=found.output_text, tokens_in=found.tokens_in,
            tokens_out=found.tokens_out, error=error, error_type=found.error_type,
            server_address=found.server_address, server_port=found.server_port, service_name=service_name,
            attributes_unknown=len(found.unknown),
        ))  # fmt: skip

    def add(self, call: Call) -> None:
        self._rows.append(call)
        self._parents.append(call.parent_id)
        if len(self._rows) >= self.chunk_rows:
            self._chunks.append(_chunk(self._rows, self.source_format))
            self._rows = []

    def finish(self, report: TraceReadReport) -> pd.DataFrame:
        """The frame of every call added; fills in sessions from the trace and counts parentless calls."""
        if self._rows or not self._chunks:
            self._chunks.append(_chunk(self._rows, self.source_format))
            self._rows = []
        frame = self._chunks[0] if len(self._chunks) == 1 else pd.concat(self._chunks, ignore_index=True)
        self._chunks = []
        missing = frame["session_id"].isna()
        if missing.any() and self.trace_sessions:
            filled = frame.loc[missing, "trace_id"].map(self.trace_sessions)
            frame.loc[missing, "session_id"] = filled.astype("string")
        report.rows = len(frame)
        report.without_parent = sum(1 for parent in self._parents if not parent)
        report.orphans = sum(1 for parent in self._parents if parent and parent not in self.span_ids)
        return frame


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is read.

    Parsing a large JSON line allocates tens of thousands of dicts that stay alive until the line is read,
    and the collector walks them again and again (a third of the reading time). Parsed JSON holds no
    reference cycles, so reference counting frees it all the same; the collector is resumed afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def empty_frame() -> pd.DataFrame:
    """A frame with no calls and the columns and dtypes of one that has some."""
    return _chunk([], "")


# --- input -----------------------------------------------------------------------------------------


def open_binary(path: Path) -> IO[bytes]:
    """The file for reading bytes; a ``.gz`` file decompressed as it is read."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def iter_json_lines(path: Path, report: TraceReadReport) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed JSON)`` for every line of a JSON lines file, one line in memory at a time.

    Blank lines are passed over. A line that is not JSON is skipped and reported, never raised: a last line
    with no line end is reported as truncated (the file was cut, or is still being written).
    """
    with open_binary(path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line or line.isspace():  # as ``not line.strip()``, without copying a line of megabytes
                continue
            report.lines_read += 1
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                if not line.endswith(b"\n"):
                    report.skip(
                        number,
                        "truncated last line (no line end: the file was cut or is still being written)",
                    )
                else:
                    where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
                    report.skip(number, f"not valid JSON{where}")


def first_text(path: Path, size: int = 1 << 20) -> str:
    """The first ``size`` bytes of a file as text (for telling formats apart)."""
    with open_binary(path) as stream:
        return stream.read(size).decode("utf-8", errors="replace")


# --- values ----------------------------------------------------------------------------------------


def missing(value: Any) -> bool:
    """Whether a value from a dataframe export stands for nothing: None, NaN, NaT, NA or an empty text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return False


def _epoch_ns(number: float) -> int:
    magnitude = abs(number)
    if magnitude >= 1e17:
        return int(number)
    if magnitude >= 1e14:
        return int(number * 1_000)
    if magnitude >= 1e11:
        return int(number * 1_000_000)
    return int(number * 1_000_000_000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_ns(value: Any) -> int | None:
    """Nanoseconds since the epoch from a timestamp as exports write it: a datetime (naive means UTC), an
    ISO 8601 text (``2024-05-29T13:46:19.963Z``, ``2024-05-29 13:46:19.963000``) or epoch seconds,
    milliseconds, microseconds or nanoseconds (told apart by size). None when it is none of these."""
    if missing(value) or isinstance(value, bool):
        return None
    if isinstance(value, pd.Timestamp):
        stamp = value if value.tzinfo is not None else value.tz_localize("UTC")
        return int(stamp.value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        delta = moment - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    if isinstance(value, (int, np.integer)):
        return _epoch_ns_int(int(value))
    if isinstance(value, (float, np.floating)):
        return _epoch_ns(float(value))
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return _epoch_ns_int(int(text))
        try:
            return timestamp_ns(datetime.fromisoformat(text))
        except ValueError:
            try:
                return timestamp_ns(pd.Timestamp(text))
            except (ValueError, TypeError):
                return None
    return None


def _epoch_ns_int(number: int) -> int:
    magnitude = abs(number)
    if magnitude >= 10**17:
        return number
    if magnitude >= 10**14:
        return number * 1_000
    if magnitude >= 10**11:
        return number * 1_000_000
    return number * 1_000_000_000
