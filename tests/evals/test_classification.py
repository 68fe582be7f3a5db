"""The sample project's eval position: real runs, a real demo gap, baseline, latency, cost, contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.artifacts import read_artifact, write_artifact
from rescue.evals import build_eval_position, display
from rescue.gap import assess_gap
from rescue.spec import load_spec
from tests.conftest import copy_sample


@pytest.fixture(scope="module")
def position(tmp_path_factory):
    project = copy_sample(tmp_path_factory.mktemp("p"))
    spec = load_spec(project)
    out = tmp_path_factory.mktemp("out")
    return spec, out, build_eval_position(spec, out, progress=False)


def test_demo_gap_baseline_and_target(position) -> None:
    _, _, pos = position
    assert pos["n_items"] == 974
    assert pos["demo_vs_production"]["accuracy"]["value"] == 1.0
    assert pos["demo_vs_production"]["gap"] > 0.4  # the sales-artifact gap, measured
    assert 0.45 < pos["scores"]["accuracy"]["value"] < 0.6
    assert pos["target"]["meets"] is False
    cmp = pos["comparison"]
    assert cmp["n_paired"] == 974 and cmp["baseline"] == "baseline:majority"
    assert cmp["accuracy_difference"]["value"] < 0 and cmp["mcnemar"]["p_value"] < 0.001
    assert "majority baseline" in cmp["sentence"]
    assert pos["label_origin"] == {"patient_star_rating": 974}


def test_latency_cost_contract_slices(position) -> None:
    _, _, pos = position
    assert pos["latency"]["n"] == 974 and pos["latency"]["meets_target"] is True
    assert pos["cost"]["per_call_eur"] > 0 and "estimated from text length" in pos["cost"]["basis"]
    assert pos["cost"]["per_month_eur"] == pytest.approx(pos["cost"]["per_call_eur"] * 40000, rel=0.01)
    assert pos["contract"]["valid_rate"] == 0.0
    violations = [v["violation"] for v in pos["contract"]["contracts"][0]["top_violations"]]
    assert any("'case_id' is a required property" in v for v in violations)
    assert {r["value"] for r in pos["slices"]["rows"]} == {"crm", "web-form", "app-feedback"}
    assert all("@" not in e["text"] for e in pos["failure_modes"]["examples"])


def test_rerun_is_cached_and_identical(position) -> None:
    spec, out, pos = position
    again = build_eval_position(spec, out, progress=False)
    assert again["ledger"]["cached_this_run"] == again["ledger"]["calls"]
    assert again["scores"] == pos["scores"] and again["latency"]["p95"] == pos["latency"]["p95"]


def test_artifact_and_gap_pick_up_the_position(position, tmp_path: Path) -> None:
    spec, _, pos = position
    write_artifact(tmp_path, "eval_position", pos, spec)
    assert read_artifact(tmp_path, "eval_position")["n_items"] == 974
    report = assess_gap(spec, tmp_path)
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["eval.baseline_on_production"]["status"] == "pass"
    assert checks["eval.meets_quality_target"]["status"] == "fail"
    assert checks["integration.output_conforms"]["status"] == "fail"
    assert checks["latency.meets_target"]["status"] == "pass"
    assert checks["cost.meets_target"]["status"] == "pass"
    assert checks["eval.slices_checked"]["status"] == "pass"
    blockers = {b["id"]: b["applies"] for b in report["blockers"]}
    assert blockers["no_production_baseline"] is False


def test_display(position) -> None:
    _, _, pos = position
    text = display.summary_markdown(pos)
    assert "Demo vs production" in text and "majority baseline" in text and "Integration contract" in text
    kind = display.for_kind(pos)
    assert kind.plot_intervals(pos).axes and kind.plot_confusion(pos).axes and display.plot_latency(pos).axes
    assert len(kind.slices_table(pos)) == 3 and len(kind.examples_table(pos)) > 0
    headings = [s.heading for s in display.sections(pos)]
    assert headings == ["Scores with their intervals", "What it confuses", "Slices", "Latency",
                        "The integration contract", "Example errors"]  # fmt: skip
    assert not {"The judge against people", "Retrieval"} & set(
        headings
    )  # nothing a classifier has no use for


def test_extraction_labels_are_scored_per_field(write_spec, sample_spec_data, tmp_path: Path) -> None:
    import copy
    import json as jsonlib

    import pandas as pd

    project = write_spec(sample_spec_data)
    records = [{"drug": "Zomig", "condition": "Migraine"}, {"drug": "Latuda", "condition": "Bipolar"}]
    pd.DataFrame({"item_id": ["1", "2"], "text": ["zomig for migraine", "latuda for bipolar"],
                  "record": [jsonlib.dumps(r) for r in records]}).to_csv(project / "extract.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"item_id": ["1", "2"], "drug": ["Zomig", "Latuda"], "condition": ["Migraine", "Depression"]}
    ).to_csv(project / "preds.csv", index=False)
    data = copy.deepcopy(sample_spec_data)
    data["poc"] = {"kind": "predictions", "path": "preds.csv"}
    data["eval"] = {"labels": "extract.csv", "label_column": "record", "baseline": None}
    data["integration"] = []
    spec = load_spec(write_spec(data))
    pos = build_eval_position(spec, tmp_path, progress=False)
    x = pos["extraction"]
    assert x["fields"]["drug"]["f1"] == 1.0 and x["fields"]["condition"]["recall"] == 0.5
    assert x["exact_record"]["value"] == 0.5
    write_artifact(tmp_path, "eval_position", pos, spec)
    assert "Extraction" in display.operations_markdown(pos)


def test_labels_given_in_day3_are_scored_without_a_labels_file(
    write_spec, sample_spec_data, tmp_path: Path
) -> None:
    import copy

    from rescue.evalset import build as build_eval_set
    from rescue.evalset import prepare_sample
    from rescue.evalset.labels import DATASET
    from rescue.ledger import Ledger

    data = copy.deepcopy(sample_spec_data)
    data["eval"].pop("labels")
    spec = load_spec(write_spec(data))
    out = tmp_path / "out"
    with pytest.raises(Exception, match="Day 3 has labeled nothing yet"):
        build_eval_position(spec, out, progress=False)
    sample, _ = prepare_sample(spec, out, n=40)
    with Ledger(out) as ledger:  # a person labels 12 items in the widget
        for row in sample.head(12).itertuples():
            ledger.add_label_event(DATASET, row.key, row.item_hash, "ana", "label", "negative")
    build_eval_set(spec, out, import_existing=False)
    pos = build_eval_position(spec, out, progress=False)
    assert pos["n_items"] == 12 and pos["label_origin"] == {"human": 12}
    assert pos["comparison"]["n_paired"] == 12


def test_day4_closes_the_pocs_adapter_when_its_calls_are_made(tmp_path: Path, monkeypatch) -> None:
    """``poc.isolation: thread`` sets ``poc.env`` in rescue's own process while the PoC's adapter is open: Day 4
    closes it once the PoC's calls are made, so the kernel's environment is put back."""
    import os

    import yaml

    project = copy_sample(tmp_path)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["poc"].update(isolation="thread", env={"RESCUE_DAY4_ENV_PROBE": "while-the-adapter-is-open"})
    (project / "rescue.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.delenv("RESCUE_DAY4_ENV_PROBE", raising=False)
    pos = build_eval_position(load_spec(project), tmp_path / "out", progress=False)
    assert pos["n_items"] == 974 and pos["errors"]["total"] == 0
    assert "RESCUE_DAY4_ENV_PROBE" not in os.environ
