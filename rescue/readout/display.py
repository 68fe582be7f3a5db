"""How the Day 5 workbook shows the readout."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ..tables import html_table

VERDICT_COLOURS = {"applies": "#f8d4d4", "does not apply": "#d8f0d8", "unknown": "#e8e8e8"}
MISSING_DAYS = {"data_picture": "Day 2", "eval_set": "Day 3", "eval_position": "Day 4"}
DECISIONS = {"no-go": "NO-GO", "conditional": "CONDITIONAL GO", "go": "GO"}


# the decision's badge colours: a manager finds it first (white text on them passes WCAG AA)
BADGE_COLOURS = {"no-go": "#b3261e", "conditional": "#8a5300", "go": "#1e6b34"}


def decision_badge(readout: dict[str, Any]) -> Any:
    """The decision as a badge, the largest thing on the page (its words come from rescue, never from data)."""
    from IPython.display import HTML

    decision = readout["decision"]
    style = (f"display:inline-block;background:{BADGE_COLOURS[decision]};color:#fff;font-size:30px;"
             "font-weight:700;letter-spacing:.04em;padding:.25em .7em;border-radius:6px;margin:.2em 0 .4em")  # fmt: skip
    return HTML(f'<p role="status" aria-label="decision" style="{style}">{DECISIONS[decision]}</p>')


def decision_markdown(readout: dict[str, Any]) -> str:
    """Why the decision, the stall reasons that apply and the size of the rebuild (deterministic: nbval checks it)."""
    lines = []
    missing = readout.get("evidence_missing") or []
    if missing:
        names = ", ".join(f"{MISSING_DAYS[m]} ({m}.json)" for m in missing)
        lines += [
            f"**Built without the evidence of {names}**: the stall reasons resting on it stay unknown.",
            "",
        ]
    lines += [f"- {html.escape(b)}" for b in readout["because"]]
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


def diagnosis_table(readout: dict[str, Any]):
    frame = pd.DataFrame(
        [
            {
                "Stall reason": d["title"],
                "Verdict": d["verdict"],
                "Evidence": " · ".join(d["evidence"]),
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
        lines.append(f"- **Production gap**: {g['verdict']}, headline {g['headline_score']:.2f} (weakest: {', '.join(g['weakest_areas'])}); "
                     f"{g['counts']['pass']} computed, {g['counts']['attested']} attested, {g['counts']['fail']} failing, {g['counts']['unknown']} unknown.")  # fmt: skip
    if d := s.get("data_picture"):
        lines.append(f"- **Data picture**: {d['reachable']} of {d['sources']} sources read ({d['rows']:,} rows); unowned: {', '.join(d['unowned']) or 'none'}; "
                     f"personal data in: {', '.join(d['personal_data_in']) or 'none'}; worst read p95 {d['worst_read_p95_ms']} ms.")  # fmt: skip
    if e := s.get("eval_set"):
        origin = ", ".join(f"{k} ({v})" for k, v in e["label_origin"].items()) or "none yet"
        agreement = (
            f"{e['agreement']['measure']} {e['agreement']['value']:.2f}" if e["agreement"] else "not measured"
        )
        lines.append(
            f"- **Eval set**: {e['labeled']} of {e['sampled']} sampled items labeled ({origin}); agreement {agreement}."
        )
    if p := s.get("eval_position"):
        cost = f", {p['cost_per_month_eur']:,.0f} EUR a month" if p["cost_per_month_eur"] is not None else ""
        if p.get("task") == "generation":
            lines.append(
                f"- **Eval position**: {'; '.join(_generation_parts(p))}; p95 {p['latency_p95_ms']} ms{cost}."
            )
        else:
            demo = f"{p['demo_accuracy']['value']:.0%} on the demo vs " if p.get("demo_accuracy") else ""
            contract = (
                f", {p['contract_valid_rate']:.0%} of outputs fit the contract"
                if p["contract_valid_rate"] is not None
                else ""
            )
            lines.append(f"- **Eval position**: {demo}{p['accuracy']['value']:.0%} accuracy on {p['n']} production items "
                         f"(macro-F1 {p['macro_f1']['value']:.2f}); p95 {p['latency_p95_ms']} ms{cost}{contract}.")  # fmt: skip
        if p.get("baseline"):
            lines.append(f"  {p['baseline']}")
    return "\n".join(lines) or "_No artifacts yet._"


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


def plan_frame(readout: dict[str, Any]) -> pd.DataFrame:
    """The rebuild plan, one row per work item; each week's dates are written once, on its first row."""
    rows = [{"Week": f"{w['week']} ({w['starts']} – {w['ends']})" if n == 0 else "", "Work": i["work"], "Who": i["role"],
             "Closes": i["check"]} for w in readout["plan"] for n, i in enumerate(w["items"])]  # fmt: skip
    return pd.DataFrame(rows, columns=["Week", "Work", "Who", "Closes"])


def plan_table(readout: dict[str, Any]):
    """The rebuild plan as the page shows it."""
    return html_table(plan_frame(readout), uuid="plan")
