"""Read an Arize Phoenix span dataframe, saved as Parquet, CSV, JSON lines or a JSON array of records.

Phoenix's ``get_spans_dataframe()`` (and ``query_spans()``, and the dataframe of a saved ``TraceDataset``)
has one row per span with the columns ``context.span_id``, ``context.trace_id``, ``parent_id`` (empty for a
root span), ``name``, ``span_kind`` (the OpenInference kind: ``LLM``, ``CHAIN``, ``RETRIEVER``, ...),
``start_time``, ``end_time``, ``status_code`` (``OK``, ``ERROR``, ``UNSET``), ``status_message``, ``events``
and one ``attributes.<name>`` column per OpenInference attribute (``attributes.llm.model_name``,
``attributes.input.value``, ``attributes.llm.token_count.prompt``, ``attributes.llm.input_messages`` as a
list of messages, ...). The attribute columns are read through the vocabulary as the span's attributes;
a column holding a dict under a name the vocabulary does not know is read as the names under it. In CSV
the lists and dicts are JSON (or Python literals, as ``DataFrame.to_csv`` writes them); timestamps are
ISO 8601 texts, datetimes or epoch numbers (``DataFrame.to_json`` writes milliseconds).

Parquet is read in record batches, CSV and JSON lines a row at a time, so the file's size does not
matter; a truncated last row or line is skipped and reported. Only a JSON array is read whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from rescue.errors import SourceUnavailable

from . import vocabulary
from .frame import FrameBuilder, TraceReadReport, iter_json_lines, missing, open_binary, timestamp_ns

FORMAT = "phoenix"
BATCH_ROWS = 10_000
_PARQUET_MAGIC = b"PAR1"
_CSV_FIELD_LIMIT = 2**31 - 1  # a prompt can be longer than the csv module's default 128 KiB field


def sniff(head: str) -> bool:
    """Whether the start of a file (text) looks like a Phoenix span dataframe."""
    return "context.span_id" in head


def is_parquet(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(4) == _PARQUET_MAGIC


def _parquet_rows(path: Path, report: TraceReadReport) -> Iterator[tuple[int, dict]]:
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        for row in batch.to_pylist():
            number += 1
            report.lines_read += 1
            yield number, row


def _ends_with_line_end(path: Path) -> bool:
    if path.suffix == ".gz":
        return True  # not known without reading it all; a cut row then shows as a short row
    with path.open("rb") as stream:
        stream.seek(0, io.SEEK_END)
        if stream.tell() == 0:
            return True
        stream.seek(-1, io.SEEK_END)
        return stream.read(1) in (b"\n", b"\r")


def _csv_rows(path: Path, report: TraceReadReport) -> Iterator[tuple[int, dict]]:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    complete = _ends_with_line_end(path)
    with (
        open_binary(path) as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text,
    ):
        reader = csv.reader(text)
        header = next(reader, None)
        if not header:
            return
        pending: tuple[int, list[str]] | None = None
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                report.skip(reader.line_num, f"unreadable CSV ({exc}): the rest of the file is skipped")
                pending = None
                break
            if pending is not None:
                yield from _csv_row(pending, header, report, last=False)
            pending = (reader.line_num, row)
        if pending is not None:
            yield from _csv_row(pending, header, report, last=not complete)


def _csv_row(
    pending: tuple[int, list[str]], header: list[str], report: TraceReadReport, last: bool
) -> Iterator[tuple[int, dict]]:
    number, row = pending
    if not any(cell.strip() for cell in row):
        return
    report.lines_read += 1
    if last:
        report.skip(number, "truncated last line (no line end: the file was cut or is still being written)")
    elif len(row) != len(header):
        report.skip(number, f"{len(row)} fields where the header has {len(header)}")
    else:
        yield number, dict(zip(header, row, strict=True))


def _json_rows(path: Path, report: TraceReadReport) -> Iterator[tuple[int, dict]]:
    with open_binary(path) as stream:
        first = stream.read(1024).lstrip()
    if first.startswith(b"["):
        with open_binary(path) as stream:
            try:
                records = json.load(stream)
            except ValueError as exc:
                raise SourceUnavailable(
                    str(path),
                    "format",
                    f"not a JSON array of span records ({exc}); save the dataframe as "
                    "JSON lines (to_json(orient='records', lines=True)) to read all but a cut last line",
                ) from exc
        for number, record in enumerate(records if isinstance(records, list) else [], start=1):
            report.lines_read += 1
            yield number, record
        return
    yield from iter_json_lines(path, report)


def _rows(path: Path, report: TraceReadReport) -> Iterator[tuple[int, Any]]:
    if is_parquet(path):
        return _parquet_rows(path, report)
    with open_binary(path) as stream:
        first = stream.read(1024).lstrip()
    if first.startswith((b"{", b"[")):
        return _json_rows(path, report)
    return _csv_rows(path, report)


def read(path: Path, report: TraceReadReport) -> pd.DataFrame:
    """The LLM spans of a Phoenix span dataframe, one row each; ``report`` is filled in as it goes."""
    builder = FrameBuilder(FORMAT)
    for number, row in _rows(path, report):
        if not isinstance(row, dict):
            report.skip(number, "not a span record (not a JSON object)", span=True)
            continue
        try:
            _read_row(row, builder, report)
        except (AttributeError, KeyError, TypeError) as exc:
            report.skip(number, f"malformed span record ({type(exc).__name__}: {exc}): skipped", span=True)
    return builder.finish(report)


def _id(value: Any) -> str | None:
    return None if missing(value) else str(value)


def _put(attributes: dict[str, Any], name: str, value: Any) -> None:
    if isinstance(value, dict) and not vocabulary.is_known(name):
        for key, inner in value.items():
            if not missing(inner):
                _put(attributes, f"{name}.{key}", inner)
    else:
        attributes[name] = value


def _events(value: Any) -> list[tuple[str, dict]]:
    value = vocabulary.decoded(value)
    if not isinstance(value, list):
        return []
    events = []
    for event in value:
        if isinstance(event, dict):
            attributes = vocabulary.decoded(event.get("attributes"))
            events.append((str(event.get("name") or ""), attributes if isinstance(attributes, dict) else {}))
    return events


def _read_row(row: dict, builder: FrameBuilder, report: TraceReadReport) -> None:
    report.spans_read += 1
    attributes: dict[str, Any] = {}
    for column, value in row.items():
        if column.startswith("attributes.") and not missing(value):
            _put(attributes, column[len("attributes.") :], value)
        elif column == "attributes" and isinstance(vocabulary.decoded(value), dict):
            for name, inner in vocabulary.decoded(value).items():
                if not missing(inner):
                    _put(attributes, name, inner)
    kind = row.get("span_kind")
    if not missing(kind):
        attributes.setdefault("openinference.span.kind", kind)
    found = vocabulary.map_attributes(attributes, _events(row.get("events")))
    trace_id = _id(row.get("context.trace_id", row.get("trace_id")))
    span_id = _id(row.get("context.span_id", row.get("span_id")))
    status = row.get("status_code")
    builder.add_span(
        found, report, trace_id=trace_id, span_id=span_id, parent_id=_id(row.get("parent_id")),
        start_ns=timestamp_ns(row.get("start_time")), end_ns=timestamp_ns(row.get("end_time")),
        error=isinstance(status, str) and status.strip().upper() == "ERROR",
    )  # fmt: skip
