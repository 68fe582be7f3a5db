"""The data picture of the sample project: real findings, named errors, nothing written."""

from __future__ import annotations

import copy
import hashlib
from datetime import date
from pathlib import Path

import pytest

from rescue.artifacts import read_artifact, write_artifact
from rescue.data import display
from rescue.data.picture import build_picture
from rescue.gap import assess_gap
from rescue.spec import load_spec
from tests.conftest import copy_sample

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    project = copy_sample(tmp_path_factory.mktemp("p"))
    spec = load_spec(project)
    return spec, build_picture(spec, as_of=AS_OF, probes=5)


def _source(picture, name):
    return next(s for s in picture["sources"] if s["name"] == name)


def test_every_sample_source_is_profiled_with_real_findings(picture) -> None:
    _, pic = picture
    assert pic["summary"]["reachable"] == 3 and pic["summary"]["unreachable_sources"] == 0
    crm = _source(pic, "crm")
    assert crm["rows"] == 450 and crm["engine"] == "sqlite"
    body = crm["profile"]["body"]
    assert body["html_entities"] == 289  # the drug reviews' &#039; and &amp;
    assert crm["profile"]["condition"]["markup"] >= 1  # "3</span> users found this comment helpful."
    assert crm["profile"]["received_at"]["placeholders"] == 9  # 1900-01-01
    web = _source(pic, "web-form")
    assert web["rows"] == 305 and web["duplicate_rows"] == 5
    assert web["profile"]["comment"]["mojibake"] >= 20
    assert web["profile"]["rating_stars"]["inferred"] == "number"
    assert web["profile"]["rating_stars"]["cast_failures"] == 4  # "four", "ten", ...
    assert web["key"]["unique"] is False and web["key"]["duplicates"] == 5
    app = _source(pic, "app-feedback")
    assert app["rows"] == 224 and app["freshness"]["lag_days"] > 365  # an export, not a feed


def test_ownership_residency_and_demo(picture) -> None:
    _, pic = picture
    assert pic["summary"]["unowned_sources"] == ["app-feedback"]
    assert pic["summary"]["owners_without_evidence"] == ["web-form"]
    assert [p["region_allowed"] for p in pic["residency"]["providers"]] == [False]
    dvp = pic["demo_vs_production"]
    assert dvp["demo"]["rows"] == 5 and dvp["demo"]["html_entities"] == 0
    production = {p["source"]: p for p in dvp["production"]}
    assert production["crm"]["html_entities"] > 0.6 and production["web-form"]["mojibake"] > 0.05
    assert dvp["demo_texts_found_in_production"] == 0
    assert dvp["demo"]["len_p50"] < min(p["len_p50"] for p in dvp["production"])
    assert any(o["shared_texts"] == 1 for o in pic["cross_source"]["text_overlap"])  # Implanon = Etonogestrel


def test_personal_data_counted_never_shown(picture) -> None:
    _, pic = picture
    crm = _source(pic, "crm")
    assert crm["pii"]["customer_email"]["email"] == 270
    assert crm["pii"]["customer_phone"]["phone"] == 135
    assert "crm" in pic["summary"]["personal_data_found_in"]
    import json

    text = json.dumps(pic)
    assert "@example.org" not in text and "7946" not in text


def test_latency_measured_and_fed_to_the_gap(picture, tmp_path: Path) -> None:
    spec, pic = picture
    for s in pic["sources"]:
        lat = s["latency"]
        assert lat["connect_ms"] >= 0 and lat["first_row_ms"] > 0
        assert lat["point_lookup_p95_ms"] >= lat["point_lookup_p50_ms"] > 0
        assert lat["probe_limit"] == 5 and 1 <= lat["probes"] <= 5
    assert pic["latency"]["worst_p95_ms"] == max(s["latency"]["point_lookup_p95_ms"] for s in pic["sources"])
    write_artifact(tmp_path, "data_picture", pic, spec)
    assert read_artifact(tmp_path, "data_picture")["summary"]["reachable"] == 3
    checks = {c["id"]: c for c in assess_gap(spec, tmp_path)["checks"]}
    assert checks["latency.source_reads_fit"]["status"] == "pass"
    assert checks["data_pipeline.sources_profiled"]["status"] == "pass"


