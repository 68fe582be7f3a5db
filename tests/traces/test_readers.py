"""Each trace reader on its recorded fixture, row by row; the quirks (missing and unknown attributes, spans
without a parent, a truncated last line); auto-detection; and the vocabulary on the shapes conventions write."""

from __future__ import annotations

import base64
import gzip
import json
import math
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rescue.errors import SourceUnavailable
from rescue.traces import COLUMNS, FORMATS, detect_format, read_traces, read_traces_with_report
from rescue.traces import frame as frame_module
from rescue.traces import vocabulary as vocab
from rescue.traces.frame import timestamp_ns

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"
OTLP = FIXTURES / "otlp" / "traces.jsonl"
LANGFUSE_API = FIXTURES / "langfuse" / "traces.json"
LANGFUSE_BLOB = FIXTURES / "langfuse" / "observations.jsonl"
PHOENIX_CSV = FIXTURES / "phoenix" / "spans.csv"
ALL_FIXTURES = [OTLP, LANGFUSE_API, LANGFUSE_BLOB, PHOENIX_CSV]

SHOWN = [
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
    "attributes_unknown",
]


def plain(value: Any) -> Any:
    """A frame's cell as plain Python: NA/NaN/NaT as None, timestamps as ISO texts."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def rows(frame: pd.DataFrame, columns: list[str] = SHOWN) -> list[dict[str, Any]]:
    return [{c: plain(frame[c].iloc[i]) for c in columns} for i in range(len(frame))]


def row(
    span_id: str,
    parent_id: str | None,
    session_id: str | None,
    start: str,
    end: str | None,
    latency_ms: float | None,
    operation: str | None,
    provider: str | None,
    model: str | None,
    input_text: str | None,
    output_text: str | None,
    tokens: tuple[int | None, int | None],
    status: str,
    error_type: str | None,
    server: tuple[str | None, int | None],
    service_name: str | None,
    attributes_unknown: int = 0,
) -> dict[str, Any]:
    return {
        "span_id": span_id,
        "parent_id": parent_id,
        "session_id": session_id,
        "start": start,
        "end": end,
        "latency_ms": latency_ms,
        "operation": operation,
        "provider": provider,
        "model": model,
        "input_text": input_text,
        "output_text": output_text,
        "tokens_in": tokens[0],
        "tokens_out": tokens[1],
        "status": status,
        "error_type": error_type,
        "server_address": server[0],
        "server_port": server[1],
        "service_name": service_name,
        "attributes_unknown": attributes_unknown,
    }


# --- the frame every reader returns ----------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.name)
def test_every_reader_returns_the_same_columns_and_types(path: Path) -> None:
    frame = read_traces(path)
    assert tuple(frame.columns) == COLUMNS
    assert str(frame["start"].dtype) == str(frame["end"].dtype) == "datetime64[ns, UTC]"
    assert {str(frame[c].dtype) for c in ("tokens_in", "tokens_out", "server_port")} == {"Int64"}
    assert frame["latency_ms"].dtype == "float64" and frame["attributes_unknown"].dtype == "int64"
    assert set(frame["status"]) <= {"ok", "error"}
    assert frame["source_format"].nunique() == 1


# --- OTLP JSON --------------------------------------------------------------------------------------

OTLP_ROWS = [
    # current OTel GenAI names; the conversation id is on the parent invoke_agent span only
    row("b1b1b1b1b1b1b1b1", "a1a1a1a1a1a1a1a1", "conv_0001", "2025-06-01T10:00:00.020000+00:00",
        "2025-06-01T10:00:00.870000+00:00", 850.0, "chat", "openai", "gpt-4o-mini-2024-07-18",
        "What do patients report about sertraline for anxiety?",
        "Most reviews mention nausea in the first two weeks, then relief.", (52, 31), "ok", None,
        ("eu.example-llm.com", 443), "drug-answers-api"),
    # v1.36-or-earlier names: gen_ai.system (az.ai.openai renamed), prompt/completion tokens, message events
    row("b2b2b2b2b2b2b2b2", None, "conv_0002", "2025-06-01T10:00:01+00:00", "2025-06-01T10:00:02.200000+00:00",
        1200.0, "chat", "azure.ai.openai", "gpt-4o", "Is it safe with ibuprofen?",
        "Reviews do not say; ask a pharmacist.", (40, 12), "ok", None, ("api.us-east.example-llm.com", 443),
        "drug-answers-api"),
    # no operation name, the prompt on a gen_ai.content.prompt event, status 2 with error.type
    row("b3b3b3b3b3b3b3b3", "a3a3a3a3a3a3a3a3", "conv_0003", "2025-06-01T10:00:03.010000+00:00",
        "2025-06-01T10:00:03.130000+00:00", 120.0, None, "openai", "gpt-4o-mini", "Can I take sertraline at night?",
        None, (None, None), "error", "rate_limited", (None, None), "drug-answers-api"),
    # OpenInference: flattened messages (the user's as message_contents), int values written as JSON numbers
    row("e4e4e4e4e4e4e4e4", "c4c4c4c4c4c4c4c4", "sess-oi-1", "2025-06-01T10:00:05.100000+00:00",
        "2025-06-01T10:00:06.450000+00:00", 1350.0, None, "anthropic", "claude-3-5-haiku",
        "Which reviews mention dizziness?", "Three reviews mention dizziness when standing up.", (120, 45), "ok",
        None, (None, None), "rag-chain"),
    # OpenLLMetry: indexed prompt/completion, llm.usage.prompt_tokens, the destination from api_base
    row("a5a5a5a5a5a5a5a5", "f5f5f5f5f5f5f5f5", "tl-session-9", "2025-06-01T10:00:07.100000+00:00",
        "2025-06-01T10:00:07.900000+00:00", 800.0, "chat", "openai", "gpt-3.5-turbo-0125",
        "How fast does metformin work?", "Most reviewers noticed a change within two weeks.", (33, 18), "ok", None,
        ("api.us-east.example-llm.com", None), "traceloop-app"),
    # missing attributes: a model and nothing else, no end time; its parent is not in the file
    row("b6b6b6b6b6b6b6b6", "ffffffffffff0001", None, "2025-06-01T10:00:09+00:00", None, None, None, None,
        "llama-3.1-8b-instruct", None, None, (None, None), "ok", None, (None, None), "drug-answers-api"),
    # unknown names (a misspelt token count, a vendor's own names), an exception event, no parent
    row("b7b7b7b7b7b7b7b7", None, None, "2025-06-01T10:00:09.500000+00:00", "2025-06-01T10:00:09.800000+00:00",
        300.0, "chat", "mistral_ai", "mistral-small", None, None, (None, 7), "error", "httpx.ReadTimeout",
        ("eu.example-llm.com", None), "drug-answers-api", attributes_unknown=4),
]  # fmt: skip


def test_otlp_fixture_rows() -> None:
    frame = read_traces(OTLP, "otlp_json")
    assert rows(frame) == OTLP_ROWS
    assert set(frame["source_format"]) == {"otlp_json"}
    assert frame["trace_id"].iloc[0] == "5b8efff798038103d269b633813fc601"


def test_otlp_fixture_report() -> None:
    _, report = read_traces_with_report(OTLP)
    assert report.as_dict() == {
        "path": str(OTLP),
        "format": "otlp_json",
        "rows": 7,
        "lines_read": 7,
        "lines_skipped": 2,
        "skipped": [
            {"line": 7, "reason": "no resourceSpans in this JSON document"},
            {
                "line": 8,
                "reason": "truncated last line (no line end: the file was cut or is still being written)",
            },
        ],
        "spans_read": 14,
        "spans_skipped": 0,
        "not_llm_calls": {
            "invoke_agent": 2,
            "chain": 1,
            "embeddings": 1,
            "no GenAI attributes": 1,
            "retriever": 1,
            "workflow": 1,
        },
        "without_parent": 2,
        "orphans": 1,
        "unknown_attributes": {
            "acme.prompt.<i>.text": 2,
            "acme.llm.latency_bucket": 1,
            "gen_ai.usage.input_token": 1,
        },
    }
    assert report.spans_not_llm == 7
    summary = report.summary()
    assert (
        "LLM calls 7" in summary
        and "line 8: truncated last line" in summary
        and "acme.prompt.<i>.text (2)" in summary
    )


def test_the_frame_built_in_small_chunks_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = read_traces(OTLP)
    monkeypatch.setattr(frame_module, "CHUNK_ROWS", 2)
    chunked = read_traces(OTLP)
    assert rows(chunked) == OTLP_ROWS
    pd.testing.assert_frame_equal(chunked, whole)


def test_a_file_that_is_only_a_truncated_line_reads_as_no_calls(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text(OTLP.read_text().splitlines()[0][:500])
    frame, report = read_traces_with_report(path, "otlp_json")
    assert frame.empty and tuple(frame.columns) == COLUMNS
    assert (report.lines_read, report.lines_skipped, report.rows) == (1, 1, 0)
    assert report.skipped[0].reason.startswith("truncated last line")


def test_a_line_that_is_not_json_is_skipped_with_its_reason(tmp_path: Path) -> None:
    lines = OTLP.read_text().splitlines()
    path = tmp_path / "broken.jsonl"
    path.write_text(lines[0] + "\n" + "{not json\n" + lines[1] + "\n")
    frame, report = read_traces_with_report(path)
    assert list(frame["span_id"]) == ["b1b1b1b1b1b1b1b1", "b2b2b2b2b2b2b2b2", "b3b3b3b3b3b3b3b3"]
    assert [(s.line, s.reason) for s in report.skipped] == [(2, "not valid JSON at column 2")]


def test_blank_lines_of_any_whitespace_are_passed_over_uncounted(tmp_path: Path) -> None:
    lines = OTLP.read_text().splitlines()
    path = tmp_path / "blanks.jsonl"
    path.write_bytes(b"\n" + lines[0].encode() + b"\n \t\r\n\x0b\x0c\n" + lines[1].encode() + b"\n   ")
    frame, report = read_traces_with_report(path)
    assert list(frame["span_id"]) == ["b1b1b1b1b1b1b1b1", "b2b2b2b2b2b2b2b2", "b3b3b3b3b3b3b3b3"]
    assert (report.lines_read, report.lines_skipped) == (2, 0)


def test_a_malformed_span_is_skipped_and_the_rest_of_its_line_read(tmp_path: Path) -> None:
    document = json.loads(OTLP.read_text().splitlines()[0])
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.insert(
        0, {"traceId": "ab" * 16, "spanId": "cd" * 8, "attributes": [{"value": {"stringValue": "no key"}}]}
    )
    path = tmp_path / "malformed.jsonl"
    path.write_text(json.dumps(document) + "\n")
    frame, report = read_traces_with_report(path)
    assert list(frame["span_id"]) == ["b1b1b1b1b1b1b1b1"]
    assert report.spans_skipped == 1 and report.lines_skipped == 0
    assert report.skipped[0].line == 1 and report.skipped[0].reason.startswith("malformed span (KeyError")


def test_malformed_entries_and_impossible_times_are_not_a_crash(tmp_path: Path) -> None:
    document = json.loads(OTLP.read_text().splitlines()[0])
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["endTimeUnixNano"] = "9" * 25
    document["resourceSpans"] += ["not an entry", {"resource": {}, "scopeSpans": "not a list"}]
    document["resourceSpans"][0]["scopeSpans"].append(["not a scope"])
    path = tmp_path / "odd.jsonl"
    path.write_text(json.dumps(document) + "\n")
    frame, report = read_traces_with_report(path)
    assert list(frame["span_id"]) == ["b1b1b1b1b1b1b1b1"]
    assert frame["end"].isna().all() and frame["latency_ms"].isna().all()
    assert report.spans_skipped == 2 and report.lines_skipped == 0


def test_a_pretty_printed_document_and_a_gzipped_file_read_the_same(tmp_path: Path) -> None:
    first = json.loads(OTLP.read_text().splitlines()[0])
    pretty = tmp_path / "one.json"
    pretty.write_text(json.dumps(first, indent=2))
    frame, report = read_traces_with_report(pretty)
    assert rows(frame) == OTLP_ROWS[:1] and report.lines_skipped == 0
    packed = tmp_path / "traces.jsonl.gz"
    with OTLP.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    assert rows(read_traces(packed)) == OTLP_ROWS


def test_ids_written_as_base64_are_read_as_hex(tmp_path: Path) -> None:
    document = json.loads(OTLP.read_text().splitlines()[0])
    for span in document["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        for key in ("traceId", "spanId", "parentSpanId"):
            if span.get(key):
                span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    path = tmp_path / "base64.jsonl"
    path.write_text(json.dumps(document) + "\n")
    frame = read_traces(path)
    assert rows(frame) == OTLP_ROWS[:1]
    assert frame["trace_id"].iloc[0] == "5b8efff798038103d269b633813fc601"


def test_instrumentation_library_spans_of_old_exporters_are_read(tmp_path: Path) -> None:
    document = json.loads(OTLP.read_text().splitlines()[0])
    resource = document["resourceSpans"][0]
    resource["instrumentationLibrarySpans"] = resource.pop("scopeSpans")
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(document) + "\n")
    assert rows(read_traces(path)) == OTLP_ROWS[:1]


# --- Langfuse -------------------------------------------------------------------------------------

LANGFUSE_API_ROWS = [
    # provider and destination from the OpenTelemetry attributes Langfuse keeps in metadata
    row("lf-obs-2", "lf-obs-1", "lf-session-1", "2025-06-02T09:15:00.130000+00:00",
        "2025-06-02T09:15:01.380000+00:00", 1250.0, None, "openai", "gpt-4o-mini", "Does lisinopril cause a cough?",
        "Yes, a dry cough is the side effect reviews mention most.", (210, 48), "ok", None,
        ("eu.example-llm.com", 443), "drug-answers-api"),
    # level ERROR, a plain-text input, no output: the session comes from the trace
    row("lf-obs-4", None, "lf-session-1", "2025-06-02T09:16:30.010000+00:00", "2025-06-02T09:16:30.095000+00:00",
        85.0, None, None, "gpt-4o-mini", "Can I drink alcohol on metronidazole?", None, (None, None), "error", None,
        (None, None), None),
    # missing attributes (no end, model, usage, input, output), a field Langfuse does not document, an orphan
    row("lf-obs-5", "lf-obs-not-exported", "lf-session-1", "2025-06-02T09:16:31+00:00", None, None, None, None, None,
        None, None, (None, None), "ok", None, (None, None), None, attributes_unknown=1),
]  # fmt: skip

LANGFUSE_BLOB_ROWS = [
    row("blob-gen-1", None, "blob-session-1", "2025-06-03T08:00:00+00:00", "2025-06-03T08:00:00.640000+00:00", 640.0,
        None, None, "gpt-4.1-mini", "What do reviews say about sumatriptan for migraines?",
        "Most say it works within an hour.", (75, 20), "ok", None, (None, None), None),
    # an empty session_id on the row: the session of its trace (from the SPAN row)
    row("blob-gen-2", "blob-span-2", "blob-session-2", "2025-06-03T08:05:00.100000+00:00",
        "2025-06-03T08:05:01.900000+00:00", 1800.0, None, None, "gpt-4.1-mini", "Is naproxen ok with lisinopril?",
        None, (12, None), "error", None, (None, None), None),
]  # fmt: skip


def test_langfuse_public_api_export_rows_and_report() -> None:
    frame, report = read_traces_with_report(LANGFUSE_API, "langfuse")
    assert rows(frame) == LANGFUSE_API_ROWS
    assert frame["trace_id"].tolist() == ["lf-trace-1", "lf-trace-2", "lf-trace-2"]
    assert (report.rows, report.spans_read, report.lines_read, report.lines_skipped) == (3, 6, 1, 0)
    assert report.not_llm_calls == {"span": 1, "event": 1, "agent": 1}
    assert (report.without_parent, report.orphans) == (1, 1)
    assert report.unknown_attributes == {"acmeRoute": 1}


def test_langfuse_blob_storage_export_rows_and_truncated_last_line() -> None:
    frame, report = read_traces_with_report(LANGFUSE_BLOB)
    assert rows(frame) == LANGFUSE_BLOB_ROWS
    assert (report.rows, report.spans_read, report.lines_read, report.lines_skipped) == (2, 3, 4, 1)
    assert report.skipped[0].line == 4 and report.skipped[0].reason.startswith("truncated last line")
    assert report.not_llm_calls == {"span": 1} and not report.unknown_attributes


def test_langfuse_observations_list_reads_like_the_traces(tmp_path: Path) -> None:
    document = json.loads(LANGFUSE_API.read_text())
    observations = [o for trace in document["data"] for o in trace["observations"]]
    path = tmp_path / "observations.json"
    path.write_text(json.dumps({"data": observations, "meta": {"page": 1}}))
    frame = read_traces(path)
    # without the traces, no session is known
    assert [r["session_id"] for r in rows(frame)] == [None, None, None]
    assert [r["input_text"] for r in rows(frame)] == [r["input_text"] for r in LANGFUSE_API_ROWS]


def test_a_truncated_langfuse_json_document_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(LANGFUSE_API.read_text()[:2000])
    with pytest.raises(SourceUnavailable, match="truncated JSON document") as caught:
        read_traces(path, "langfuse")
    assert caught.value.kind == "format"


# --- Phoenix ----------------------------------------------------------------------------------------

PHOENIX_ROWS = [
    # messages as JSON lists; the session from the CHAIN root span of the trace
    row("9a1b2c3d4e5f6073", "9a1b2c3d4e5f6071", "px-session-1", "2025-06-04T14:00:00.100000+00:00",
        "2025-06-04T14:00:02.050000+00:00", 1950.0, None, "openai", "gpt-4o-mini",
        "What do patients say about escitalopram and sleep?", "Many mention vivid dreams and trouble sleeping at first.",
        (310, 42), "ok", None, (None, None), None),
    # status ERROR, the class from the exception event; no tokens, no output; an unknown attribute column
    row("7c8d9e0f1a2b3c41", None, None, "2025-06-04T14:05:00+00:00", "2025-06-04T14:05:30+00:00", 30000.0, None, None,
        "gpt-4o-mini", "Is 20mg of citalopram a lot?", None, (None, None), "error", "openai.APITimeoutError",
        (None, None), None, attributes_unknown=1),
    # messages as a Python literal (DataFrame.to_csv), token counts written as floats, no end; an orphan
    row("5e6f7a8b9c0d1e21", "ffffffffffffffff", "px-session-2", "2025-06-04T14:10:00+00:00", None, None, None,
        "anthropic", "claude-3-5-haiku", "Any reviews on gabapentin for nerve pain?",
        "Several reviews say it helped within a week.", (12, 30), "ok", None, (None, None), None),
]  # fmt: skip


def test_phoenix_csv_rows_and_report() -> None:
    frame, report = read_traces_with_report(PHOENIX_CSV, "phoenix")
    assert rows(frame) == PHOENIX_ROWS
    assert (report.rows, report.spans_read, report.lines_read, report.lines_skipped) == (3, 5, 6, 1)
    assert report.skipped[0].line == 7 and report.skipped[0].reason.startswith("truncated last line")
    assert report.not_llm_calls == {"chain": 1, "retriever": 1}
    assert (report.without_parent, report.orphans) == (1, 1)
    assert report.unknown_attributes == {"acme.tenant": 1}


def phoenix_dataframe() -> pd.DataFrame:
    """The fixture's complete rows as Phoenix holds them in memory: datetimes, numbers, lists and dicts."""
    frame = pd.read_csv(PHOENIX_CSV, dtype=str, keep_default_na=False, nrows=5)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
    for column in [c for c in frame.columns if "token_count" in c]:
        frame[column] = pd.to_numeric(frame[column].replace("", None))
    for column in ("events", "attributes.llm.input_messages", "attributes.llm.output_messages"):
        frame[column] = [vocab.decoded(v) if v else None for v in frame[column]]
    return frame.replace("", None)


