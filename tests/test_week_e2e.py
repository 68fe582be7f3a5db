"""End to end: the whole week on a copy of the sample project, with a planted secret."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from rescue.artifacts import read_artifact
from rescue.auditlog import read_log, verify_log
from rescue.pdf import find_chromium
from rescue.week import DAYS, run_week
from tests.conftest import copy_rag_sample

PDF_EVENTS = [("pdf", None, None)] if find_chromium() else []  # readout.pdf, when a chromium is here

PLANTED = "postgres://auditor:Pl4nted-e2e-S3cret-7f3a@db.internal.example/prod"


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_week_on_the_sample_project_with_a_planted_secret(
    sample_project: Path, tmp_path: Path, monkeypatch
) -> None:
    spec_file = sample_project / "rescue.yaml"
    spec_file.write_text(
        spec_file.read_text().replace(
            "\neval:",
            "\n  - {name: warehouse, kind: postgres, table: feedback, dsn: '${RESCUE_E2E_DSN}'}\n\neval:",
            1,
        )
    )
    monkeypatch.setenv("RESCUE_E2E_DSN", PLANTED)
    sources_before = _hashes(sample_project / "sources")
    out = tmp_path / "out"

    pages = run_week(sample_project, out, progress=False)

    assert [p.name for p in pages] == [f"{d.artifact}.html" for d in DAYS]
    assert len(DAYS) >= 2
    gap = read_artifact(out, "gap")
    checks = {c["id"]: c for c in gap["checks"]}
    # the secret was resolved (the check passed) ...
    assert checks["security.credentials_available"]["status"] == "pass"
    assert gap["verdict"] == "blocked"
    # ... and appears in no artifact, page, executed notebook or log
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert PLANTED.encode() not in data, f
            assert b"Pl4nted-e2e-S3cret" not in data, f
    # the audit trail: artifact record from inside each workbook + workbook record from the runner;
    # the closing step: day 1 runs again after day 4 to pick up the later days' evidence, before day 5 reads it
    events = [(r["event"], r.get("artifact") or r.get("day"), r.get("status")) for r in read_log(out)]
    assert events == [
        ("artifact", "gap", None), ("workbook", 1, "ok"),
        ("artifact", "data_picture", None), ("workbook", 2, "ok"),
        ("artifact", "eval_set", None), ("workbook", 3, "ok"),
        *[("calls", None, "started"), ("calls", None, "finished")] * 3,  # PoC on production, on the demo; baseline
        ("artifact", "eval_position", None), ("workbook", 4, "ok"),
        ("artifact", "gap", None), ("workbook", 1, "ok"),
        ("artifact", "owner", None), ("artifact", "readout", None), ("workbook", 5, "ok"),
        *PDF_EVENTS,  # readout.pdf, printed by Debian's chromium when it is here
    ]  # fmt: skip
    assert verify_log(out) == 19 + len(PDF_EVENTS)
    home = (
        out / "index.html"
    ).read_text()  # the audit's home page: the decision, every day run, links that lead
    assert "NO-GO" in home and home.count('class="run">run') == len(DAYS)
    assert all((out / link).exists() for link in re.findall(r'href="([^"]+)"', home))
    readout = read_artifact(out, "readout")
    assert readout["decision"] == "no-go" and "sales_artifact" in readout["stall_reasons_applying"]
    assert (out / "readout.md").read_text().startswith("# Readout")
    eval_set = read_artifact(out, "eval_set")
    assert (
        eval_set["labels"]["coverage"] == 1.0 and (out / "eval_set.parquet").exists()
    )  # batch mode imported the labels
    position = read_artifact(out, "eval_position")
    assert position["demo_vs_production"]["gap"] > 0.4 and position["comparison"]["n_paired"] == 974
    assert checks["eval.baseline_on_production"]["status"] == "pass"  # the closing day 1 saw day 4
    assert (
        checks["data_pipeline.sources_profiled"]["status"] == "fail"
    )  # the planted warehouse is unreachable
    picture = read_artifact(out, "data_picture")
    warehouse = next(s for s in picture["sources"] if s["name"] == "warehouse")
    assert warehouse["status"] == "unavailable" and warehouse["error"]["kind"] == "connection"
    workbook_record = next(r for r in reversed(read_log(out)) if r.get("day") == 1)
    assert set(workbook_record["outputs"]) == {"notebooks/day1_production_gap.ipynb", "gap.html", "gap.json"}
    assert workbook_record["parameters"]["interactive"] is False
    # the page is for a reader: no code, no parameters, nothing loaded from a network
    html = (out / "gap.html").read_text()
    assert "BLOCKED" in html and "Readiness by area" in html
    assert "assess_gap" not in html and "interactive: bool" not in html
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']?(?:https?:)?//", html)
    assert "data:image/png;base64" in html
    # the audit never writes to a source
    assert _hashes(sample_project / "sources") == sources_before
    json.loads((out / "gap.json").read_text())
    _pages_say_what_they_are(out, "pharma-feedback-triage")


def _text(page: Path) -> str:
    html = re.sub(r"<style.*?</style>", "", page.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _pages_say_what_they_are(out: Path, project: str) -> None:
    """Every page opens with its title block and links home; the decision is a badge; numbers carry units."""
    from rescue import __version__
    from rescue.gap import load_catalogue

    pages = sorted(out.glob("*.html"))
    assert {p.name for p in pages} == {f"{d.artifact}.html" for d in DAYS} | {"index.html"}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        header = html[html.index('<header class="rescue-header">') :].split("</header>", 1)[0]
        assert project in header and f"rescue {__version__}" in header, page.name
        assert re.search(r"spec sha256 [0-9a-f]{12}", header) and re.search(
            r"audit of \d{4}-\d{2}-\d{2}", header
        )
        assert 'href="index.html"' in header, page.name
        ids = [c.id for c in load_catalogue().checks if c.id in _text(page)]
        assert ids == [], (page.name, ids)  # checks by their titles, never their ids
    for name in ("index.html", "readout.html"):
        assert re.search(r'class="rescue-badge (no-go|conditional|go)"', (out / name).read_text()), name
    for name in ("gap.html", "eval_position.html", "readout.html"):
        text = _text(out / name)
        assert re.search(r"\d ms\b", text) and "€" in text, name  # latency in ms, cost in EUR
        assert not re.search(r"measured \d|meets the requirement [<>]=? \d|p = 0\.\d{3,}", text), name


RAG_KEY = "sk-e2e-Pl4nted-rag-9c41"


@pytest.mark.slow
def test_week_on_the_rag_sample_with_a_secret_api_key(tmp_path: Path, monkeypatch) -> None:
    project = copy_rag_sample(tmp_path, api_key_env="RESCUE_E2E_RAG_KEY")
    monkeypatch.setenv("RESCUE_E2E_RAG_KEY", RAG_KEY)
    sources_before = _hashes(project / "sources")
    out = tmp_path / "out"

    pages = run_week(project, out, progress=False)

    assert [p.name for p in pages] == [f"{d.artifact}.html" for d in DAYS]
    position = read_artifact(out, "eval_position")
    g = position["generation"]
    # every number came through the ledger: PoC, baseline system, demo and the judge on every criterion; then the
    # traces sample: the PoC's replay, production's recorded answers (no call made), and the judge on both for
    # each criterion it is trusted on
    t = position["traces"]
    trusted = [c for c in t["criteria"] if c["judge_trusted"]]
    answered = (60 - t["production_vs_replay"]["recorded_missing"]) + (60 - t["replay_failed"])
    assert position["ledger"]["calls"] == 158 + 158 + 5 + 3 * 154 + 2 * 60 + len(trusted) * answered
    # production's own traffic, sampled at random by model and weighted back: the PoC built for one question
    # template answers little of what production is asked (the judge withheld where it disagrees with people)
    assert t["sample"]["size"] == 60 and t["sample"]["population"] == 3000
    assert t["sample"]["stratified_by"] == ["source", "model"] and t["cluster"] == "session_id"
    by = {c["criterion"]: c for c in t["criteria"]}
    assert by["grounded"]["production"] is None and by["grounded"]["withheld_because"]
    asked = by["answers_question"]
    assert asked["replay"]["high"] < asked["production"]["low"] and asked["difference"]["high"] < 0
    assert asked["production"]["clusters"] == t["sample"]["sessions"]
    assert read_artifact(out, "eval_set")["traces"]["size"] == 60
    assert "Production traces" in (out / "eval_set.html").read_text()
    assert "Production's own traffic" in (out / "eval_position.html").read_text()
    assert position["design"]["cluster"] == "drug" and position["design"]["estimate"]["design_effect"] > 1
    assert (
        g["reference"]["comparison"]["token_f1"]["n"] == 158 and g["retrieval"]["ndcg"]["value"] is not None
    )
    assert g["retrieval"]["budget"]["source"] == "reviews"  # from the Day 2 probes
    crit = {c["name"]: c for c in g["rubric"]}
    assert crit["grounded"]["withheld_because"] and crit["answers_question"]["calibrated"]
    assert crit["faithful"]["calibrated"]  # faithfulness to the retrieved context, by the calibrated judge
    _pages_say_what_they_are(out, "drug-answers")
    html = (out / "eval_position.html").read_text()
    assert "judge-only score withheld" in html and "prediction-powered inference" in html
    # derived grades are never passed off as human
    assert "60 of 60 grades were not given by a person" in html
    assert read_artifact(out, "eval_set")["rubric"][0]["graded"] == 60
    assert position["target"]["weakest_criterion"] == "grounded" and position["target"]["meets"] is False
    checks = {c["id"]: c for c in read_artifact(out, "gap")["checks"]}  # the closing day 1 saw day 4
    assert checks["eval.meets_quality_target"]["status"] == "fail"
    assert checks["eval.slices_checked"]["status"] == "pass"
    worst = position["slices"]["rows"][0]  # combination products: the PoC's retrieval splits their names
    assert worst["value"] == "combination" and worst["significantly_worse"]
    assert "targets.min_pass_rate" in " ".join(checks["eval.meets_quality_target"]["inputs"])
    # the production traces (Day 2): latency and cost observed in production beside Day 4's replay, and the
    # prompts with personal data that went to the US endpoint fail residency (the spec alone says it gets none)
    for check in ("latency.meets_target", "cost.meets_target"):
        assert checks[check]["evidence"].startswith("measured on replay: ")
        assert "; observed in production: " in checks[check]["evidence"]
    residency = checks["compliance.residency"]
    assert residency["status"] == "fail" and "api.us-east.example-llm.com:443" in residency["evidence"]
    assert "Production traces" in (out / "data_picture.html").read_text()
    readout = read_artifact(out, "readout")
    assert readout["summaries"]["eval_position"]["task"] == "generation"
    for f in out.rglob("*"):
        if f.is_file():
            assert RAG_KEY.encode() not in f.read_bytes(), f
    assert _hashes(project / "sources") == sources_before
    # and a started and a finished record of each batch of calls: 8 batches, then the traces sample's replay,
    # recorded answers and the judge on both for each trusted criterion
    assert verify_log(out) == 13 + 2 * (8 + 2 + 2 * len(trusted)) + len(PDF_EVENTS)
