"""Day 1 scoring: ML Test Score points, area means, minimum headline, blockers, attestations."""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from rescue.errors import SpecError
from rescue.gap import assess_gap, attest, load_catalogue
from rescue.gap.rules import Context, artifact_value
from rescue.spec import Attestation, load_spec
from tests.conftest import copy_rag_sample, with_owner_and_eu_provider


def _by_id(report: dict) -> dict:
    return {c["id"]: c for c in report["checks"]}


def _att(check: str, on: date | None = None) -> Attestation:
    return Attestation(
        check=check, by="Ada Example", date=on or date(2026, 1, 5), link="https://wiki.example.com/x"
    )


def test_sample_project_is_blocked_for_the_right_reasons(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project))
    assert report["verdict"] == "blocked"
    active = {b["id"] for b in report["blockers"] if b["applies"]}
    assert active == {"no_owner", "no_production_baseline", "personal_data_outside_regions"}
    checks = _by_id(report)
    assert checks["compliance.residency"]["status"] == "fail"
    assert "example-llm in us-east-1" in checks["compliance.residency"]["evidence"]
    assert (
        checks["data_pipeline.sources_owned"]["evidence"]
        == "no owner: app-feedback; owner without evidence: web-form"
    )
    assert checks["eval.labeled_production_set"]["status"] == "pass"
    assert (
        "974 labeled production items vs 5 demo examples" in checks["eval.labeled_production_set"]["evidence"]
    )
    assert checks["integration.poc_callable"]["status"] == "pass"
    assert checks["security.threat_review"]["status"] == "attested"
    assert checks["latency.meets_target"]["pending"] == "day 4"


def test_points_follow_the_ml_test_score(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project))
    for c in report["checks"]:
        assert c["score"] == {"pass": 1.0, "attested": 0.5, "fail": 0.0, "unknown": 0.0}[c["status"]]
    for area in report["areas"]:
        mine = [c["score"] for c in report["checks"] if c["area"] == area["id"]]
        assert area["score"] == pytest.approx(sum(mine) / len(mine), abs=1e-4)
    assert report["headline_score"] == min(a["score"] for a in report["areas"])
    assert report["points"] == sum(c["score"] for c in report["checks"])
    assert set(report["weakest_areas"]) == {
        a["id"] for a in report["areas"] if a["score"] == report["headline_score"]
    }


def test_attestation_scores_half_and_raises_the_area(sample_project: Path) -> None:
    spec = load_spec(sample_project)
    before = {a["id"]: a["score"] for a in assess_gap(spec, attestations=[])["areas"]}
    after = assess_gap(spec, attestations=[_att("rollback.plan")])
    assert _by_id(after)["rollback.plan"]["status"] == "attested"
    assert _by_id(after)["rollback.plan"]["score"] == 0.5
    assert "Ada Example" in _by_id(after)["rollback.plan"]["produced_by"]
    rollback = next(a for a in after["areas"] if a["id"] == "rollback")
    assert rollback["score"] == pytest.approx(before["rollback"] + 0.5 / 3, abs=1e-4)


def test_attestation_cannot_override_a_computed_failure(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project), attestations=[_att("compliance.residency")])
    check = _by_id(report)["compliance.residency"]
    assert check["status"] == "fail" and check["score"] == 0
    assert "contradicted" in check["note"]
    assert report["verdict"] == "blocked"


def test_attestation_fills_a_computed_check_that_cannot_run_yet(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project), attestations=[_att("latency.meets_target")])
    assert _by_id(report)["latency.meets_target"]["status"] == "attested"


def test_baseline_blocker_does_not_accept_an_attestation(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project), attestations=[_att("eval.baseline_on_production")])
    blocker = next(b for b in report["blockers"] if b["id"] == "no_production_baseline")
    assert blocker["status"] == "attested" and blocker["applies"]


def test_future_dated_attestation_is_ignored(sample_project: Path) -> None:
    future = date.today() + timedelta(days=3)
    report = assess_gap(load_spec(sample_project), attestations=[_att("rollback.plan", future)])
    assert _by_id(report)["rollback.plan"]["status"] == "unknown"


def test_unknown_check_in_attestations_is_a_spec_error(sample_project: Path) -> None:
    with pytest.raises(SpecError, match="rollback.planz"):
        assess_gap(load_spec(sample_project), attestations=[_att("rollback.planz")])


