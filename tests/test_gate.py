"""The release gate reads gap.json as the closing step left it, and refuses one older than the evidence."""

from __future__ import annotations

from pathlib import Path

from rescue import gap
from rescue.artifacts import read_artifact, write_artifact
from rescue.auditlog import read_log
from rescue.evals import build_eval_position
from rescue.gate import check_gate
from rescue.spec import load_spec
from tests.conftest import copy_sample


def test_a_gap_older_than_the_evidence_is_refused_until_the_closing_step(tmp_path: Path) -> None:
    spec = load_spec(copy_sample(tmp_path / "p"))
    out = tmp_path / "out"
    write_artifact(out, "gap", gap.build(spec, out), spec)
    assert gap.stale_evidence(out, read_artifact(out, "gap")) == []
    write_artifact(out, "eval_position", build_eval_position(spec, out, progress=False), spec)
    assert gap.stale_evidence(out, read_artifact(out, "gap")) == ["eval_position"]
    stale = [r for r in check_gate(spec, out) if r.startswith("gap.json was assessed before")]
    assert stale and "eval_position.json" in stale[0]

    closed = gap.closed(spec, out)  # the closing step: assessed again on Day 4's evidence, and written
    checks = {c["id"]: c["status"] for c in closed["checks"]}
    assert checks["eval.baseline_on_production"] == "pass"
    assert read_artifact(out, "gap") == closed
    assert not any(r.startswith("gap.json was assessed before") for r in check_gate(spec, out))
    records = [r for r in read_log(out) if r["event"] == "artifact" and r["artifact"] == "gap"]
    assert len(records) == 2 and records[-1]["parameters"] == {"closing_step": True}
    assert gap.closed(spec, out) == closed  # fresh: nothing assessed or written again
    assert len([r for r in read_log(out) if r["event"] == "artifact" and r["artifact"] == "gap"]) == 2


def test_the_gate_thresholds_read_the_typed_eval_position(tmp_path: Path) -> None:
    import yaml

    project = copy_sample(tmp_path / "p")
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["gate"] = {"allow_blockers": True, "min_macro_f1_low": 0.99, "min_contract_valid_rate": 0.999}
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(project)
    out = tmp_path / "out"
    write_artifact(out, "gap", gap.build(spec, out), spec)
    assert [r for r in check_gate(spec, out) if "macro-F1" in r] == [
        "macro-F1 lower bound not measured is under gate.min_macro_f1_low 0.99"
    ]
    write_artifact(out, "eval_position", build_eval_position(spec, out, progress=False), spec)
    gap.closed(spec, out)
    position = read_artifact(out, "eval_position")
    reasons = check_gate(spec, out)
    low, rate = position["scores"]["macro_f1"]["low"], position["contract"]["valid_rate"]
    assert f"macro-F1 lower bound {low:g} is under gate.min_macro_f1_low 0.99" in reasons
    assert f"contract valid rate {rate:g} is under gate.min_contract_valid_rate 1.00" in reasons
    assert not any(r.startswith("blocker:") for r in reasons)  # allow_blockers