def test_display_helpers(picture) -> None:
    _, pic = picture
    inv = display.inventory_table(pic)
    assert list(inv["Source"]) == ["crm", "web-form", "app-feedback"]
    assert "no evidence" in inv.loc[1, "Owner"] and inv.loc[2, "Owner"] == "— none —"
    text = display.findings_markdown(pic)
    assert "HTML entities" in text and "mojibake" in text and "example-llm in us-east-1" in text
    matrix = display.issue_matrix(pic)
    assert matrix.loc["crm.body", "HTML entity"] > 0.5
    assert display.plot_cleanliness(pic).axes and display.plot_latency(pic).axes


def _hash_tree(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_broken_sources_are_reported_and_the_rest_still_renders(
    write_spec, sample_spec_data, tmp_path
) -> None:
    data = copy.deepcopy(sample_spec_data)
    data["sources"][0]["table"] = "feedbak"
    data["sources"][2]["location"] = "sources/gone.parquet"
    data["sources"][1]["encoding"] = "ascii"
    data["sources"].append(
        {"name": "wh", "kind": "postgres", "table": "t", "dsn": "${RESCUE_PIC_DSN}", "timeout_s": 3}
    )
    data["sources"].append(
        {
            "name": "other",
            "kind": "csv",
            "location": "sources/web_form_export.csv",
            "delimiter": ";",
            "encoding": "cp1252",
            "text_column": "nope",
        }
    )
    project = write_spec(data)
    spec = load_spec(project)
    before = _hash_tree(project / "sources")
    pic = build_picture(spec, as_of=AS_OF, probes=3)
    errors = {s["name"]: (s["status"], s["error"]["kind"] if s["error"] else None) for s in pic["sources"]}
    assert errors == {
        "crm": ("unavailable", "no_table"),
        "web-form": ("unavailable", "encoding"),
        "app-feedback": ("unavailable", "missing_file"),
        "wh": ("unavailable", "credentials"),
        "other": ("unavailable", "no_column"),
    }
    assert pic["summary"]["unreachable_sources"] == 5
    write_artifact(tmp_path, "data_picture", pic, spec)  # still a valid artifact
    assert "unavailable" in display.findings_markdown(pic)
    assert _hash_tree(project / "sources") == before


def test_issue_shares_divide_by_the_rows_each_check_saw() -> None:
    """Above 200k rows the text checks see a sample: their counts are shares of checked_rows, not of rows."""
    column = {"nulls": 100_000, "blanks": 5_000, "html_entities": 500, "checked_rows": 50_000}
    big = {"name": "big", "status": "ok", "rows": 1_000_000, "sampled_rows": None, "profile": {"t": column}}
    matrix = display.issue_matrix({"sources": [big]})
    assert matrix.loc["big.t", "null"] == 0.1
    assert matrix.loc["big.t", "blank"] == 0.1 and matrix.loc["big.t", "HTML entity"] == 0.01


def test_an_empty_table_is_profiled_as_empty_not_unavailable(sample_project: Path, tmp_path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(sample_project / "sources" / "crm.sqlite")
    con.execute("DELETE FROM feedback")  # the copy's, never the sample's
    con.commit()
    con.close()
    spec = load_spec(sample_project)
    pic = build_picture(spec, as_of=AS_OF, probes=3)
    crm = next(s for s in pic["sources"] if s["name"] == "crm")
    assert crm["status"] == "ok" and crm["rows"] == 0, crm.get("error")
    write_artifact(tmp_path, "data_picture", pic, spec)
    assert "crm" in display.findings_markdown(pic)