def test_fixing_the_owner_and_region_lifts_those_blockers(write_spec, sample_spec_data) -> None:
    report = assess_gap(load_spec(write_spec(with_owner_and_eu_provider(sample_spec_data))))
    active = {b["id"] for b in report["blockers"] if b["applies"]}
    assert active == {"no_production_baseline"}
    assert _by_id(report)["ownership.backup_named"]["status"] == "pass"


def test_no_sources_and_no_targets_fail_their_checks(write_spec, sample_spec_data) -> None:
    data = copy.deepcopy(sample_spec_data)
    data["sources"] = []
    data["targets"] = {}
    checks = _by_id(assess_gap(load_spec(write_spec(data))))
    assert checks["data_pipeline.sources_declared"]["status"] == "fail"
    assert "only in the demo" in checks["data_pipeline.sources_declared"]["evidence"]
    assert checks["latency.target_set"]["status"] == "fail"
    assert (
        checks["eval.quality_target_set"]["evidence"]
        == "not set: targets.min_macro_f1 or targets.min_accuracy or targets.min_pass_rate"
    )


def test_hardcoded_key_in_the_poc_fails_without_echoing_it(sample_project: Path) -> None:
    poc = sample_project / "poc" / "triage_poc.ipynb"
    key = "sk-" + "A1b2C3d4" * 4
    poc.write_text(poc.read_text().replace("def classify", f"API_KEY = '{key}'\\ndef classify", 1))
    check = _by_id(assess_gap(load_spec(sample_project)))["security.no_hardcoded_secrets"]
    assert check["status"] == "fail" and "API key" in check["evidence"]
    assert key not in check["evidence"]


def test_missing_function_in_the_poc_notebook(write_spec, sample_spec_data) -> None:
    data = copy.deepcopy(sample_spec_data)
    data["poc"]["function"] = "predict"
    check = _by_id(assess_gap(load_spec(write_spec(data))))["integration.poc_callable"]
    assert check["status"] == "fail" and "predict" in check["evidence"]


def test_secret_resolvability_is_checked_without_showing_values(
    write_spec, sample_spec_data, monkeypatch
) -> None:
    data = copy.deepcopy(sample_spec_data)
    data["sources"].append({"name": "wh", "kind": "postgres", "table": "t", "dsn": "${RESCUE_GAP_DSN}"})
    spec = load_spec(write_spec(data))
    monkeypatch.delenv("RESCUE_GAP_DSN", raising=False)
    assert (
        _by_id(assess_gap(spec))["security.credentials_available"]["evidence"]
        == "not set in this environment: ${RESCUE_GAP_DSN}"
    )
    monkeypatch.setenv("RESCUE_GAP_DSN", "postgres://secret-value")
    check = _by_id(assess_gap(spec))["security.credentials_available"]
    assert check["status"] == "pass" and "secret-value" not in str(check)


@pytest.mark.parametrize(
    ("document", "status"),
    [
        (None, "unknown"),
        ({"latency": {}}, "unknown"),
        ({"latency": {"p95_ms": None}}, "unknown"),
        ({"latency": {"p95_ms": 1500.0}}, "pass"),
        ({"latency": {"p95_ms": 2000.0}}, "pass"),
        ({"latency": {"p95_ms": 2400.0}}, "fail"),
    ],
)
def test_artifact_value_reads_later_days(sample_project: Path, document, status) -> None:
    ctx = Context(spec=load_spec(sample_project), artifacts={"eval_position": document})
    outcome = artifact_value(ctx, "eval_position", 4, "/latency/p95_ms", "<=", target="latency_p95_ms")
    assert outcome.status == status


