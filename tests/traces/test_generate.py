"""OTLP JSON generated from the real drug reviews, read back: the planted sessions, model switch, disallowed
region, errors, personal data, old and new names and parentless spans are there; same seed, same bytes."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rescue.pii import count_pii
from rescue.traces import generate, generate_otlp, read_traces_with_report

PROJECT = Path(__file__).resolve().parents[2] / "sample_data" / "drug-answers"
N_SPANS = 4000
SEED = 11


def review_texts() -> list[str]:
    """The review texts of the drug-answers sample project, from the source its rescue.yaml names."""
    spec = yaml.safe_load((PROJECT / "rescue.yaml").read_text())
    source = next(s for s in spec["sources"] if s["name"] == "reviews")
    assert source["kind"] == "sqlite"
    with sqlite3.connect(PROJECT / source["location"]) as db:
        query = f'SELECT "{source["text_column"]}" FROM "{source["table"]}" ORDER BY "{source["id_column"]}"'
        return [text for (text,) in db.execute(query)]


@pytest.fixture(scope="module")
def reviews() -> list[str]:
    texts = review_texts()
    assert len(texts) > 500
    return texts


@pytest.fixture(scope="module")
def generated(
    reviews: list[str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, pd.DataFrame, object]:
    path = generate_otlp(reviews, N_SPANS, SEED, tmp_path_factory.mktemp("traces") / "otlp.jsonl")
    frame, report = read_traces_with_report(path)
    return path, frame, report


def raw_llm_spans(path: Path) -> list[dict]:
    spans = []
    for line in path.read_text(encoding="utf-8").splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                if scope["scope"]["name"] == "opentelemetry.instrumentation.openai_v2":
                    spans += scope["spans"]
    return spans


def test_same_seed_same_bytes(reviews: list[str], tmp_path: Path) -> None:
    first = generate_otlp(reviews, 300, 5, tmp_path / "a.jsonl").read_bytes()
    again = generate_otlp(reviews, 300, 5, tmp_path / "b.jsonl").read_bytes()
    other = generate_otlp(reviews, 300, 6, tmp_path / "c.jsonl").read_bytes()
    assert first == again
    assert first != other


def test_every_call_is_read_back_with_its_fields(generated: tuple) -> None:
    _, frame, report = generated
    assert len(frame) == report.rows == N_SPANS
    assert report.lines_skipped == report.spans_skipped == 0
    assert not report.unknown_attributes
    assert set(frame["operation"]) == {"chat"}
    assert set(frame["provider"]) == {"azure.ai.openai"}  # az.ai.openai of the old names, renamed
    assert set(frame["service_name"]) == {generate.SERVICE}
    assert frame["input_text"].notna().all() and frame["session_id"].notna().all()
    assert frame["start"].min() >= pd.Timestamp(generate.START)
    assert (frame["latency_ms"] > 0).all()


def test_sessions_have_one_to_six_turns(generated: tuple) -> None:
    _, frame, _ = generated
    turns = frame.groupby("session_id").size()
    assert turns.min() >= 1 and turns.max() == 6
    assert N_SPANS / 4.5 < len(turns) < N_SPANS / 2.5  # 3.5 turns on average
    # a follow-up turn carries the previous turn as history: the question read is still the last user message
    follow_ups = frame["input_text"].isin(generate.FOLLOW_UPS)
    assert 0.1 < follow_ups.mean() < 0.4


def test_the_model_switches_midway(generated: tuple) -> None:
    _, frame, _ = generated
    first, second = generate.MODELS
    switch = pd.Timestamp(generate.SWITCH)
    assert set(frame["model"]) == {first, second}
    assert frame.loc[frame["model"] == first, "start"].max() < switch
    assert frame.loc[frame["model"] == second, "start"].min() >= switch
    assert 0.4 < (frame["model"] == first).mean() < 0.6
    faster = frame.groupby("model")["latency_ms"].median()
    assert faster[second] < faster[first]


def test_some_calls_go_to_a_disallowed_region(generated: tuple) -> None:
    _, frame, _ = generated
    assert set(frame["server_address"]) == {generate.ALLOWED_HOST, generate.DISALLOWED_HOST}
    share = (frame["server_address"] == generate.DISALLOWED_HOST).mean()
    assert 0.07 < share < 0.13
    assert set(frame["server_port"]) == {443}


def test_errors_are_rate_limits_and_timeouts(generated: tuple) -> None:
    _, frame, _ = generated
    errors = frame[frame["status"] == "error"]
    assert 0.015 < len(errors) / len(frame) < 0.05
    assert set(errors["error_type"]) == {"rate_limited", "timeout"}
    assert errors["output_text"].isna().all() and errors["tokens_out"].isna().all()
    assert (errors.loc[errors["error_type"] == "timeout", "latency_ms"] == 30_000).all()
    ok = frame[frame["status"] == "ok"]
    assert (
        ok["output_text"].notna().all() and ok["tokens_in"].notna().all() and ok["tokens_out"].notna().all()
    )
    assert ok["error_type"].isna().all()


def test_personal_data_is_planted_in_a_few_prompts(generated: tuple) -> None:
    _, frame, _ = generated
    prompts = frame["input_text"]
    emails = prompts.str.contains("@example.com", regex=False)
    phones = prompts.str.contains("+44 20 7946 0", regex=False)
    assert 0.008 < (emails | phones).mean() < 0.035
    found = count_pii(prompts.tolist(), region="GB")  # Day 2's scanner finds exactly what was planted
    assert (found["email"], found["phone"]) == (int(emails.sum()), int(phones.sum()))


def test_old_and_current_names_are_mixed(generated: tuple) -> None:
    path, _, _ = generated
    spans = raw_llm_spans(path)
    names = [{a["key"] for a in span["attributes"]} for span in spans]
    old = sum("gen_ai.system" in n for n in names)
    assert old + sum("gen_ai.provider.name" in n for n in names) == len(spans) == N_SPANS
    assert 0.15 < old / len(spans) < 0.25
    assert all(
        ("gen_ai.usage.prompt_tokens" in n) == ("gen_ai.system" in n)
        for n in names
        if "gen_ai.usage.prompt_tokens" in n or "gen_ai.usage.input_tokens" in n
    )
    with_events = [span for span in spans if span.get("events")]
    assert {e["name"] for span in with_events for e in span["events"]} >= {
        "gen_ai.user.message",
        "gen_ai.choice",
    }
    encodings = Counter(
        next(iter(attribute["value"]))  # the AnyValue's one key: stringValue, arrayValue ...
        for span in spans
        for attribute in span["attributes"]
        if attribute["key"] == "gen_ai.input.messages"
    )
    assert set(encodings) == {"stringValue", "arrayValue"}  # JSON strings and structured values
    assert sum(encodings.values()) == len(spans) - old


def test_parents_children_and_orphans(generated: tuple) -> None:
    _, frame, report = generated
    parented = N_SPANS - report.without_parent - report.orphans
    assert report.not_llm_calls == {"invoke_agent": parented}
    assert report.spans_read == N_SPANS + parented
    assert 0.003 < report.orphans / N_SPANS < 0.02 and 0.003 < report.without_parent / N_SPANS < 0.02
    assert frame["parent_id"].isna().sum() == report.without_parent


def test_generation_needs_texts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        generate_otlp(["  ", ""], 10, 1, tmp_path / "x.jsonl")


def test_reading_100k_generated_spans(reviews: list[str], tmp_path: Path) -> None:
    """A throughput measure, printed, never asserted on: LLM calls and their parent spans, 100k spans in all."""
    path = generate_otlp(reviews, 51_000, 3, tmp_path / "big.jsonl")
    started = time.perf_counter()
    cpu = time.process_time()
    frame, report = read_traces_with_report(path)
    wall_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    size_mb = path.stat().st_size / 1e6
    assert report.spans_read >= 100_000 and len(frame) == 51_000
    print(
        f"\nread {report.spans_read} spans ({len(frame)} LLM calls, {size_mb:.0f} MB) in {wall_s:.2f} s wall, "
        f"{cpu_s:.2f} s CPU: {report.spans_read / wall_s:,.0f} spans/s, {size_mb / wall_s:.0f} MB/s"
    )
