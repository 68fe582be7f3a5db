"""How the Day 1 workbook shows the gap: summary, table, area chart and the attestation form."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from ..spec import Spec
from ..tables import table

STATUS_COLOURS = {"pass": "#d8f0d8", "attested": "#fff2c6", "fail": "#f8d4d4", "unknown": "#e8e8e8"}
STATUS_ICONS = {"pass": "✔ pass", "attested": "◐ attested", "fail": "✘ fail", "unknown": "? unknown"}
VERDICTS = {
    "blocked": "**BLOCKED** — a blocker applies, whatever the score",
    "gaps": "**GAPS** — not production-ready yet",
    "ready": "**READY** — every check computed and passing",
}


def summary_markdown(report: dict[str, Any]) -> str:
    """A short Markdown summary: verdict, headline score, weakest areas, active blockers."""
    counts = report["counts"]
    lines = [
        f"### Verdict: {VERDICTS[report['verdict']]}",
        "",
        f"- Headline score (minimum over areas, ML Test Score style): **{report['headline_score']:.2f}** "
        f"— weakest: {', '.join(report['weakest_areas'])}",
        f"- Checks: {counts['pass']} computed and passing, {counts['attested']} attested, "
        f"{counts['fail']} failing, {counts['unknown']} unknown "
        f"({report['points']:.1f} of {report['max_points']:.0f} points)",
    ]
    active = [b for b in report["blockers"] if b["applies"]]
    if active:
        lines += ["", "**Blockers**", ""]
        lines += [f"- {b['title']} — `{b['check']}` is {b['status']}: {b['evidence']}" for b in active]
    pending = sorted({c["pending"] for c in report["checks"] if c["pending"] and c["status"] == "unknown"})
    if pending:
        lines += ["", f"_Some checks wait for evidence from {', '.join(pending)}; re-run Day 1 after them._"]
    return "\n".join(lines)


STATUS_ORDER = {"fail": 0, "unknown": 1, "attested": 2, "pass": 3}


def gap_table(report: dict[str, Any], only_open: bool = False) -> pd.io.formats.style.Styler:
    """The gap table, one row per check, open checks first in each area, coloured by status.

    ``only_open`` hides the checks that pass.
    """
    area_titles = {a["id"]: a["title"] for a in report["areas"]}
    area_order = {a["id"]: i for i, a in enumerate(report["areas"])}
    checks = sorted(report["checks"], key=lambda c: (area_order[c["area"]], STATUS_ORDER[c["status"]]))
    rows = [
        {
            "Area": area_titles[c["area"]],
            "Requirement": c["title"],
            "Severity": c["severity"],
            "Status": STATUS_ICONS[c["status"]],
            "Evidence": c["evidence"] + (f" ({c['note']})" if c["note"] else ""),
            "Produced by": _producer(c),
            "Next step": "" if c["status"] == "pass" else c["remedy"],
            "Rubric": "; ".join(c["rubric"]),
            "_status": c["status"],
        }
        for c in checks
        if not (only_open and c["status"] == "pass")
    ]
    frame = pd.DataFrame(rows)
    statuses = frame.pop("_status")

    def colour(row: pd.Series) -> list[str]:
        return [f"background-color: {STATUS_COLOURS[statuses[row.name]]}"] * len(row)

    widths = {
        "Area": 9,
        "Requirement": 20,
        "Severity": 6,
        "Status": 7,
        "Evidence": 20,
        "Produced by": 14,
        "Next step": 16,
        "Rubric": 8,
    }
    styles = [{"selector": "", "props": "table-layout: fixed; width: 100%; border-collapse: collapse;"}]
    styles += [
        {"selector": f"th.col_heading.col{i}", "props": f"width: {widths[name]}%; text-align: left;"}
        for i, name in enumerate(frame.columns)
    ]
    styles.append({"selector": "td", "props": "overflow-wrap: anywhere; font-size: 12px; padding: 4px;"})
    return (
        table(frame)
        .apply(colour, axis=1)
        .set_uuid("gap")
        .set_table_styles(styles)
        .set_properties(**{"text-align": "left", "vertical-align": "top"})
    )


def _producer(check: dict[str, Any]) -> str:
    if check["status"] == "attested" and check["attestation"]:
        a = check["attestation"]
        role = f", {a['role']}" if a.get("role") else ""
        return f"{a['by']}{role}, {a['date']} — {a['link']}"
    if check["evidence_kind"] == "computed" or check["inputs"]:
        return "rescue, computed from " + ", ".join(check["inputs"])
    return "nobody yet"


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


def plot_area_scores(report: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Horizontal bars of the area scores (0–1) with the headline (minimum) marked."""
    import matplotlib.pyplot as plt

    areas = sorted(report["areas"], key=lambda a: (a["score"], a["title"]), reverse=True)
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


def attestation_form(spec: Spec, report: dict[str, Any], on_saved: Callable[[], None] | None = None):
    """An ipywidgets form to attest an open check; saved at once to the project's attestations file."""
    import ipywidgets as w

    from ..errors import RescueError
    from .attest import attest

    options = [(f"{c['id']} — {c['title']}", c["id"]) for c in report["checks"] if c["status"] != "pass"]
    check = w.Dropdown(options=options, description="Check", layout=w.Layout(width="95%"))
    by = w.Text(description="Name", placeholder="who attests (full name)")
    role = w.Text(description="Role", placeholder="e.g. CISO office")
    when = w.DatePicker(description="Date", value=date.today())
    link = w.Text(description="Link", placeholder="https://… to the evidence", layout=w.Layout(width="95%"))
    note = w.Textarea(description="Note", placeholder="what was checked", layout=w.Layout(width="95%"))
    button = w.Button(description="Record attestation", button_style="primary", icon="check",
                      layout=w.Layout(width="auto"))  # fmt: skip
    message = w.HTML()

    def save(_: Any) -> None:
        missing = [name for name, field in (("Name", by), ("Link", link)) if not field.value.strip()]
        if missing:  # said here, in the form's words, before the attestations file is touched
            message.value = f"<span style='color:#b00'>Fill in {' and '.join(missing)}: an attestation names who and where the evidence is.</span>"
            return
        try:
            saved = attest(spec, check.value, by.value, link.value, when.value, role.value, note.value)
        except RescueError as exc:
            message.value = f"<pre style='color:#b00'>{html.escape(str(exc))}</pre>"
            return
        message.value = (
            f"<span style='color:#070'>Saved to {html.escape(str(spec.attestations))}: "
            f"{html.escape(saved.check)} attested by {html.escape(saved.by)}. "
            "Re-run the assessment cell to rescore.</span>"
        )
        note.value = ""  # the note was about that check: never carried onto the next one
        if on_saved is not None:
            on_saved()

    button.on_click(save)
    return w.VBox(
        [
            w.HTML("<b>Attest a check</b> (scores 0.5; a computed check scores 1)"),
            check,
            by,
            role,
            when,
            link,
            note,
            button,
            message,
        ]
    )
