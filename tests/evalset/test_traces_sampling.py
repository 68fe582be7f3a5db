"""Production traces as the population Day 3 samples from, and Day 4 scoring the replay and the recorded answers
with the sample's weights and the sessions as clusters (issue 15, parts 3 to 5)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rescue import evals, evalset
from rescue.evals import display as show
from rescue.evalset.labels import DATASET
from rescue.ledger import Ledger
from rescue.spec import load_spec

MODELS = {"m-large": 300, "m-small": 30, "m-old": 40}  # calls per model; m-old is filtered out by eval.where
RECORDED_RIGHT = {"m-large": 0.7, "m-small": 0.95, "m-old": 0.5}
WORDS = {"positive": "great relief, works well", "negative": "awful side effects, stopped it"}

POC = """
def classify(text):
    return {"sentiment": "negative" if "awful" in text else "positive"}
"""


def _attr(key: str, value: object) -> dict:
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def _traces(path: Path) -> dict[str, str]:
    """Write the OTLP JSON traces (sessions of four turns); return each call's span id -> its true label."""
    rng = random.Random(15)
    truth, lines, k = {}, [], 0
    for model, n in MODELS.items():
        for i in range(n):
            label = rng.choice(["positive", "negative"])
            right = rng.random() < RECORDED_RIGHT[model]
            recorded = label if right else ("negative" if label == "positive" else "positive")
            span_id = f"{k:016x}"
            truth[span_id] = label
            start = 1_772_000_000_000_000_000 + k * 1_000_000_000
            attributes = [
                _attr("gen_ai.operation.name", "chat"), _attr("gen_ai.request.model", model),
                _attr("gen_ai.conversation.id", f"{model}-s{i // 4}"),
                _attr("gen_ai.usage.input_tokens", 40), _attr("gen_ai.usage.output_tokens", 6),
                _attr("server.address", "eu.example-llm.com"),
                _attr("gen_ai.input.messages", json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": f"Review {k}: {WORDS[label]}"}]}])),
                _attr("gen_ai.output.messages", json.dumps(
                    [{"role": "assistant", "parts": [{"type": "text",
                                                      "content": json.dumps({"sentiment": recorded})}]}])),
            ]  # fmt: skip
            span = {"traceId": f"{k:032x}", "spanId": span_id, "name": f"chat {model}", "kind": 3,
                    "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + (300 + k % 50) * 1_000_000),
                    "attributes": attributes, "status": {}}  # fmt: skip
            lines.append(json.dumps({"resourceSpans": [{"resource": {"attributes": []},
                                                        "scopeSpans": [{"spans": [span]}]}]}))  # fmt: skip
            k += 1
    path.write_text("\n".join(lines) + "\n")
    return truth


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, dict[str, str], dict]:
    """A project whose only source is production traces: Day 3 drawn and labeled (as people would, with the
    true labels), then Day 4 run."""
    root = tmp_path_factory.mktemp("traced")
    (root / "poc").mkdir()
    (root / "poc" / "poc.py").write_text(POC)
    truth = _traces(root / "traces.jsonl")
    spec_doc = {
        "project": "traced", "use_case": "classify reviews from the assistant's production traces",
        "poc": {"kind": "python", "path": "poc/poc.py", "function": "classify", "isolation": "thread"},
        "sources": [{"name": "traces", "kind": "traces", "location": "traces.jsonl", "format": "otlp_json"}],
        "eval": {"label_column": "sentiment", "classes": ["positive", "negative"], "sample_size": 60,
                 "strata": ["model"], "where": {"model": ["m-large", "m-small"]}, "cluster": "session_id",
                 "baseline": "recorded"},
    }  # fmt: skip
    (root / "rescue.yaml").write_text(yaml.safe_dump(spec_doc, sort_keys=False))
    spec = load_spec(root)
    out = root / "out"
    frame, _ = evalset.prepare_sample(spec, out)
    with Ledger(out) as ledger:
        for row in frame.itertuples():
            ledger.add_label_event(DATASET, row.key, row.item_hash, "ines", "label", truth[row.item_id])
    report = evalset.build(spec, out, import_existing=False)
    pos = evals.build(spec, out, progress=False)
    return spec, out, truth, {"report": report, "pos": pos, "frame": frame}


def test_day3_draws_from_the_filtered_traces_with_known_inclusion_probabilities(audited) -> None:
    _, out, _, got = audited
    frame, report = got["frame"], got["report"]
    assert set(frame["model"]) == {"m-large", "m-small"}  # eval.where kept m-old out of the population
    sample = report["sample"]
    assert sample["population"] == 330 and sample["from_traces"] == len(frame) == 60
    assert sample["generalises_to"] == "production items where model in m-large, m-small (330 of 370)"
    by_model = frame.groupby("model")["inclusion_probability"].agg(["first", "size"])
    for model, row in by_model.iterrows():  # n_h / N_h: every call of a stratum had the same chance
        assert row["first"] == pytest.approx(row["size"] / MODELS[model])
    exported = pd.read_parquet(out / "eval_set.parquet")
    assert {"inclusion_probability", "session_id", "recorded_output", "model"} <= set(exported.columns)
    assert "each item had a chance of" in evalset.summary_markdown(report)


def test_day4_weights_the_replay_and_production_back_and_clusters_the_sessions(audited) -> None:
    _, _, truth, got = audited
    pos, frame = got["pos"], got["frame"]
    design = pos["design"]
    assert design["weighted"] and design["strata"] == 2 and design["cluster"] == "session_id"
    sessions = frame["session_id"].nunique()
    assert design["estimate"]["clusters"] == sessions < len(frame)
    # the replay is right on every item (its rule matches the texts); production is right per its model's rate
    right = {
        r.item_id: json.loads(r.recorded_output)["sentiment"] == truth[r.item_id] for r in frame.itertuples()
    }
    by_model = frame.assign(right=frame["item_id"].map(right)).groupby("model")["right"].mean()
    n = {m: MODELS[m] for m in by_model.index}
    recorded_rate = sum(n[m] * by_model[m] for m in n) / sum(n.values())  # the stratified (Hájek) estimator
    assert design["estimate"]["estimate"] == pytest.approx(1.0)
    assert design["difference"]["estimate"] == pytest.approx(1.0 - recorded_rate, abs=1e-4)
    assert design["difference"]["unweighted"] == pytest.approx(
        1.0 - frame["item_id"].map(right).mean(), abs=1e-4
    )
    replay = pos["production_vs_replay"]
    assert replay["items"] == 60 and replay["recorded_missing"] == 0
    assert replay["agreement"]["value"] == pytest.approx(frame["item_id"].map(right).mean(), abs=1e-4)
    assert replay["latency_ms"]["production"]["p50"]["value"] >= 300  # from the traces, not measured here
    assert replay["tokens_per_call"]["production"]["input"] == 40
    page = show.quality_markdown(pos)
    assert "**Production against replay**" in page and "clusters of `session_id`" in page
    assert pos["systems"]["baseline"]["name"] == "baseline:recorded"


def test_the_small_stratum_is_over_sampled_and_weighted_back(audited) -> None:
    frame = audited[3]["frame"]
    chance = frame.groupby("model")["inclusion_probability"].first()
    assert chance["m-small"] == pytest.approx(10 / 30) and chance["m-large"] == pytest.approx(50 / 300)
    pos = audited[3]["pos"]
    d = pos["design"]["difference"]
    assert d["estimate"] != pytest.approx(d["unweighted"], abs=1e-6)  # weights moved the estimate