def test_phoenix_parquet_written_from_the_csv_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "spans.parquet"
    phoenix_dataframe().to_parquet(path)
    assert detect_format(path) == "phoenix"
    frame, report = read_traces_with_report(path)
    assert rows(frame) == PHOENIX_ROWS
    assert (report.lines_read, report.lines_skipped, report.unknown_attributes) == (5, 0, {"acme.tenant": 1})


@pytest.mark.parametrize("lines", [True, False], ids=["json-lines", "json-array"])
def test_phoenix_json_written_from_the_csv_reads_the_same(tmp_path: Path, lines: bool) -> None:
    path = tmp_path / "spans.json"
    phoenix_dataframe().to_json(path, orient="records", lines=lines, date_format="iso")
    assert detect_format(path) == "phoenix"
    assert rows(read_traces(path)) == PHOENIX_ROWS


# --- auto-detection and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [(OTLP, "otlp_json"), (LANGFUSE_API, "langfuse"), (LANGFUSE_BLOB, "langfuse"), (PHOENIX_CSV, "phoenix")],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_auto_detection_from_content(path: Path, expected: str, tmp_path: Path) -> None:
    assert detect_format(path) == expected
    renamed = tmp_path / "export.data"  # the name says nothing
    shutil.copy(path, renamed)
    assert detect_format(renamed) == expected
    assert rows(read_traces(renamed)) == rows(read_traces(path, expected))