def test_attest_writes_the_project_file_and_survives_reload(sample_project: Path) -> None:
    spec = load_spec(sample_project)
    attest(
        spec,
        "rollback.kill_switch",
        "Ada Example",
        "https://wiki.example.com/ks",
        "2026-11-01",
        "SRE lead",
        "flag KS-1",
    )
    reloaded = load_spec(sample_project)  # a new kernel reads it back
    check = _by_id(assess_gap(reloaded))["rollback.kill_switch"]
    assert check["status"] == "attested" and check["attestation"]["role"] == "SRE lead"
    text = (sample_project / "attestations.yaml").read_text()
    assert text.startswith("# Attestations") and "security.threat_review" in text  # earlier ones kept


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"check": "rollback.nope"}, "check"),
        ({"by": ""}, "by"),
        ({"link": "not a link"}, "link"),
        ({"on": "yesterday"}, "date"),
        ({"on": (date.today() + timedelta(days=9)).isoformat()}, "date"),
    ],
)
def test_attest_refuses_bad_input(sample_project: Path, kwargs, field) -> None:
    spec = load_spec(sample_project)
    args = {"check": "rollback.plan", "by": "Ada", "link": "https://x.example", "on": "2026-11-01"} | kwargs
    before = (sample_project / "attestations.yaml").read_text()
    with pytest.raises(SpecError) as info:
        attest(spec, **args)
    assert info.value.path == field
    assert (sample_project / "attestations.yaml").read_text() == before


def test_catalogue_covers_every_area_with_rubrics() -> None:
    cat = load_catalogue()
    assert set(cat.areas) == {
        "latency", "cost", "integration", "audit_trail", "compliance", "observability",
        "security", "data_pipeline", "eval", "ownership", "rollback",
    }  # fmt: skip
    for area in cat.areas:
        assert any(c.area == area for c in cat.checks), area
    assert all(c.rubric for c in cat.checks)
    assert {b.id for b in cat.blockers} == {
        "no_owner",
        "no_production_baseline",
        "personal_data_outside_regions",
        "undeclared_destination",
    }


def test_a_broken_catalogue_is_refused(tmp_path: Path) -> None:
    import yaml

    from rescue.gap.catalogue import CATALOGUE

    data = yaml.safe_load(CATALOGUE.read_text())
    data["checks"][0]["rule"] = "no_such_rule"
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="no_such_rule"):
        load_catalogue(bad)


@pytest.mark.parametrize(("names", "status"), [([], "pass"), (["web-form"], "fail")])
def test_artifact_lists_compare_by_length(sample_project: Path, names, status) -> None:
    ctx = Context(
        spec=load_spec(sample_project), artifacts={"data_picture": {"summary": {"undeclared": names}}}
    )
    outcome = artifact_value(ctx, "data_picture", 2, "/summary/undeclared", "==", value=0)
    assert outcome.status == status
    assert ("web-form" in outcome.evidence) == bool(names)


def test_an_endpoint_off_this_machine_without_a_provider_is_not_a_pass(tmp_path: Path) -> None:
    import yaml

    project = copy_rag_sample(tmp_path)
    checks = _by_id(assess_gap(load_spec(project)))
    assert checks["compliance.processor_agreements"]["status"] == "pass"  # everything runs on loopback
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["eval"]["judge"].update(url="https://judge.example.com/v1", serve=None)
    (project / "rescue.yaml").write_text(yaml.safe_dump(data))
    check = _by_id(assess_gap(load_spec(project)))["compliance.processor_agreements"]
    assert check["status"] == "unknown" and "eval.judge → judge.example.com" in check["evidence"]


