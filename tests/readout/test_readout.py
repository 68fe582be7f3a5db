"""Day 5: stall diagnosis from evidence, a dated plan, sign-offs that go stale, and the release gate."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from rescue.artifacts import write_artifact
from rescue.cli import main
from rescue.data.picture import build_picture
from rescue.evals import build_eval_position
from rescue.gap import assess_gap
from rescue.gate import check_gate
from rescue.owner import build_owner, sign_off, signoff_status
from rescue.readout.build import build_readout, readout_markdown
from rescue.spec import load_spec
from tests.conftest import copy_sample, with_owner_and_eu_provider


@pytest.fixture(scope="module")
def week_out(tmp_path_factory):
    """The sample project with Days 2 and 4 written to an output folder, and the gap closed on their evidence
    (as the week's closing step does)."""
    project = copy_sample(tmp_path_factory.mktemp("p"))
    spec = load_spec(project)
    out = tmp_path_factory.mktemp("out")
    write_artifact(out, "gap", assess_gap(spec, out), spec)
    write_artifact(out, "data_picture", build_picture(spec, as_of=date(2026, 11, 1), probes=3), spec)
    write_artifact(out, "eval_position", build_eval_position(spec, out, progress=False), spec)
    write_artifact(out, "gap", assess_gap(spec, out), spec)
    return project, out


def test_the_sample_readout_names_its_stall_reasons(week_out) -> None:
    project, out = week_out
    spec = load_spec(project)
    readout = build_readout(spec, out, as_of=date(2026, 11, 25))
    verdicts = {d["id"]: d["verdict"] for d in readout["diagnosis"]}
    assert verdicts == {
        "sales_artifact": "applies", "no_eval_harness": "does not apply", "no_latency_cost_target": "does not apply",
        "data_only_in_demo": "applies", "integration_hand_waved": "applies", "compliance_deferred": "applies",
        "no_owner": "applies",
    }  # fmt: skip
    sales = next(d for d in readout["diagnosis"] if d["id"] == "sales_artifact")
    assert "100% on 5 demo examples" in sales["evidence"][0] and sales["from"] == ["eval_position.json"]
    assert readout["decision"] == "no-go"
    assert readout["plan"][0]["starts"] == "2026-11-30"  # the Monday after
    assert readout["top_gaps"][0]["severity"] == "blocker"
    write_artifact(out, "readout", readout, spec)
    text = readout_markdown(readout, spec.project)
    assert "**Decision: NO-GO**" in text and "Week 1 (2026-11-30" in text


def test_unknown_without_evidence() -> None:
    from rescue.readout.diagnose import diagnose

    assert {d["verdict"] for d in diagnose({})} == {"unknown"}


def test_signoff_goes_stale_when_the_artifact_changes(week_out, tmp_path: Path) -> None:
    project, out = week_out
    spec = load_spec(project)
    private = tmp_path / "out"
    shutil.copytree(out, private)
    signed = sign_off(
        spec,
        private,
        "eval_position",
        "eval plan and acceptance thresholds",
        "Dana Okafor",
        "https://wiki.example.com/s/1",
    )
    status = {s["artifact"]: s["status"] for s in signoff_status(spec, private)}
    assert status == {"eval_position": "current", "data_picture": "missing", "gap": "missing"}
    document = json.loads((private / "eval_position.json").read_text())
    document["n_items"] += 1  # the artifact changes after the sign-off
    (private / "eval_position.json").write_text(json.dumps(document))
    status = {s["artifact"]: s["status"] for s in signoff_status(spec, private)}
    assert status["eval_position"] == "stale"
    owner = build_owner(spec, private, assess_gap(spec, private))
    row = next(c for c in owner["checks"] if "eval plan" in c["check"])
    assert row["ok"] is False and row["detail"].startswith("stale") and signed.by in row["detail"]
    write_artifact(private, "owner", owner, spec)


def _passing_project(write_spec, sample_spec_data) -> Path:
    return write_spec(with_owner_and_eu_provider(sample_spec_data))


def test_check_fails_on_the_sample_and_passes_when_fixed(
    week_out, write_spec, sample_spec_data, tmp_path: Path
) -> None:
    project, out = week_out
    runner = CliRunner()
    failing = runner.invoke(main, ["check", str(out), "--project", str(project)])
    assert failing.exit_code == 1
    assert "NOT READY" in failing.output and "No named production owner" in failing.output

    fixed = _passing_project(write_spec, sample_spec_data)
    spec = load_spec(fixed)
    fixed_out = tmp_path / "out"
    write_artifact(fixed_out, "eval_position", build_eval_position(spec, fixed_out, progress=False), spec)
    write_artifact(fixed_out, "gap", assess_gap(spec, fixed_out), spec)  # the week's closing step
    assert check_gate(spec, fixed_out) == []
    passing = runner.invoke(main, ["check", str(fixed_out), "--project", str(fixed)])
    assert passing.exit_code == 0 and "ready" in passing.output

    # a threshold in rescue.yaml's gate turns the same artifacts into a failure
    text = (
        fixed / "rescue.yaml"
    ).read_text() + "gate: {min_macro_f1_low: 0.8, min_contract_valid_rate: 0.99}\n"
    (fixed / "rescue.yaml").write_text(text)
    gated = runner.invoke(main, ["check", str(fixed_out), "--project", str(fixed)])
    assert (
        gated.exit_code == 1
        and "macro-F1 lower bound" in gated.output
        and "contract valid rate" in gated.output
    )


def test_sign_command(week_out, tmp_path: Path) -> None:
    project, out = week_out
    private = tmp_path / "out"
    shutil.copytree(out, private)
    result = CliRunner().invoke(main, ["sign", str(project), str(private), "data_picture", "--scope", "data access",
                                       "--by", "Dana Okafor", "--link", "https://wiki.example.com/da"])  # fmt: skip
    assert result.exit_code == 0 and "signed: data access" in result.output
    missing = CliRunner().invoke(
        main,
        [
            "sign",
            str(project),
            str(tmp_path),
            "gap",
            "--scope",
            "compliance",
            "--by",
            "X",
            "--link",
            "https://x.example",
        ],
    )
    assert missing.exit_code == 2 and "nothing to sign" in missing.output


def test_a_readout_without_the_later_days_says_so_and_never_calls_unknown_does_not_apply(
    tmp_path: Path,
) -> None:
    spec = load_spec(copy_sample(tmp_path / "p"))
    out = tmp_path / "out"
    write_artifact(out, "gap", assess_gap(spec, out), spec)  # Day 1 only, then Day 5
    readout = build_readout(spec, out, as_of=date(2026, 11, 25))
    assert readout["evidence_missing"] == ["data_picture", "eval_set", "eval_position"]
    verdicts = {d["id"]: d for d in readout["diagnosis"]}
    hand_waved = verdicts["integration_hand_waved"]  # main said "does not apply" here, citing a missing Day 4
    assert hand_waved["verdict"] == "unknown" and hand_waved["from"] == ["gap.json"]
    assert any(e.startswith("At least 99% of the PoC's outputs on production inputs validate against the contract: "
                            "unknown") for e in hand_waved["evidence"])  # fmt: skip
    for d in readout["diagnosis"]:
        assert not ("unknown" in " ".join(d["evidence"]) and d["verdict"] == "does not apply"), d
        assert all((out / name).exists() for name in d["from"]), d  # cites only artifacts that exist


def test_the_decision_is_a_badge_a_manager_finds_first(week_out) -> None:
    from rescue.readout import display as show

    project, out = week_out
    readout = build_readout(load_spec(project), out, as_of=date(2026, 11, 25))
    badge = show.decision_badge(readout).data
    assert ">NO-GO</p>" in badge and "background:#b3261e" in badge and "font-size:30px" in badge
    assert 'class="rescue-badge no-go"' in badge  # the pages' style sheet styles it on screen and in print
    assert "border:3px solid" in badge  # it survives grey print
    text = show.decision_markdown(readout)
    assert not text.startswith("###")  # the badge carries the decision, once
    blockers = [line for line in text.splitlines() if line.startswith("- ")]
    assert blockers == [f"- {b}." for b in readout["because"]]  # the blockers follow, one sentence each
    assert len(blockers) == 2 and blockers[0].startswith("- No named production owner on the customer team: ")


def _ids_in(text: str) -> list[str]:
    from rescue.gap import load_catalogue

    return [c.id for c in load_catalogue().checks if c.id in text]


def test_the_readout_says_checks_by_their_titles(week_out) -> None:
    from rescue.readout import display as show

    project, out = week_out
    readout = build_readout(load_spec(project), out, as_of=date(2026, 11, 25))
    assert (
        _ids_in(" ".join(e for d in readout["diagnosis"] for e in d["evidence"])) == []
    )  # readout.md reads them too
    assert all(
        _ids_in(g["check"]) for g in readout["top_gaps"]
    )  # readout.json keeps the ids where they are ids
    shown = [show.diagnosis_table(readout).data, show.decision_markdown(readout), show.top_gaps_table(readout).data,
             show.plan_table(readout).data, show.summaries_markdown(readout)]  # fmt: skip
    assert _ids_in(" ".join(shown)) == []
    harness = show.diagnosis_table(readout).data
    assert "The PoC is compared with a simple baseline on the same production items: pass — compared with the " \
           "baseline on 974 production items" in harness  # fmt: skip
    assert "p95 latency" in show.summaries_markdown(readout) and " ms" in show.summaries_markdown(readout)


def test_the_plan_is_grouped_by_week_with_its_dates_once_and_later_weeks_folded(week_out) -> None:
    from rescue.readout import display as show

    project, out = week_out
    readout = build_readout(load_spec(project), out, as_of=date(2026, 11, 25))
    frame = show.plan_frame(readout)
    dated = [w for w in frame["Week"] if w]
    assert len(dated) == len(readout["plan"]) and dated[0] == "Week 1: Mon 30 Nov – Fri 4 Dec 2026"
    assert len(frame) == sum(len(w["items"]) for w in readout["plan"])
    page = show.plan_table(readout).data
    weeks = page.split("<details")[1:]
    assert len(weeks) == len(readout["plan"])
    assert weeks[0].startswith(" open><summary>Week 1, Mon 30 Nov – Fri 4 Dec 2026 — ")
    assert all(w.startswith("><summary>") for w in weeks[1:])  # folded: the summary line says enough
    first = readout["plan"][0]
    assert f"{len(first['items'])} work items (" in weeks[0] and "blocker" in weeks[0].split("</summary>")[0]
    for week, html in zip(readout["plan"], weeks, strict=True):
        assert html.count("<tr>") == len(week["items"]) + 1
    assert "Mon 28 Dec 2026 – Fri 1 Jan 2027" in page  # a week across the new year names both years
    assert "<p>Nothing open" in show.plan_table({"plan": []}).data


def test_the_plan_escapes_what_it_shows(week_out) -> None:
    from rescue.readout import display as show

    project, out = week_out
    readout = build_readout(load_spec(project), out, as_of=date(2026, 11, 25))
    readout["plan"][0]["items"][0] |= {"work": "<script>x()</script>", "role": "<b>r</b>"}
    page = show.plan_table(readout).data
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;r&lt;/b&gt;" in page