def test_formats_are_the_three_readers() -> None:
    assert FORMATS == ("otlp_json", "langfuse", "phoenix")


def test_unreadable_inputs_raise_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable) as missing:
        read_traces(tmp_path / "nothing.jsonl")
    assert missing.value.kind == "missing_file"
    other = tmp_path / "notes.txt"
    other.write_text("id,text\n1,hello\n")
    with pytest.raises(SourceUnavailable, match="not a trace export") as unknown:
        read_traces(other)
    assert unknown.value.kind == "format"
    with pytest.raises(SourceUnavailable, match="unknown trace format 'mlflow'"):
        read_traces(OTLP, "mlflow")


# --- the vocabulary ----------------------------------------------------------------------------------


def test_the_table_is_consistent() -> None:
    names = [alias.name for alias in vocab.ATTRIBUTES]
    assert len(names) == len(set(names))
    conventions = {
        vocab.OTEL_GENAI,
        vocab.OTEL_GENAI_OLD,
        vocab.OTEL,
        vocab.OTEL_OLD,
        vocab.OPENINFERENCE,
        vocab.OPENLLMETRY,
        vocab.LANGFUSE_OTEL,
        vocab.SDKS,
    }
    for alias in vocab.ATTRIBUTES:
        assert alias.convention in conventions, alias
        assert (alias.field in vocab.FIELDS and alias.parse in vocab.PARSERS) or (
            alias.field == alias.parse == ""
        )
    assert {alias.field for alias in vocab.ATTRIBUTES} - {""} == set(vocab.FIELDS)
    assert {f for _, _, f, _ in vocab.EVENTS} <= set(vocab.FIELDS)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"gen_ai.system": "openai", "gen_ai.provider.name": "anthropic"}, {"provider": "anthropic"}),
        (
            {"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06"},
            {"model": "gpt-4o-2024-08-06"},
        ),
        ({"gen_ai.usage.input_tokens": "not a number", "gen_ai.usage.prompt_tokens": 9}, {"tokens_in": 9}),
        ({"gen_ai.input.messages": "", "input.value": "the question"}, {"input_text": "the question"}),
        ({"gen_ai.system": "Az.AI.Inference"}, {"provider": "azure.ai.inference"}),
        ({"llm.request.type": "completion"}, {"operation": "text_completion"}),
        ({"gen_ai.conversation.id": "c1", "session.id": "s1"}, {"session_id": "c1"}),
        ({"llm.prompts.0": "Complete: the sky is"}, {"input_text": "Complete: the sky is"}),
        (
            {"net.peer.name": "old.example.com", "net.peer.port": "8443"},
            {"server_address": "old.example.com", "server_port": 8443},
        ),
    ],
)
def test_precedence_and_values(attributes: dict[str, Any], expected: dict[str, Any]) -> None:
    found = vocab.map_attributes(attributes)
    assert {name: getattr(found, name) for name in expected} == expected
    assert found.unknown == []


