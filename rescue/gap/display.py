"""How the Day 1 workbook shows the gap: summary, table, area chart and the attestation form."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..charts import captioned
from ..spec import Attestation, Spec
from ..tables import table
from .plan import SEVERITY, STATUS

STATUS_COLOURS = {"pass": "#d8f0d8", "attested": "#fff2c6", "fail": "#f8d4d4", "unknown": "#e8e8e8"}
STATUS_ICONS = {"pass": "✔ pass", "attested": "◐ attested", "fail": "✘ fail", "unknown": "? unknown"}
VERDICTS = {
    "blocked": "**BLOCKED** — a blocker applies, whatever the score",
    "gaps": "**GAPS** — not production-ready yet",
    "ready": "**READY** — every check computed and passing",
}


def blocker_sentence(blocker: dict[str, Any]) -> str:
    """An active blocker in one sentence: its title and its check's evidence (never the check's id)."""
    status = {"unknown": " — not settled yet", "attested": " — attested, but it needs a computed check"}
    return f"{blocker['title']}{status.get(blocker['status'], '')}: {blocker['evidence']}."


def summary_markdown(report: dict[str, Any]) -> str:
    """A short Markdown summary: verdict, headline score, weakest areas, active blockers."""
    counts = report["counts"]
    area_titles = {a["id"]: a["title"] for a in report["areas"]}
    lines = [
        f"### Verdict: {VERDICTS[report['verdict']]}",
        "",
        f"- Headline score (minimum over areas, ML Test Score style): **{report['headline_score']:.2f}** "
        f"— weakest: {', '.join(area_titles.get(a, a) for a in report['weakest_areas'])}",
        f"- Checks: {counts['pass']} computed and passing, {counts['attested']} attested, "
        f"{counts['fail']} failing, {counts['unknown']} unknown "
        f"({report['points']:.1f} of {report['max_points']:.0f} points)",
    ]
    active = [b for b in report["blockers"] if b["applies"]]
    if active:
        lines += ["", "**Blockers**", ""]
        lines += [f"- {blocker_sentence(b)}" for b in active]
    pending = sorted({c["pending"] for c in report["checks"] if c["pending"] and c["status"] == "unknown"})
    if pending:
        lines += ["", f"_Some checks wait for evidence from {', '.join(pending)}; re-run Day 1 after them._"]
    return "\n".join(lines)


# the columns of each area's table, and their share of its width (the same in every area: the tables line up)
OPEN_COLUMNS = {"Requirement": 22, "Severity": 7, "Status": 8, "Evidence": 22, "Produced by": 14,
                "Next step": 19, "Rubric": 8}  # fmt: skip
PASSING_COLUMNS = {"Requirement": 30, "Severity": 7, "Evidence": 30, "Produced by": 23, "Rubric": 10}


def _row(c: dict[str, Any], columns: dict[str, int]) -> dict[str, str]:
    row = {
        "Requirement": c["title"],
        "Severity": c["severity"],
        "Status": STATUS_ICONS[c["status"]],
        "Evidence": c["evidence"] + (f" ({c['note']})" if c["note"] else ""),
        "Produced by": _producer(c),
        "Next step": "" if c["status"] == "pass" else c["remedy"],
        "Rubric": "; ".join(c["rubric"]),
    }
    return {k: row[k] for k in columns}


def gap_groups(report: dict[str, Any], only_open: bool = False) -> list[dict[str, Any]]:
    """The gap table's groups, one per area in the catalogue's order: its open checks — failing, unknown, then
    attested, the most severe first — and its passing checks (left out with ``only_open``)."""
    groups = []
    for area in report["areas"]:
        mine = [c for c in report["checks"] if c["area"] == area["id"]]
        mine.sort(key=lambda c: (STATUS[c["status"]], SEVERITY[c["severity"]]))
        groups.append(
            {
                "area": area,
                "open": [c for c in mine if c["status"] != "pass"],
                "passing": [] if only_open else [c for c in mine if c["status"] == "pass"],
            }
        )
    return groups


def _checks_table(checks: list[dict[str, Any]], columns: dict[str, int], uuid: str) -> str:
    frame = pd.DataFrame([_row(c, columns) for c in checks], columns=list(columns))
    colours = {i: STATUS_COLOURS[c["status"]] for i, c in enumerate(checks)}
    styles = [{"selector": "", "props": "table-layout: fixed; width: 100%; border-collapse: collapse;"}]
    styles += [
        {"selector": f"th.col_heading.col{i}", "props": f"width: {width}%; text-align: left;"}
        for i, width in enumerate(columns.values())
    ]
    styles.append({"selector": "td", "props": "overflow-wrap: anywhere; font-size: 12px; padding: 4px;"})
    return table(frame, uuid=uuid, colour=colours, left=True).set_table_styles(styles).to_html()


def _counted(area: dict[str, Any]) -> str:
    words = {"fail": "failing", "unknown": "unknown", "attested": "attested", "pass": "passing"}
    parts = [f"{area[s]} {word}" for s, word in words.items() if area[s]]
    return f"score {area['score']:.2f} · " + ", ".join(parts)


def gap_html(report: dict[str, Any], only_open: bool = False) -> str:
    """The gap table as HTML: a section per area headed by its score and counts, its open checks in a table,
    its passing checks folded under a ``<details>``. Every value is escaped (:func:`rescue.tables.table`)."""
    parts = []
    for n, group in enumerate(gap_groups(report, only_open)):
        area, uuid = group["area"], f"gap{n}"
        parts.append(
            f'<section class="rescue-gap-area"><h3>{html.escape(area["title"])} '
            f'<span class="rescue-meta">— {html.escape(_counted(area))}</span></h3>'
        )
        if group["open"]:
            parts.append(_checks_table(group["open"], OPEN_COLUMNS, uuid + "open"))
        else:
            parts.append('<p class="rescue-meta">Every check in this area is computed and passes.</p>')
        if group["passing"]:
            passing = len(group["passing"])
            parts.append(
                f"<details><summary>{passing} check{' passes' if passing == 1 else 's pass'}, computed by rescue "
                "(open for the evidence)</summary>"
                + _checks_table(group["passing"], PASSING_COLUMNS, uuid + "pass")
                + "</details>"
            )
        parts.append("</section>")
    return "\n".join(parts)


def gap_table(report: dict[str, Any], only_open: bool = False, live: bool = False) -> Any:
    """The gap, grouped by area (:func:`gap_html`) as an IPython ``HTML`` object to display.

    ``only_open`` leaves the passing checks out. ``live`` (JupyterLab) returns an ``ipywidgets.Output``
    holding the table instead, which the attestation form given it (``attestation_form(..., table=)``)
    redraws in place when it re-assesses the gap.
    """
    from IPython.display import HTML

    if not live:
        return HTML(gap_html(report, only_open))
    import ipywidgets as w

    output = w.Output()
    draw_gap_table(output, report, only_open)
    return output


def draw_gap_table(output: Any, report: dict[str, Any], only_open: bool = False) -> None:
    """Show ``report``'s gap table in the ``ipywidgets.Output`` ``output``, replacing what it showed."""
    output.outputs = (
        {
            "output_type": "display_data",
            "data": {"text/html": gap_html(report, only_open), "text/plain": "the production gap, by area"},
            "metadata": {},
        },
    )


