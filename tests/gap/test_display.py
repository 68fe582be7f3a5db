"""What the Day 1 workbook shows: summary, the gap grouped by area, chart and the attestation form."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from rescue.gap import (
    area_chart,
    area_table,
    assess_gap,
    attestation_form,
    gap_table,
    load_catalogue,
    plot_area_scores,
    summary_markdown,
)
from rescue.gap.display import STATUS_ICONS, attest_order, gap_groups, gap_html
from rescue.spec import load_attestations, load_spec

CHECK_IDS = [c.id for c in load_catalogue().checks]


def _ids_in(text: str) -> list[str]:
    return [i for i in CHECK_IDS if i in text]


def test_summary_names_verdict_and_blockers_in_words(sample_project: Path) -> None:
    text = summary_markdown(assess_gap(load_spec(sample_project)))
    assert "BLOCKED" in text
    assert "- No named production owner on the customer team: Priya Raman" in text
    assert "- Personal data goes to a provider or store outside the allowed regions: outside allowed" in text
    assert "weakest: Observability, Ownership, Rollback" in text
    assert "day 2, day 4" in text
    assert _ids_in(text) == []  # a reader sees titles, never check ids


def test_the_gap_is_grouped_by_area_open_checks_first_and_passing_ones_folded(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project))
    groups = gap_groups(report)
    assert [g["area"]["id"] for g in groups] == [a["id"] for a in report["areas"]]
    order = {"fail": 0, "unknown": 1, "attested": 2}
    for g in groups:
        statuses = [c["status"] for c in g["open"]]
        assert statuses == sorted(statuses, key=order.__getitem__), g["area"]["id"]
        assert all(c["status"] == "pass" for c in g["passing"])
        assert len(g["open"]) + len(g["passing"]) == g["area"]["checks"]

    page = gap_html(report)
    sections = page.split('<section class="rescue-gap-area">')[1:]
    assert len(sections) == len(report["areas"])
    for g, section in zip(groups, sections, strict=True):
        shown, _, folded = section.partition("<details>")
        assert shown.count(STATUS_ICONS["pass"]) == 0  # passing checks only under the fold
        if g["passing"]:
            assert folded.count("<tr>") == len(g["passing"]) + 1  # the header row and one per check
            assert re.search(r"<summary>\d+ checks? pass(es)?, computed by rescue", folded)
        else:
            assert not folded
        icons = re.findall("|".join(re.escape(i) for i in STATUS_ICONS.values()), shown)
        assert icons == [STATUS_ICONS[c["status"]] for c in g["open"]]
    latency = sections[0]
    assert latency.index("<h3>Latency / SLA") < latency.index("<table")
    assert _ids_in(page) == []
    only_open = gap_html(report, only_open=True)
    assert "<details>" not in only_open and STATUS_ICONS["pass"] not in only_open
    assert gap_table(report).data == page


def test_the_gap_page_escapes_what_it_shows(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project))
    hostile = '<script>alert("x")</script>'
    report["checks"][0] |= {"evidence": hostile, "title": hostile, "remedy": hostile, "status": "fail"}
    report["areas"][0]["title"] = hostile
    page = gap_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_tables_and_chart(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project))
    areas = area_table(report)
    assert list(areas["Score"]) == sorted(areas["Score"])
    fig = plot_area_scores(report)
    assert len(fig.axes[0].patches) == len(report["areas"])


def test_the_area_charts_alt_text_gives_every_areas_score(sample_project: Path) -> None:
    report = assess_gap(load_spec(sample_project))
    image = area_chart(report)
    alt = image.metadata["alt"]
    assert alt.startswith(
        f"Production readiness by area (headline {report['headline_score']:.2f}, the lowest)"
    )
    assert all(f"{a['title']} {a['score']:.2f}" in alt for a in report["areas"])
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"


def _form(sample_project: Path, **kwargs):
    spec = load_spec(sample_project)
    report = assess_gap(spec)
    return spec, report, attestation_form(spec, report, **kwargs)


def test_the_form_offers_the_checks_that_need_a_person_first(sample_project: Path) -> None:
    _, report, form = _form(sample_project)
    offered = [value for _, value in form.check.options]
    by_id = {c["id"]: c for c in report["checks"]}
    assert not {i for i in offered if by_id[i]["status"] == "pass"}
    assert offered == [c["id"] for c in attest_order(report)]
    first = by_id[form.check.value]
    assert first["status"] == "unknown" and first["evidence_kind"] == "attested"  # not a computed check
    kinds = [(by_id[i]["status"], by_id[i]["evidence_kind"]) for i in offered]
    needing = kinds.index(("unknown", "computed"))
    assert set(kinds[:needing]) == {("unknown", "attested")}
    assert kinds[-1] == ("fail", "computed")  # an attestation of a computed failure does not count: last
    labels = [label for label, _ in form.check.options]
    assert _ids_in(" ".join(labels)) == [] and "needs a person" in labels[0]


def test_the_form_saves_to_the_project_then_clears_and_moves_on(sample_project: Path) -> None:
    saved = []
    _, _, form = _form(sample_project, on_saved=lambda: saved.append(True))
    assert form.save_button.layout.width == "auto" and form.reassess_button.layout.width == "auto"
    assert form.save_button.description == "Record attestation"
    first = form.check.value
    options = [value for _, value in form.check.options]
    form.by.value, form.role.value, form.link.value, form.note.value = (
        "Ada Example", "SRE lead", "https://wiki.example.com/rb", "drill done",
    )  # fmt: skip
    form.save_button.click()
    assert saved == [True] and "Saved" in form.message.value and "Re-assess the gap" in form.message.value
    assert "cell" not in form.message.value
    (recorded,) = [a for a in load_attestations(load_spec(sample_project)) if a.check == first]
    assert (recorded.by, recorded.role, recorded.note) == ("Ada Example", "SRE lead", "drill done")
    # every field is empty again: nothing of this attestation carries onto the next check
    assert (form.by.value, form.role.value, form.link.value, form.note.value) == ("", "", "", "")
    assert form.when.value == date.today()
    assert form.check.value == options[1] != first  # the next check that needs a person
    (label,) = [label for label, value in form.check.options if value == first]
    assert (
        "attested by you, just now" in label
    )  # listed with the attested checks now, not as needing a person
    form.save_button.click()  # an empty form writes nothing
    assert len(saved) == 1


@pytest.mark.parametrize(
    ("fill", "says"),
    [
        ({"by": "", "link": "https://x.example"}, "Name: type the full name of the person attesting"),
        ({"by": "Ada", "link": ""}, "Link: paste where the evidence is"),
        ({"by": "Ada", "link": "not a link"}, "Link: paste where the evidence is"),
        (
            {"by": "Ada", "link": "https://x.example", "when": date.today() + timedelta(days=3)},
            "Date: pick the day",
        ),
    ],
)
def test_the_forms_errors_name_its_own_fields(sample_project: Path, fill: dict, says: str) -> None:
    _, _, form = _form(sample_project)
    before = (sample_project / "attestations.yaml").read_text()
    form.by.value, form.link.value = fill["by"], fill["link"]
    if "when" in fill:
        form.when.value = fill["when"]
    form.save_button.click()
    message = form.message.value
    assert "Not saved" in message and says in message
    for spec_words in ("`by`", " by:", "pattern", "^(", "got ", "expected", "attestations.yaml is invalid"):
        assert spec_words not in message  # never the file's field names or a raw regex
    assert form.by.value == fill["by"]  # nothing cleared: the person fixes what the form says
    assert (sample_project / "attestations.yaml").read_text() == before


def test_re_assess_rescores_rewrites_gap_json_and_redraws_the_table(
    sample_project: Path, tmp_path: Path
) -> None:
    spec = load_spec(sample_project)
    report = assess_gap(spec)
    table = gap_table(report, live=True)
    (before,) = table.outputs
    form = attestation_form(spec, report, out=tmp_path, table=table)
    assert form.reassess_button.description == "Re-assess the gap"
    target = form.check.value
    title = next(c["title"] for c in report["checks"] if c["id"] == target)
    form.by.value, form.link.value = "Ada Example", "https://wiki.example.com/rb"
    form.save_button.click()
    assert table.outputs == (before,)  # saved, not rescored yet
    form.reassess_button.click()
    assert "Re-assessed" in form.message.value and "table above is redrawn" in form.message.value
    (after,) = table.outputs
    assert after["data"]["text/html"] != before["data"]["text/html"] and title in after["data"]["text/html"]
    written = json.loads((tmp_path / "gap.json").read_text())
    check = next(c for c in written["checks"] if c["id"] == target)
    assert check["status"] == "attested" and written["counts"]["attested"] == report["counts"]["attested"] + 1
    assert form.report["counts"] == written["counts"]
    assert (
        form.check.value != target
    )  # the list is rebuilt from the new assessment: the check is attested now