QUESTION = "What do reviews say about it?"


@pytest.mark.parametrize(
    "value",
    [
        QUESTION,
        [{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
         {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}],
        [{"role": "user", "content": "an earlier question"}, {"role": "assistant", "content": "an answer"},
         {"role": "user", "content": [{"type": "text", "text": QUESTION}, {"type": "image_url", "image_url": {}}]}],
        json.dumps({"messages": [{"role": "user", "content": QUESTION}], "model": "gpt-4o"}),
        str([{"message.role": "user", "message.content": QUESTION}]),
        [{"message": {"role": "user", "contents": [{"message_content": {"type": "text", "text": QUESTION}}]}}],
        {"role": "user", "content": QUESTION},
    ],
    ids=["text", "otel-parts", "openai-content-parts", "json-string", "python-literal", "openinference-nested", "one-message"],
)  # fmt: skip
def test_input_text_is_the_last_user_message(value: Any) -> None:
    assert vocab.input_text(value) == QUESTION


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"choices": [{"message": {"role": "assistant", "content": "first"}}, {"message": {"content": "second"}}]}, "first"),
        ([{"role": "assistant", "parts": [{"type": "text", "content": "a"}, {"type": "tool_call", "name": "f"}]}], "a"),
        ({"answer": 42}, '{"answer": 42}'),
        ("", None),
        (None, None),
    ],
)  # fmt: skip
def test_output_text_is_the_first_choice(value: Any, expected: str | None) -> None:
    assert vocab.output_text(value) == expected


