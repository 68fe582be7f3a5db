"""How the Day 5 workbook shows the readout."""

from __future__ import annotations

import html
import re
from datetime import date
from functools import cache
from typing import Any

import pandas as pd

from ..gap import load_catalogue
from ..tables import html_table, table
from ..units import quantity

VERDICT_COLOURS = {"applies": "#f8d4d4", "does not apply": "#d8f0d8", "unknown": "#e8e8e8"}
MISSING_DAYS = {"data_picture": "Day 2", "eval_set": "Day 3", "eval_position": "Day 4"}
DECISIONS = {"no-go": "NO-GO", "conditional": "CONDITIONAL GO", "go": "GO"}


# the decision's badge colours: a manager finds it first (white text on them passes WCAG AA)
BADGE_COLOURS = {"no-go": "#b3261e", "conditional": "#8a5300", "go": "#1e6b34"}


def decision_badge(readout: dict[str, Any]) -> Any:
    """The decision as a badge, the largest thing on the page (its words come from rescue, never from data).

    The inline style is for JupyterLab, which has no rescue style sheet; the class lets the pages' sheet
    (``templates/rescue.css``) style it on screen and in print, and the border keeps it visible in grey print.
    """
    from IPython.display import HTML

    decision = readout["decision"]
    style = (f"display:inline-block;background:{BADGE_COLOURS[decision]};color:#fff;font-size:30px;"
             "font-weight:700;letter-spacing:.04em;padding:.25em .7em;border-radius:6px;margin:.2em 0 .4em;"
             "border:3px solid #1f2328")  # fmt: skip
    return HTML(
        f'<p role="status" aria-label="decision" class="rescue-badge {decision}" style="{style}">'
        f"{DECISIONS[decision]}</p>"
    )


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def decision_markdown(readout: dict[str, Any]) -> str:
    """Why the decision (each blocker in one sentence), the stall reasons that apply and the size of the
    rebuild (deterministic: nbval checks it)."""
    lines = []
    missing = readout.get("evidence_missing") or []
    if missing:
        names = ", ".join(f"{MISSING_DAYS[m]} ({m}.json)" for m in missing)
        lines += [
            f"**Built without the evidence of {names}**: the stall reasons resting on it stay unknown.",
            "",
        ]
    lines += [f"- {html.escape(_sentence(_titled(b)))}" for b in readout["because"]]
    applying = [d["title"] for d in readout["diagnosis"] if d["verdict"] == "applies"]
    lines += [
        "",
        f"**Stall reasons that apply ({len(applying)} of 7):** " + ("; ".join(applying) or "none"),
        "",
    ]
    lines += [
        # no date here: this cell's output is checked by nbval; the plan below carries the dates
        f"**Rebuild:** {readout['plan_weeks']} weeks of work."
        if readout["plan"]
        else "**Rebuild:** nothing open."
    ]
    return "\n".join(lines)


@cache
def check_titles() -> dict[str, str]:
    """Each catalogue check's title by its id: what a reader sees instead of the id."""
    return {c.id: c.title for c in load_catalogue().checks}


_CHECK_ID = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


def _titled(text: str) -> str:
    """``text`` with every check id in it (``eval.baseline_on_production``) written as the check's title."""
    titles = check_titles()
    return _CHECK_ID.sub(lambda m: titles.get(m.group(0), m.group(0)), text)


def diagnosis_table(readout: dict[str, Any]):
    frame = pd.DataFrame(
        [
            {
                "Stall reason": d["title"],
                "Verdict": d["verdict"],
                "Evidence": " · ".join(_titled(e) for e in d["evidence"]),
                "From": ", ".join(d["from"]),
            }
            for d in readout["diagnosis"]
        ]
    )
    colours = {i: VERDICT_COLOURS[d["verdict"]] for i, d in enumerate(readout["diagnosis"])}
    return html_table(frame, colours, "diagnosis")


def summaries_markdown(readout: dict[str, Any]) -> str:
    s = readout["summaries"]
    lines = []
    if g := s.get("production_gap"):
        lines.append(f"- **Production gap**: {g['verdict']}, headline {g['headline_score']:.2f} (weakest: {', '.join(_area(a) for a in g['weakest_areas'])}); "
                     f"{g['counts']['pass']} computed, {g['counts']['attested']} attested, {g['counts']['fail']} failing, {g['counts']['unknown']} unknown.")  # fmt: skip
    if d := s.get("data_picture"):
        lines.append(f"- **Data picture**: {d['reachable']} of {d['sources']} sources read ({d['rows']:,} rows); unowned: {', '.join(d['unowned']) or 'none'}; "
                     f"personal data in: {', '.join(d['personal_data_in']) or 'none'}; slowest read p95 {_ms(d['worst_read_p95_ms'])}.")  # fmt: skip
    if e := s.get("eval_set"):
        origin = ", ".join(f"{k} ({v})" for k, v in e["label_origin"].items()) or "none yet"
        agreement = (
            f"{e['agreement']['measure']} {e['agreement']['value']:.2f}" if e["agreement"] else "not measured"
        )
        lines.append(
            f"- **Eval set**: {e['labeled']} of {e['sampled']} sampled items labeled ({origin}); agreement {agreement}."
        )
    if p := s.get("eval_position"):
        cost = (
            f", {quantity(p['cost_per_month_eur'], 'eur')} a month"
            if p["cost_per_month_eur"] is not None
            else ""
        )
        if p.get("task") == "generation":
            lines.append(
                f"- **Eval position**: {'; '.join(_generation_parts(p))}; p95 latency {_ms(p['latency_p95_ms'])}{cost}."
            )
        else:
            demo = f"{p['demo_accuracy']['value']:.0%} on the demo vs " if p.get("demo_accuracy") else ""
            contract = (
                f", {p['contract_valid_rate']:.0%} of outputs fit the contract"
                if p["contract_valid_rate"] is not None
                else ""
            )
            lines.append(f"- **Eval position**: {demo}{p['accuracy']['value']:.0%} accuracy on {p['n']} production items "
                         f"(macro-F1 {p['macro_f1']['value']:.2f}); p95 latency {_ms(p['latency_p95_ms'])}{cost}{contract}.")  # fmt: skip
        if p.get("baseline"):
            lines.append(f"  {p['baseline']}")
    return "\n".join(lines) or "_No artifacts yet._"