def test_a_value_the_later_day_did_not_measure_is_not_pending_on_it(
    sample_project: Path, tmp_path: Path
) -> None:
    from rescue.artifacts import write_artifact
    from rescue.evals import build_eval_position
    from rescue.gap import summary_markdown

    data = yaml.safe_load((sample_project / "rescue.yaml").read_text())
    data["integration"] = []  # no contract: Day 4 has no valid rate to measure
    (sample_project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(sample_project)
    write_artifact(tmp_path, "eval_position", build_eval_position(spec, tmp_path, progress=False), spec)
    report = assess_gap(spec, tmp_path)
    check = _by_id(report)["integration.output_conforms"]
    assert (
        check["status"] == "unknown" and check["pending"] is None and "measured nothing" in check["evidence"]
    )
    # Day 4 ran: the gap page no longer asks for a re-run after it (Day 2 did not run here: that one stays)
    assert not [c["id"] for c in report["checks"] if c["pending"] == "day 4"]
    assert "wait for evidence from day 2;" in summary_markdown(report)


def _evidence(sample_project: Path, check_id: str, **artifacts) -> str:
    from rescue.gap.rules import RULES

    check = load_catalogue().check(check_id)
    ctx = Context(spec=load_spec(sample_project), artifacts=artifacts)
    return RULES[check.rule](ctx, **check.args).evidence


@pytest.mark.parametrize(
    ("check", "artifacts", "sentence"),
    [
        ("latency.meets_target", {"eval_position": {"latency": {"p95_ms": 124.3}}},
         "p95 latency of live calls 124 ms, meets the target ≤ 2,000 ms"),
        ("latency.meets_target", {"eval_position": {"latency": {"p95_ms": 2400.0}}},
         "p95 latency of live calls 2,400 ms, misses the target ≤ 2,000 ms"),
        ("cost.meets_target", {"eval_position": {"cost": {"per_call_eur": 0.0031}}},
         "cost €0.0031 per call, meets the target ≤ €0.01"),
        ("eval.baseline_on_production", {"eval_position": {"comparison": {"n_paired": 974}}},
         "compared with the baseline on 974 production items"),
        ("eval.baseline_on_production", {"eval_position": {"comparison": {"n_paired": 0}}},
         "not compared with a baseline on any production item"),
        ("integration.output_conforms", {"eval_position": {"contract": {"valid_rate": 0.62}}},
         "62% of the PoC's outputs fit the contract, misses the requirement ≥ 99%"),
        ("eval.meets_quality_target", {"eval_position": {"scores": {"macro_f1": {"low": 0.4081}}}},
         "macro-F1 0.41 at the low end of its 95% interval, misses the target ≥ 0.80"),
        ("eval.slices_checked", {"eval_position": {"slices": {"count": 1}}}, "1 slice checked"),
        ("compliance.personal_data_as_declared",
         {"data_picture": {"summary": {"personal_data_undeclared_in": ["web-form"]}}},
         "personal data found in 1 source declared free of it: web-form"),
        ("latency.target_set", {}, "p95 latency target 2,000 ms"),
        ("cost.target_set", {}, "cost target €0.01 per call, monthly volume 40,000 calls"),
        ("eval.quality_target_set", {}, "macro-F1 target 0.80"),
    ],
)  # fmt: skip
def test_evidence_says_what_was_measured_in_words_and_units(
    sample_project: Path, check, artifacts, sentence
) -> None:
    assert _evidence(sample_project, check, **artifacts) == sentence


def test_no_evidence_shows_a_check_id_or_a_bare_number(sample_project: Path, tmp_path: Path) -> None:
    import shutil

    from tests.conftest import FIXTURES

    for name in ("data_picture", "eval_position"):  # the later days' artifacts of a run of the week
        shutil.copy(FIXTURES / "artifacts" / "pharma-feedback" / f"{name}.json", tmp_path)
    ids = [c.id for c in load_catalogue().checks]
    report = assess_gap(load_spec(sample_project), tmp_path)
    assert sum(c["evidence_kind"] == "computed" and c["status"] != "unknown" for c in report["checks"]) >= 20
    for c in report["checks"]:
        assert not [i for i in ids if i in c["evidence"]], c["evidence"]
        assert not re.search(r"measured [\d.]+|requirement (<=|>=)|\(s\)", c["evidence"]), c["evidence"]
    evidence = {c["id"]: c["evidence"] for c in report["checks"]}
    assert evidence["latency.meets_target"].endswith(" ms, meets the target ≤ 2,000 ms")
    assert evidence["cost.meets_target"].startswith("cost €")


def test_every_measured_check_says_its_quantity_and_unit() -> None:
    from rescue.units import quantity

    for c in load_catalogue().checks:
        if c.rule == "artifact_value":
            assert "{value}" in c.args["says"] and c.args["unit"], c.id
            assert quantity(1, c.args["unit"]), c.id
        if c.rule == "target_set":
            assert all("{value}" in t["says"] and t["unit"] for t in c.args["targets"].values()), c.id


def test_a_catalogue_rule_argument_the_rule_does_not_take_is_refused(tmp_path: Path) -> None:
    from rescue.gap.catalogue import CATALOGUE

    data = yaml.safe_load(CATALOGUE.read_text())
    check = next(c for c in data["checks"] if c["rule"] == "artifact_value" if "rule" in c)
    check["args"]["sayz"] = check["args"].pop("says")
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="sayz"):
        load_catalogue(bad)
