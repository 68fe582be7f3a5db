"""What the Day 1 workbook shows: summary, tables, chart and the attestation form."""

from __future__ import annotations

from pathlib import Path

from rescue.gap import area_table, assess_gap, attestation_form, gap_table, plot_area_scores, summary_markdown
from rescue.spec import load_attestations, load_spec


def test_summary_names_verdict_and_blockers(sample_project: Path) -> None:
    text = summary_markdown(assess_gap(load_spec(sample_project)))
    assert "BLOCKED" in text
    assert "ownership.owner_named" in text and "compliance.residency" in text
    assert "day 2, day 4" in text


def test_tables_and_chart(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project))
    table = gap_table(report)
    assert len(table.data) == len(report["checks"])
    statuses = list(table.data["Status"])
    # open checks come first within an area
    latency = [s for s, a in zip(statuses, table.data["Area"], strict=True) if a == "Latency / SLA"]
    assert latency[-1] == "✔ pass"
    assert len(gap_table(report, only_open=True).data) == len(report["checks"]) - report["counts"]["pass"]
    areas = area_table(report)
    assert list(areas["Score"]) == sorted(areas["Score"])
    fig = plot_area_scores(report)
    assert len(fig.axes[0].patches) == len(report["areas"])


def test_attestation_form_saves_to_the_project(sample_project: Path) -> None:
    spec = load_spec(sample_project)
    report = assess_gap(spec)
    saved = []
    form = attestation_form(spec, report, on_saved=lambda: saved.append(True))
    check, by, role, _when, link, note, button, message = form.children[1:]
    offered = {value for _, value in check.options}
    assert "ownership.owner_named" in offered
    assert not offered & {c["id"] for c in report["checks"] if c["status"] == "pass"}
    check.value = "rollback.plan"
    by.value, role.value, link.value, note.value = (
        "Ada Example",
        "SRE lead",
        "https://wiki.example.com/rb",
        "drill done",
    )
    button.click()
    assert saved == [True] and "Saved" in message.value
    assert any(
        a.check == "rollback.plan" and a.by == "Ada Example"
        for a in load_attestations(load_spec(sample_project))
    )
    # a bad link is shown as an error in the form and nothing is written
    link.value = "not a link"
    button.click()
    assert "link" in message.value and len(saved) == 1