def _area(area_id: str) -> str:
    return load_catalogue().areas.get(area_id, area_id)


def _ms(value: float | None) -> str:
    return "not measured" if value is None else quantity(value, "ms")


def _generation_parts(p: dict[str, Any]) -> list[str]:
    """A free-text PoC's position in phrases: token F1 (and its demo), each criterion's pass rate, retrieval."""
    parts = [
        f"token F1 {p['token_f1']['value']:.2f} against reference answers on {p['n']} production questions"
    ]
    if p.get("demo_token_f1"):
        parts[0] = f"{p['demo_token_f1']['value']:.2f} on the demo vs " + parts[0]
    for c in p["rubric"]:
        rate = c["pass_rate"]
        shown = (
            f"{rate['value']:.0%} of questions (95% CI {rate['low']:.0%}–{rate['high']:.0%})"
            if rate and rate.get("value") is not None
            else "not graded yet"
        )
        judge = "judge calibrated" if c["judge_believed"] else "judge not believed"
        if c.get("grades") and c.get("grades_by_people", 0) < c["grades"]:
            judge += f"; {c['grades'] - c['grades_by_people']} of {c['grades']} grades not from a person"
        parts.append(f"`{c['name']}` passes {shown} ({judge})")
    if p.get("retrieval_hit_rate"):
        parts.append(f"retrieval hit rate {p['retrieval_hit_rate']['value']:.0%}")
    return parts


def top_gaps_table(readout: dict[str, Any]):
    frame = pd.DataFrame(readout["top_gaps"]).rename(columns={"title": "Gap", "severity": "Severity", "status": "Status",
                                                             "evidence": "Evidence", "next": "Next step"})  # fmt: skip
    return html_table(frame.drop(columns=["check"]) if len(frame) else frame, uuid="gaps")


def _dates(week: dict[str, Any]) -> str:
    """A plan week's dates as a reader says them: ``Mon 30 Nov – Fri 4 Dec 2026``."""
    starts, ends = date.fromisoformat(week["starts"]), date.fromisoformat(week["ends"])
    first = f"{starts:%a} {starts.day} {starts:%b}" + (f" {starts.year}" if starts.year != ends.year else "")
    return f"{first} – {ends:%a} {ends.day} {ends:%b %Y}"


def plan_frame(readout: dict[str, Any]) -> pd.DataFrame:
    """The rebuild plan, one row per work item with the check it closes (by title); each week's dates are
    written once, on its first row."""
    titles = check_titles()
    rows = [{"Week": f"Week {w['week']}: {_dates(w)}" if n == 0 else "", "Work": i["work"], "Who": i["role"],
             "Closes": titles.get(i["check"], i["check"])} for w in readout["plan"] for n, i in enumerate(w["items"])]  # fmt: skip
    return pd.DataFrame(rows, columns=["Week", "Work", "Who", "Closes"])


def week_summary(week: dict[str, Any]) -> str:
    """One line for a plan week: its number and dates, how much work of which severity, and who does it."""
    items = week["items"]
    severities = [s for s in ("blocker", "high", "medium", "low") if any(i["severity"] == s for i in items)]
    counts = {s: sum(i["severity"] == s for i in items) for s in severities}
    counted = ", ".join(f"{n} {s}{'s' if s == 'blocker' and n > 1 else ''}" for s, n in counts.items())
    roles = list(dict.fromkeys(i["role"] for i in items))
    noun = "item" if len(items) == 1 else "items"
    return f"Week {week['week']}, {_dates(week)} — {len(items)} work {noun} ({counted}); {'; '.join(roles)}"


def plan_html(readout: dict[str, Any]) -> str:
    """The rebuild plan as HTML: a ``<details>`` per week whose summary line gives its dates, its work by
    severity and its roles; the first week open, the later ones folded. Every value is escaped."""
    titles = check_titles()
    parts = []
    for n, week in enumerate(readout["plan"]):
        frame = pd.DataFrame([{"Work": i["work"], "Who": i["role"], "Severity": i["severity"],
                               "Closes": titles.get(i["check"], i["check"])} for i in week["items"]],
                             columns=["Work", "Who", "Severity", "Closes"])  # fmt: skip
        rows = table(frame, uuid=f"plan{n}", left=True).to_html()
        parts.append(f"<details{' open' if n == 0 else ''}><summary>{html.escape(week_summary(week))}</summary>"
                     f"{rows}</details>")  # fmt: skip
    return "\n".join(parts) or "<p>Nothing open: no rebuild needed.</p>"


def plan_table(readout: dict[str, Any]) -> Any:
    """The rebuild plan as the page shows it (:func:`plan_html`), an IPython ``HTML`` object."""
    from IPython.display import HTML

    return HTML(plan_html(readout))