def area_table(report: dict[str, Any]) -> pd.DataFrame:
    """Area scores with their check counts, weakest first."""
    frame = pd.DataFrame(report["areas"]).rename(
        columns={
            "title": "Area",
            "score": "Score",
            "checks": "Checks",
            "pass": "Computed",
            "attested": "Attested",
            "fail": "Failing",
            "unknown": "Unknown",
        }
    )
    return (
        frame[["Area", "Score", "Checks", "Computed", "Attested", "Failing", "Unknown"]]
        .sort_values(["Score", "Area"])
        .reset_index(drop=True)
    )


def _by_score(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The areas, highest score first: the order of the chart's bars from the bottom up (barh draws the first
    at the bottom)."""
    return sorted(report["areas"], key=lambda a: (a["score"], a["title"]), reverse=True)


def plot_area_scores(report: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Horizontal bars of the area scores (0–1) with the headline (minimum) marked."""
    import matplotlib.pyplot as plt

    areas = _by_score(report)
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(areas) + 1.2), dpi=100)
    plt.close(fig)  # the caller displays it; keep pyplot from showing it a second time
    colours = [
        "#c0392b" if a["score"] < 0.34 else "#e6a23c" if a["score"] < 0.67 else "#2e8b57" for a in areas
    ]
    bars = ax.barh([a["title"] for a in areas], [a["score"] for a in areas], color=colours)
    ax.bar_label(bars, labels=[f"{a['score']:.2f}" for a in areas], padding=3, fontsize=8)
    ax.axvline(report["headline_score"], color="#333", linestyle="--", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("score (0 absent/unknown · 0.5 attested · 1 computed)")
    blocked = " — BLOCKED" if report["verdict"] == "blocked" else ""
    ax.set_title(
        f"Production readiness by area (headline {report['headline_score']:.2f}){blocked}", loc="left"
    )
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig


def area_chart(report: dict[str, Any]) -> Any:
    """The area chart as the page's image, its alt text every area's score in words (what the bars show)."""
    areas = _by_score(report)[::-1]  # as the chart reads, top to bottom: the weakest first, as in the table
    blocked = " — BLOCKED" if report["verdict"] == "blocked" else ""
    alt = (
        f"Production readiness by area (headline {report['headline_score']:.2f}, the lowest){blocked}. "
        "Scores from 0 (absent or unknown) through 0.5 (attested) to 1 (computed): "
        + ", ".join(f"{a['title']} {a['score']:.2f}" for a in areas)
        + "."
    )
    return captioned(plot_area_scores(report), alt)


def _producer(check: dict[str, Any]) -> str:
    if check["status"] == "attested" and check["attestation"]:
        a = check["attestation"]
        role = f", {a['role']}" if a.get("role") else ""
        return f"{a['by']}{role}, {a['date']} — {a['link']}"
    if check["evidence_kind"] == "computed" or check["inputs"]:
        return "rescue, computed from " + ", ".join(check["inputs"])
    return "nobody yet"


# what each field of the form asks for, in the form's words: an error names the field as the form labels it
FORM_FIELDS = {
    "check": "Check: choose the check you attest",
    "by": "Name: type the full name of the person attesting",
    "role": "Role: type the attesting person's role, or leave it empty",
    "date": "Date: pick the day the evidence was checked (today or earlier)",
    "link": "Link: paste where the evidence is — a web address (https://…), a mailto: address or a file in the "
    "project (docs/runbook.md)",
    "note": "Note: say in words what was checked, or leave it empty",
}


def _attest_rank(c: dict[str, Any]) -> int:
    if c["status"] == "unknown":
        return 0 if c["evidence_kind"] == "attested" else 1 if needs_a_person(c) else 2
    return 3 if c["status"] == "attested" else 4


def attest_order(report: dict[str, Any], attested: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The checks the attestation form offers, those that need a person first: no attestation yet (a check
    only a person can attest), then computed checks rescue cannot compute (those a later day will compute
    after them), then checks attested already (to renew; ``attested`` adds those attested since ``report``)
    and last the computed failures (an attestation of one is kept as a note and does not count). Passing
    checks are left out."""
    checks = [
        {**c, "status": "attested", "attestation": {"by": "you, just now"}} if c["id"] in attested else c
        for c in report["checks"]
        if c["status"] != "pass"
    ]
    return sorted(checks, key=_attest_rank)


def needs_a_person(check: dict[str, Any]) -> bool:
    """Whether only a person can settle ``check``: no attestation of it, and nothing rescue computes (or will
    compute once a later day has run)."""
    return check["status"] == "unknown" and (check["evidence_kind"] == "attested" or not check["pending"])


def _offered(check: dict[str, Any], area_titles: dict[str, str]) -> str:
    if needs_a_person(check):
        state = "needs a person"
    elif check["status"] == "unknown":
        state = f"computed once {check['pending']} has run; a person may attest it meanwhile"
    elif check["status"] == "attested":
        state = f"attested by {(check['attestation'] or {}).get('by', 'someone')}: renew it"
    else:
        state = "computed and failing: an attestation will not count"
    return f"{check['title']} ({area_titles.get(check['area'], check['area'])}: {state})"


class AttestationForm:
    """The attestation form of the Day 1 workbook: a person attests a check, saved at once to the project's
    attestations file; **Re-assess the gap** scores the gap again, rewrites ``gap.json`` and redraws the
    table.

    Errors name the form's own fields; after a save every field clears and the check moves on to the next one
    that needs a person. Displays as its widget (``display(form)``).
    """

    def __init__(self, spec: Spec, report: dict[str, Any], out: str | Path | None = None,
                 table: Any = None, on_saved: Callable[[], None] | None = None) -> None:  # fmt: skip
        import ipywidgets as w

        self.spec, self.out, self.report, self.table, self.on_saved = spec, out, report, table, on_saved
        self.saved: list[str] = []  # the checks attested in this form since the gap was last assessed
        wide = w.Layout(width="95%")
        self.check = w.Dropdown(description="Check", layout=wide)
        self.by = w.Text(description="Name", placeholder="full name of the person attesting", layout=wide)
        self.role = w.Text(description="Role", placeholder="e.g. CISO office (optional)", layout=wide)
        self.when = w.DatePicker(description="Date", value=date.today())
        self.link = w.Text(description="Link", placeholder="https://… where the evidence is", layout=wide)
        self.note = w.Textarea(description="Note", placeholder="what was checked (optional)", layout=wide)
        self.save_button = w.Button(description="Record attestation", button_style="primary", icon="check",
                                    layout=w.Layout(width="auto"))  # fmt: skip
        self.reassess_button = w.Button(description="Re-assess the gap", icon="refresh",
                                        tooltip="score the gap again with every attestation, redraw the table",
                                        layout=w.Layout(width="auto"))  # fmt: skip
        self.message = w.HTML()
        self.save_button.on_click(lambda _: self.save())
        self.reassess_button.on_click(lambda _: self.reassess())
        self._offer()
        self.widget = w.VBox(
            [
                w.HTML("<b>Attest a check</b> (an attestation scores 0.5; a computed check scores 1)"),
                self.check, self.by, self.role, self.when, self.link, self.note,
                w.HBox([self.save_button, self.reassess_button]),
                self.message,
            ]
        )  # fmt: skip

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _offer(self, after: str | None = None) -> None:
        """Fill the check list from the report (checks saved here count as attested) and select the first
        check after ``after`` that needs a person (the first one of the list when none does)."""
        area_titles = {a["id"]: a["title"] for a in self.report["areas"]}
        checks = attest_order(self.report, tuple(self.saved))
        self.check.options = [(_offered(c, area_titles), c["id"]) for c in checks]
        ids = [c["id"] for c in checks]
        start = ids.index(after) + 1 if after in ids else 0
        waiting = [c["id"] for c in checks[start:] + checks[:start] if needs_a_person(c)]
        self.check.value = waiting[0] if waiting else (ids[0] if ids else None)

    def _say(self, text: str, colour: str = "#b00") -> None:
        self.message.value = f"<div style='color:{colour}'>{text}</div>"

    def errors(self) -> list[str]:
        """What the form lacks before anything is written, in the form's words (empty when nothing)."""
        found = []
        if not self.check.value:
            found.append(FORM_FIELDS["check"])
        if not self.by.value.strip():
            found.append(FORM_FIELDS["by"])
        if self.when.value is None or self.when.value > date.today():
            found.append(FORM_FIELDS["date"])
        if not self.link.value.strip():
            found.append(FORM_FIELDS["link"])
        return found

    def save(self) -> Attestation | None:
        """Record the attestation the form holds; on success clear the form and move to the next check."""
        from ..errors import SpecError
        from .attest import attest

        problems = self.errors()
        if not problems:
            try:
                saved = attest(self.spec, self.check.value, self.by.value.strip(), self.link.value.strip(),
                               self.when.value, self.role.value.strip(), self.note.value.strip())  # fmt: skip
            except SpecError as exc:  # said in the form's words, never as the file's field names and patterns
                problems = [
                    FORM_FIELDS.get(i.path.split(".")[0], f"{i.path}: {i.expected}") for i in exc.issues
                ]
            except OSError as exc:
                problems = [f"the attestations file could not be written: {exc}"]
        if problems:
            self._say("Not saved — " + "<br>".join(html.escape(p) + "." for p in problems))
            return None
        self.saved.append(saved.check)
        title = next((c["title"] for c in self.report["checks"] if c["id"] == saved.check), saved.check)
        self._say(f"Saved: “{html.escape(title)}” attested by {html.escape(saved.by)} on {saved.date.isoformat()} "
                  f"(in {html.escape(str(self.spec.attestations))}). Press <b>Re-assess the gap</b> to score it.",
                  "#070")  # fmt: skip
        for field in (self.by, self.role, self.link, self.note):
            field.value = ""  # the next check's attestation starts empty: nothing carries over
        self.when.value = date.today()
        self._offer(after=saved.check)
        if self.on_saved is not None:
            self.on_saved()
        return saved

    def reassess(self) -> dict[str, Any] | None:
        """Assess the gap again (every attestation counts), write ``gap.json``, redraw the table in place."""
        from ..artifacts import write_artifact
        from ..errors import RescueError
        from .assess import assess_gap

        try:
            report = assess_gap(self.spec, self.out)
            if self.out is not None:
                write_artifact(self.out, "gap", report, self.spec, parameters={"attestation_form": True})
        except (RescueError, OSError) as exc:
            self._say(f"Not re-assessed — {html.escape(str(exc))}")
            return None
        self.report, self.saved = report, []
        if self.table is not None:
            draw_gap_table(self.table, report)
        self._offer(after=None)
        counts = report["counts"]
        written = " gap.json rewritten." if self.out is not None else ""
        self._say(f"Re-assessed: {html.escape(report['verdict'].upper())}, headline {report['headline_score']:.2f}; "
                  f"{counts['pass']} computed and passing, {counts['attested']} attested, {counts['fail']} failing, "
                  f"{counts['unknown']} unknown.{' The table above is redrawn.' if self.table is not None else ''}"
                  f"{written}", "#070")  # fmt: skip
        return report


def attestation_form(spec: Spec, report: dict[str, Any], out: str | Path | None = None, table: Any = None,
                     on_saved: Callable[[], None] | None = None) -> AttestationForm:  # fmt: skip
    """The form to attest a check (:class:`AttestationForm`); ``table`` is the live gap table
    (``gap_table(report, live=True)``) its **Re-assess the gap** button redraws, ``out`` the folder of
    ``gap.json``."""
    return AttestationForm(spec, report, out, table, on_saved)