@pytest.mark.parametrize(
    ("attributes", "verdict"),
    [
        ({"gen_ai.operation.name": "chat"}, None),
        ({"gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "gpt-4o"}, "invoke_agent"),
        ({"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "e5"}, "embeddings"),
        ({"openinference.span.kind": "LLM"}, None),
        ({"openinference.span.kind": "TOOL", "llm.model_name": "gpt-4o"}, "tool"),
        ({"traceloop.span.kind": "workflow"}, "workflow"),
        ({"langfuse.observation.type": "generation"}, None),
        ({"gen_ai.system": "openai"}, None),  # an old span: no operation name, a provider
        ({"gen_ai.operation.name": "responses", "gen_ai.request.model": "o3"}, None),  # a custom operation
        ({"http.request.method": "GET"}, "no GenAI attributes"),
    ],
)
def test_which_spans_are_llm_calls(attributes: dict[str, Any], verdict: str | None) -> None:
    assert vocab.map_attributes(attributes).not_llm_call() == verdict


def test_unknown_names_are_counted_with_indices_folded() -> None:
    found = vocab.map_attributes(
        {
            "gen_ai.usage.input_token": 1,
            "acme.items.0.text": "a",
            "acme.items.12.text": "b",
            "gen_ai.request.seed": 3,
        }
    )
    assert found.unknown == ["gen_ai.usage.input_token", "acme.items.<i>.text", "acme.items.<i>.text"]
    assert vocab.is_known("gen_ai.request.seed") and vocab.is_known("llm.input_messages.3.message.role")
    assert not vocab.is_known("gen_ai.usage.input_token")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-29T13:46:19.963Z", datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),
        ("2024-05-29 13:46:19.963000", datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),  # naive is UTC
        ("2024-05-29T15:46:19.963+02:00", datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),
        (1716990379963, datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),  # epoch milliseconds
        (1716990379.963, datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),  # epoch seconds
        ("1716990379963000000", datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),  # epoch nanoseconds
        (pd.Timestamp("2024-05-29 13:46:19.963"), datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),
        (datetime(2024, 5, 29, 13, 46, 19, 963000), datetime(2024, 5, 29, 13, 46, 19, 963000, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_timestamps_as_exports_write_them(value: Any, expected: datetime | None) -> None:
    ns = timestamp_ns(value)
    if expected is None:
        assert ns is None
    else:
        assert ns is not None and abs(ns - int(expected.timestamp() * 1e9)) < 1_000
