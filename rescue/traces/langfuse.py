"""Read a Langfuse export: traces and observations as the Langfuse public API and its exports write them.

Two shapes are read, as Langfuse documents them:

- **Public API JSON** (camelCase): ``GET /api/public/traces/{id}`` (a trace with its ``observations``),
  ``GET /api/public/traces`` and ``GET /api/public/observations`` (``{"data": [...], "meta": {...}}``).
  An observation has ``id``, ``traceId``, ``type`` (``GENERATION``, ``SPAN``, ``EVENT``, ``AGENT``, ``TOOL``,
  ...), ``parentObservationId``, ``startTime``/``endTime`` (ISO 8601), ``model``, ``input``/``output`` (any
  JSON: a text, a list of chat messages, an object), ``usageDetails`` (``{"input", "output", "total", ...}``;
  the deprecated ``usage`` too), ``level`` (``DEBUG``, ``DEFAULT``, ``WARNING``, ``ERROR``) and
  ``statusMessage``; the trace carries ``sessionId``.
- **Blob storage export** (snake_case, JSON or JSON lines): enriched observations (``observations_v2/``,
  with the trace's ``session_id`` on every row), or the legacy ``traces/`` and ``observations/`` files;
  timestamps ``2024-05-29 13:46:19.963000`` in UTC, ``provided_model_name``, ``usage_details``, an empty
  ``parent_observation_id`` for a root observation.

A ``GENERATION`` observation is an LLM call; every other type is counted as not one. ``level`` ``ERROR``
makes the call an error; Langfuse gives no error class, so ``error_type`` stays empty (``statusMessage`` is
free text). Langfuse names no provider or destination; when the observation's ``metadata`` (or its
``metadata.attributes``, where Langfuse keeps OpenTelemetry span attributes) holds names of the vocabulary,
they fill the fields Langfuse itself leaves empty, and ``metadata.resourceAttributes`` names the service. The fields of an observation outside the documented ones
count as unknown attributes.

A file whose first line is a whole JSON value is read as JSON lines, one line at a time (a truncated last
line is skipped and reported); otherwise it is one JSON document, read whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from rescue.errors import SourceUnavailable

from . import vocabulary
from .frame import Call, FrameBuilder, TraceReadReport, iter_json_lines, open_binary, timestamp_ns

FORMAT = "langfuse"

OBSERVATION_FIELDS = frozenset(
    {
        # public API (Observation, ObservationsView, ObservationV2)
        "id", "traceId", "type", "name", "startTime", "endTime", "completionStartTime", "model",
        "modelParameters", "input", "output", "version", "metadata", "usage", "usageDetails", "costDetails",
        "level", "statusMessage", "parentObservationId", "promptId", "promptName", "promptVersion", "modelId",
        "inputPrice", "outputPrice", "totalPrice", "calculatedInputCost", "calculatedOutputCost",
        "calculatedTotalCost", "latency", "timeToFirstToken", "environment", "projectId", "createdAt",
        "updatedAt", "sessionId", "userId", "isRootObservation", "providedModelName", "internalModelId",
        "totalCost", "bookmarked", "public", "tags", "release", "traceName", "unit",
        # blob storage export (enriched and legacy observations)
        "trace_id", "project_id", "parent_observation_id", "start_time", "end_time", "status_message",
        "provided_model_name", "model_parameters", "usage_details", "cost_details", "completion_start_time",
        "prompt_name", "prompt_version", "prompt_id", "total_cost", "time_to_first_token", "model_id",
        "created_at", "updated_at", "tool_calls", "tool_call_names", "tool_definitions",
        "usage_pricing_tier_id", "usage_pricing_tier_name", "input_price", "output_price", "total_price",
        "user_id", "session_id", "trace_name",
    }
)  # fmt: skip
"""The observation fields Langfuse documents; any other counts as an unknown attribute."""

_TOKENS_IN = ("input", "prompt_tokens", "promptTokens", "input_tokens")
_TOKENS_OUT = ("output", "completion_tokens", "completionTokens", "output_tokens")


def sniff(head: str) -> bool:
    """Whether the start of a file looks like a Langfuse export."""
    marks = ('"parentObservationId"', '"parent_observation_id"', '"observations"', '"usageDetails"')
    marks += ('"usage_details"', '"provided_model_name"', '"GENERATION"', '"sessionId"', '"traceId"')
    return any(mark in head for mark in marks)


def _records(path: Path, report: TraceReadReport) -> Iterator[tuple[int, Any]]:
    with open_binary(path) as stream:
        first = b""
        for line in stream:
            if line.strip():
                first = line
                break
    try:
        json.loads(first)
        as_lines = True
    except ValueError:
        as_lines = False
    if as_lines:
        yield from iter_json_lines(path, report)
        return
    with open_binary(path) as stream:
        try:
            document = json.load(stream)
        except ValueError as exc:
            raise SourceUnavailable(
                str(path),
                "format",
                f"not a JSON document or JSON lines ({exc}); a truncated JSON document "
                "cannot be read: export JSON lines (JSONL) to read all but a cut last line",
            ) from exc
    report.lines_read = 1
    yield 1, document


def _items(document: Any) -> list:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return document["data"]
    return [document]


def _first(record: dict, *names: str) -> Any:
    for name in names:
        value = record.get(name)
        if value is not None and value != "":
            return value
    return None


def _text(record: dict, *names: str) -> str | None:
    value = _first(record, *names)
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _is_trace(record: dict) -> bool:
    return "observations" in record or ("type" not in record and "timestamp" in record)


def read(path: Path, report: TraceReadReport) -> pd.DataFrame:
    """The generations of a Langfuse export, one row each; ``report`` is filled in as it goes."""
    builder = FrameBuilder(FORMAT)
    for number, document in _records(path, report):
        for record in _items(document):
            if not isinstance(record, dict):
                report.skip(number, "not a Langfuse trace or observation (not a JSON object)", span=True)
                continue
            if _is_trace(record):
                trace_id = _text(record, "id")
                builder.see_span(trace_id, None, _text(record, "sessionId", "session_id"))
                for observation in record.get("observations") or ():
                    if isinstance(observation, dict):  # the list endpoint gives observation ids only
                        _read_observation(observation, trace_id, builder, report)
            else:
                _read_observation(record, None, builder, report)
    return builder.finish(report)


def _metadata_fields(metadata: Any) -> tuple[vocabulary.SpanFields, str | None]:
    """The vocabulary's fields in an observation's metadata, and the service named in its resource attributes."""
    metadata = vocabulary.decoded(metadata)
    if not isinstance(metadata, dict):
        return vocabulary.SpanFields(), None
    names = {k: v for k, v in metadata.items() if vocabulary.alias_of(k) is not None}
    attributes = metadata.get("attributes")
    if isinstance(attributes, dict):
        names.update({k: v for k, v in attributes.items() if vocabulary.alias_of(k) is not None})
    resource = metadata.get("resourceAttributes")
    service = resource.get("service.name") if isinstance(resource, dict) else None
    fields = vocabulary.map_attributes(names) if names else vocabulary.SpanFields()
    return fields, service if isinstance(service, str) else None


def _count(usage: dict, names: tuple[str, ...]) -> int | None:
    for name in names:
        number = vocabulary.to_int(usage.get(name))
        if number is not None:
            return number
    return None


def _read_observation(
    observation: dict, trace_id: str | None, builder: FrameBuilder, report: TraceReadReport
) -> None:
    report.spans_read += 1
    trace_id = _text(observation, "traceId", "trace_id") or trace_id
    observation_id = _text(observation, "id")
    session_id = _text(observation, "sessionId", "session_id")
    builder.see_span(trace_id, observation_id, session_id)
    kind = str(_first(observation, "type") or "").upper()
    if kind != "GENERATION":
        report.not_llm_calls[kind.lower() or "no type"] += 1
        return
    unknown = [name for name in observation if name not in OBSERVATION_FIELDS]
    for name in unknown:
        report.unknown_attributes[name] += 1
    usage = vocabulary.decoded(_first(observation, "usageDetails", "usage_details", "usage"))
    usage = usage if isinstance(usage, dict) else {}
    extra, service = _metadata_fields(observation.get("metadata"))
    tokens_in = _count(usage, _TOKENS_IN)
    tokens_out = _count(usage, _TOKENS_OUT)
    builder.add(
        Call(
            trace_id=trace_id,
            span_id=observation_id,
            parent_id=_text(observation, "parentObservationId", "parent_observation_id"),
            session_id=session_id,
            start_ns=timestamp_ns(_first(observation, "startTime", "start_time")),
            end_ns=timestamp_ns(_first(observation, "endTime", "end_time")),
            operation=extra.operation,
            provider=extra.provider,
            model=_text(observation, "model", "providedModelName", "provided_model_name") or extra.model,
            input_text=vocabulary.input_text(observation.get("input")),
            output_text=vocabulary.output_text(observation.get("output")),
            tokens_in=tokens_in if tokens_in is not None else extra.tokens_in,
            tokens_out=tokens_out if tokens_out is not None else extra.tokens_out,
            error=str(_first(observation, "level") or "").upper() == "ERROR",
            error_type=extra.error_type,
            server_address=extra.server_address,
            server_port=extra.server_port,
            service_name=service,
            attributes_unknown=len(unknown),
        )
    )
