"""The release gate reads gap.json as the closing step left it, and refuses one older than the evidence, an
artifact that is not the one its audit record wrote, a broken audit log and a sign-off the log does not hold."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from rescue import gap
from rescue.artifacts import read_artifact, write_artifact
from rescue.auditlog import LOG_NAME, read_log
from rescue.evals import build_eval_position
from rescue.gate import check_gate
from rescue.hashing import file_sha256
from rescue.owner import sign_off
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


def _week_so_far(tmp_path: Path):
    spec = load_spec(copy_sample(tmp_path / "p"))
    out = tmp_path / "out"
    write_artifact(out, "gap", gap.build(spec, out), spec)
    write_artifact(out, "eval_position", build_eval_position(spec, out, progress=False), spec)
    gap.closed(spec, out)
    return spec, out


def _edit(path: Path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2) + "\n")


def test_an_artifact_edited_after_it_was_written_is_refused(tmp_path: Path) -> None:
    spec, out = _week_so_far(tmp_path)
    before = check_gate(spec, out)
    assert any(r.startswith("blocker:") for r in before) and not any(
        r.startswith("artifact:") for r in before
    )

    def clear_blockers(document: dict) -> None:
        for b in document["blockers"]:
            b["applies"] = False

    _edit(out / "gap.json", clear_blockers)  # still schema-valid: the gate reads no blocker from it
    read_artifact(out, "gap")
    reasons = check_gate(spec, out)
    assert not any(r.startswith("blocker:") for r in reasons)
    (edited,) = [r for r in reasons if r.startswith("artifact:")]
    assert edited.startswith("artifact: gap.json was changed after rescue wrote it")


def test_an_edited_eval_position_is_refused(tmp_path: Path) -> None:
    spec, out = _week_so_far(tmp_path)
    _edit(out / "eval_position.json", lambda d: d["scores"]["macro_f1"].update(low=0.99))
    read_artifact(out, "eval_position")  # still schema-valid
    reasons = check_gate(spec, out)
    (edited,) = [r for r in reasons if r.startswith("artifact:")]
    assert edited.startswith("artifact: eval_position.json was changed after rescue wrote it")


def test_a_truncated_audit_log_is_refused(tmp_path: Path) -> None:
    spec, out = _week_so_far(tmp_path)
    log = out / LOG_NAME
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()[:-1]))
    assert any(r.startswith("the audit log does not verify:") for r in check_gate(spec, out))


def test_a_sign_off_the_log_does_not_hold_is_refused(tmp_path: Path) -> None:
    spec, out = _week_so_far(tmp_path)
    sign_off(spec, out, "gap", "compliance", "Dana Okafor", "https://wiki.example.com/c")
    assert not any(r.startswith("sign-off") for r in check_gate(spec, out))
    # a forged sign-off: written into signoffs.yaml by hand, with the artifact's sha256 recomputed
    file = spec.path(spec.signoffs)
    data = yaml.safe_load(file.read_text())
    data["signoffs"].append({"artifact": "eval_position", "scope": "eval plan and acceptance thresholds",
                             "by": "Mallory", "date": "2026-11-20", "link": "https://x.example",
                             "sha256": file_sha256(out / "eval_position.json")})  # fmt: skip
    file.write_text(yaml.safe_dump(data))
    reasons = [r for r in check_gate(spec, out) if r.startswith("sign-off")]
    assert reasons == [
        "sign-off not in the audit log: eval plan and acceptance thresholds (eval_position.json) by Mallory on "
        "2026-11-20 was not made with rescue sign or the Day 5 form; sign again"
    ]
