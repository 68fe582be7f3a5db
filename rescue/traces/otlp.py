"""Read OTLP JSON traces as the OpenTelemetry Collector's file exporter writes them.

The file exporter writes one ``ExportTraceServiceRequest`` per line, in the OTLP/JSON encoding:
``{"resourceSpans": [{"resource": {"attributes": [...]}, "scopeSpans": [{"scope": {...}, "spans": [...]}]}]}``.
A span has hex ``traceId``/``spanId``/``parentSpanId`` (empty or absent for a root span; base64, as
protobuf's own JSON mapping writes bytes, is read too), times as
``startTimeUnixNano``/``endTimeUnixNano`` (decimal strings of nanoseconds), ``attributes`` as a list of
``{"key", "value": {"stringValue" | "intValue" | "doubleValue" | "boolValue" | "arrayValue" | "kvlistValue"
| "bytesValue"}}`` (``intValue`` a string, as int64 is in OTLP/JSON), ``events`` (name, time, attributes)
and ``status.code`` (0 unset, 1 ok, 2 error). The older ``instrumentationLibrarySpans`` is read as
``scopeSpans``. The resource's ``service.name`` names the app that made the call.

The file is read a line at a time (a ``.gz`` file decompressed as it is read), so its size does not
matter; a line that is not JSON (a truncated last line) is skipped and reported. A file that is one
pretty-printed document rather than JSON lines is read whole when it is small enough.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from . import vocabulary
from .frame import FrameBuilder, TraceReadReport, iter_json_lines, open_binary

FORMAT = "otlp_json"
WHOLE_DOCUMENT_LIMIT = 64 * 1024 * 1024  # a file of no good lines up to this size is tried as one document
_ERROR_CODES = (2, "2", "STATUS_CODE_ERROR")
_OK_CODES = (1, "1", "STATUS_CODE_OK")
_IS_HEX = re.compile("[0-9a-fA-F]+").fullmatch


def sniff(head: str) -> bool:
    """Whether the start of a file looks like OTLP JSON."""
    return '"resourceSpans"' in head or '"resource_spans"' in head


def any_value(value: dict | None) -> Any:
    """The Python value of an OTLP/JSON ``AnyValue``."""
    if not value:
        return None
    text = value.get("stringValue")
    if text is not None:
        return text
    if "intValue" in value:
        number = value["intValue"]
        try:
            return int(number)
        except (TypeError, ValueError):
            return number
    if "doubleValue" in value:
        number = value["doubleValue"]
        try:
            return float(number)
        except (TypeError, ValueError):
            return number
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values") or ()]
    if "kvlistValue" in value:
        return key_values((value["kvlistValue"] or {}).get("values"))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def key_values(pairs: list | None) -> dict[str, Any]:
    """A list of OTLP/JSON ``KeyValue`` as a dict."""
    found = {}
    for pair in pairs or ():
        value = pair.get("value")
        text = value.get("stringValue") if value else None  # most values are strings: no call for them
        found[pair["key"]] = text if text is not None else any_value(value)
    return found


def hex_id(value: Any) -> str | None:
    """A trace or span id as lower-case hex: OTLP/JSON writes hex; a writer that follows protobuf's own JSON
    mapping writes the bytes as base64, which is turned into hex."""
    if not value or not isinstance(value, str):
        return None
    if len(value) in (16, 32) and _IS_HEX(value):
        return value.lower()
    if len(value) in (12, 24):
        try:
            return base64.b64decode(value, validate=True).hex()
        except (binascii.Error, ValueError):
            pass
    return value


def _nanos(value: Any) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _documents(path: Path, report: TraceReadReport) -> Iterator[tuple[int, Any]]:
    read_any = False
    for number, document in iter_json_lines(path, report):
        read_any = True
        yield number, document
    if not read_any and report.lines_skipped and path.stat().st_size <= WHOLE_DOCUMENT_LIMIT:
        with open_binary(path) as stream:
            try:
                document = json.load(stream)
            except ValueError:
                return
        report.lines_read, report.lines_skipped, report.skipped = 1, 0, []
        yield 1, document


def read(path: Path, report: TraceReadReport) -> pd.DataFrame:
    """The LLM calls in an OTLP JSON file, one row each; ``report`` is filled in as it goes."""
    builder = FrameBuilder(FORMAT)
    for number, document in _documents(path, report):
        resource_spans = document.get("resourceSpans") if isinstance(document, dict) else None
        if resource_spans is None and isinstance(document, dict):
            resource_spans = document.get("resource_spans")
        if not isinstance(resource_spans, list):
            report.skip(number, "no resourceSpans in this JSON document")
            continue
        for resource_span in resource_spans:
            scopes = resource_span.get("scopeSpans") if isinstance(resource_span, dict) else None
            if scopes is None and isinstance(resource_span, dict):
                scopes = resource_span.get("instrumentationLibrarySpans")
            resource = resource_span.get("resource") if isinstance(resource_span, dict) else None
            attributes = resource.get("attributes") if isinstance(resource, dict) else None
            if not isinstance(scopes, list) or not isinstance(attributes, (list, type(None))):
                report.skip(
                    number, "malformed resourceSpans entry (no list of scopeSpans): skipped", span=True
                )
                continue
            try:
                service = key_values(attributes).get("service.name")
            except (AttributeError, KeyError, TypeError):
                service = None
            for scope in scopes:
                spans = scope.get("spans") if isinstance(scope, dict) else None
                for span in spans if isinstance(spans, list) else ():
                    try:
                        _read_span(span, service, builder, report)
                    except (AttributeError, KeyError, TypeError) as exc:
                        report.skip(
                            number, f"malformed span ({type(exc).__name__}: {exc}): skipped", span=True
                        )
    return builder.finish(report)


def _read_span(span: dict, service: Any, builder: FrameBuilder, report: TraceReadReport) -> None:
    report.spans_read += 1
    trace_id = hex_id(span.get("traceId"))
    span_id = hex_id(span.get("spanId"))
    # values stay OTLP AnyValues: the vocabulary converts only those of the names it reads
    attributes = {pair["key"]: pair.get("value") for pair in span.get("attributes") or ()}
    events = [
        (event.get("name") or "", {pair["key"]: pair.get("value") for pair in event.get("attributes") or ()})
        for event in span.get("events") or ()
    ]
    found = vocabulary.map_attributes(attributes, events, any_value)
    code = (span.get("status") or {}).get("code")
    builder.add_span(
        found, report, trace_id=trace_id, span_id=span_id, parent_id=hex_id(span.get("parentSpanId")),
        start_ns=_nanos(span.get("startTimeUnixNano")), end_ns=_nanos(span.get("endTimeUnixNano")),
        error=code in _ERROR_CODES or (found.error_type is not None and code not in _OK_CODES),
        service_name=service if isinstance(service, str) else None,
    )  # fmt: skip
