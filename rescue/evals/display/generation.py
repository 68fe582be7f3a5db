"""How the page shows a free-text or RAG PoC's eval position: reference scores against the baseline system,
the rubric with the judge calibrated against people, retrieval, slices and the weakest answers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...units import quantity
from .common import (
    Section,
    all_failed_lines,
    design_lines,
    draw_matrix,
    errors_line,
    interval_panel,
    num,
    operations_lines,
    operations_sections,
    origin_line,
    p_text,
    pct,
    pct_plain,
    replay_lines,
    table,
)


def quality_markdown(pos: dict[str, Any]) -> str:
    """The reference scores, each rubric criterion, retrieval, the demo and the baseline (deterministic)."""
    g = pos["generation"]
    ref = g["reference"]["poc"]
    lines = [f"- **Against the reference answers of {pos['n_items']} production questions**: token F1 {num(ref['token_f1'])}, "
             f"ROUGE-L {num(ref['rouge_l'])}, chrF {num(ref['chrf'])}; exact match {pct(ref['exact_match'])}."]  # fmt: skip
    lines = all_failed_lines(pos) + lines
    lines += design_lines(pos)
    lines += replay_lines(pos)
    for c in g["rubric"]:
        lines.append("- " + rubric_sentence(c))
    t = pos["target"]
    if t.get("min_pass_rate") is not None and t.get("lowest_pass_rate_low") is not None:
        verdict = "meets" if t["meets"] else "does **not** meet"
        lines.append(f"- Target pass rate ≥ {t['min_pass_rate']:.0%} on every criterion: the PoC {verdict} it "
                     f"(weakest: `{t['weakest_criterion']}`, lower bound {t['lowest_pass_rate_low']:.1%}).")  # fmt: skip
    lines += traces_lines(pos)
    r = g["retrieval"]
    if r:
        lines.append(f"- **Retrieval** (top {r['k']} cited documents against the gold relevant ones, {r['n']} questions): "
                     f"hit rate {pct(r['hit_rate'])}, MRR {num(r['mrr'])}, nDCG@{r['k']} {num(r['ndcg'])}, "
                     f"context recall {num(r['recall'])}.")  # fmt: skip
    d = pos["demo_vs_production"]
    if d and d["gap"] is not None:
        lines.append(f"- **Demo vs production**: {d['metric']} {d['accuracy']['value']:.2f} on its {d['n']} demo questions, "
                     f"{d['production_accuracy']['value']:.2f} on production — a gap of {d['gap']:.2f}.")  # fmt: skip
    if pos["comparison"] and pos["comparison"].get("sentence"):
        lines.append(f"- {pos['comparison']['sentence']}")
    for note in g.get("notes", []):
        lines.append(f"- {note}")
    lines.append(errors_line(pos, "reference scores count them as 0"))
    lines.append(origin_line(pos, "Reference answers"))
    return "\n".join(lines)


def traces_lines(pos: dict[str, Any]) -> list[str]:
    """Production's own traffic: the traced calls sampled on Day 3, production's recorded answers against the
    PoC's replay, per criterion, weighted as sampled with sessions as clusters."""
    t = pos.get("traces")
    if not t:
        return []
    s = t["sample"]
    sessions = f" in {s['sessions']:,} sessions" if s.get("sessions") else ""
    lines = [f"- **Production's own traffic**: {s['size']:,} calls{sessions} drawn at random from {s['generalises_to']} "
             f"({s['population']:,} calls), each answered twice — as production recorded it and by the PoC replayed "
             "— and judged (no person graded these; the judge is believed only where it agrees with people above):"]  # fmt: skip

    def rate(e: dict[str, Any]) -> str:
        interval = f" (95% CI {e['low']:.0%}–{e['high']:.0%})" if e["low"] is not None else ""
        return f"{e['estimate']:.0%}{interval}"

    for c in t["criteria"]:
        if c["production"] is None:
            lines.append(f"  - `{c['criterion']}`: withheld — {c['withheld_because']}.")
            continue
        d = c["difference"]
        diff = (f"; replay minus production {d['estimate'] * 100:+.1f} points (95% CI {d['low'] * 100:+.1f} to "
                f"{d['high'] * 100:+.1f}, sessions resampled)") if d and d["low"] is not None else ""  # fmt: skip
        deff = c["production"]["design_effect"]
        lines.append(f"  - `{c['criterion']}`: production {rate(c['production'])}, the replay {rate(c['replay'])}{diff}"
                     + (f"; design effect {deff:.2f}" if deff is not None else "") + ".")  # fmt: skip
    r = t["production_vs_replay"]
    lat = r["latency_ms"]
    if lat["production"]["p95"]["value"] is not None and lat["replay"]["p95"]["value"] is not None:
        lines.append(f"  - Latency p95: {lat['production']['p95']['value']:,.0f} ms in production (its traces), "
                     f"{lat['replay']['p95']['value']:,.0f} ms on replay; {t['replay_failed']:,} replayed calls failed; "
                     f"{r['recorded_missing']:,} traced calls recorded no answer.")  # fmt: skip
    return lines


def rubric_sentence(c: dict[str, Any]) -> str:
    """One criterion: the pass rate people and the judge support, and whether the judge is believed."""
    pr = c["pass_rate"]
    head = f"**Rubric `{c['name']}`** ({c['description']})"
    ppi = pr["ppi"]
    best = (f"pass rate {pct_plain(ppi)} by prediction-powered inference ({ppi['n_labeled']} answers with Day 3 grades "
            f"correcting the judge on {ppi['n_unlabeled']} more)") if ppi else f"pass rate from Day 3 grades alone {pct(pr['human_only'])}"  # fmt: skip
    cal = c["calibration"]
    agree = (f"the judge agrees with the Day 3 grades at kappa {cal['kappa']['value']:.2f} (95% CI {cal['kappa']['low']:.2f}–{cal['kappa']['high']:.2f}) "
             f"on {c['calibration_items']} answers") if cal and cal["kappa"]["value"] is not None else "the judge is not calibrated against people"  # fmt: skip
    if c["calibrated"]:
        tail = f"{agree}, so its own rate {pct(pr['judge_only'])} is reported too."
    else:
        tail = f"**judge-only score withheld**: {c['withheld_because']}."
    origin = ", ".join(f"{k} ({v})" for k, v in c["grade_origin"].items()) or "none"
    per_q = pr.get("per_question")
    questions = ""
    if per_q and per_q["answered"] < per_q["questions"]:
        questions = (f" Over all {per_q['questions']} questions, counting the {per_q['questions'] - per_q['answered']} "
                     f"the PoC did not answer as fails: {pct_plain(per_q)}.")  # fmt: skip
    warning = ""
    others = c.get("graded", 0) - c.get("graded_by_people", 0)
    if others > 0:
        warning = (f" **{others} of {c['graded']} grades were not given by a person**"
                   + (": the calibration shows the method, not a judge people can trust yet." if c["calibrated"] else "."))  # fmt: skip
    return f"{head}: {best}; {tail}{questions} Grades: {origin}.{warning}"


def operations_markdown(pos: dict[str, Any]) -> str:
    """Latency, cost, the contract, the judge's own cost and the retrieval's time budget."""
    lines = operations_lines(pos)
    jc = pos["generation"]["judge_cost"]
    cost = quantity(jc["total_eur"], "eur") if jc["total_eur"] is not None else "cost unknown"
    lines.append(f"- Judge: {jc['calls']} calls, {jc['tokens_in']:,} tokens in / {jc['tokens_out']:,} out, {cost} "
                 f"({jc['basis']}) — counted apart from the PoC's cost.")  # fmt: skip
    b = (pos["generation"]["retrieval"] or {}).get("budget")
    if b:
        share = (
            f" — {b['share_of_target']:.1%} of the {quantity(b['target_p95_ms'], 'ms')} p95 target"
            if b["share_of_target"] is not None
            else ""
        )
        lines.append(f"- Retrieval budget: a point lookup in `{b['source']}` takes {quantity(b['point_lookup_p95_ms'], 'ms')} at p95 "
                     f"(Day 2 probes); fetching {b['k']} documents one by one ≈ {quantity(b['sequential_fetch_ms'], 'ms')}{share}.")  # fmt: skip
    return "\n".join(lines)


def plot_intervals(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Token F1, ROUGE-L and chrF with their 95% intervals: the PoC and the baseline system on production."""
    import matplotlib.pyplot as plt

    g = pos["generation"]["reference"]
    rows = [("PoC, production", g["poc"])]
    if g["baseline"]:
        model = (pos["systems"]["baseline"] or {}).get("model") or pos["comparison"]["baseline"]
        rows.append((f"baseline {model}, production", g["baseline"]))
    metrics = [("token_f1", "token F1"), ("rouge_l", "ROUGE-L"), ("chrf", "chrF")]
    fig, axes = plt.subplots(1, 3, figsize=(10, 0.5 * len(rows) + 1.6), dpi=100, sharey=True)
    plt.close(fig)
    for ax, (key, title) in zip(axes, metrics, strict=True):
        interval_panel(ax, title, [block[key] for _, block in rows])
    axes[0].set_yticks(range(len(rows)), [r[0] for r in rows])
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def plot_pass_rates(pos: dict[str, Any]):  # -> matplotlib.figure.Figure | None
    """Per rubric criterion: the PPI interval beside the people-only and the judge-only ones."""
    import matplotlib.pyplot as plt

    if not pos["generation"]["rubric"]:
        return None
    crit = pos["generation"]["rubric"]
    fig, axes = plt.subplots(1, len(crit), figsize=(4.6 * len(crit), 2.4), dpi=100, squeeze=False)
    plt.close(fig)
    kinds = [("ppi", "grades + judge (PPI)", "#1f6f43"), ("human_only", "Day 3 grades only", "#5b8db8"),
             ("judge_only", "judge only (naive)", "#b8860b")]  # fmt: skip
    for ax, c in zip(axes[0], crit, strict=True):
        intervals = [c["pass_rate"][key] for key, _, _ in kinds]
        interval_panel(ax, f"{c['name']}: pass rate", intervals, [color for _, _, color in kinds])
        for y, ((key, _, _), iv) in enumerate(zip(kinds, intervals, strict=True)):
            if iv is None or iv.get("value") is None:
                ax.text(0.5, y, "withheld: judge not calibrated" if key == "judge_only" else "not enough grades",
                        ha="center", va="center", fontsize=8, color="#a00")  # fmt: skip
        ax.set_yticks(range(len(kinds)), [k[1] for k in kinds])
        ax.invert_yaxis()
    fig.tight_layout()
    return fig


def calibration_table(pos: dict[str, Any]) -> pd.DataFrame | None:
    """The judge against people, per criterion: kappa, sensitivity, specificity, verdict."""
    if not pos["generation"]["rubric"]:
        return None
    rows = []
    for c in pos["generation"]["rubric"]:
        cal = c["calibration"] or {}
        origin = ", ".join(c["grade_origin"]) or "—"
        rows.append({"Criterion": c["name"], "Answers with Day 3 grade and judge verdict": c["calibration_items"],
                     "Grade origin": origin,
                     "Cohen's kappa": num(cal.get("kappa")), "Sensitivity": num(cal.get("sensitivity")),
                     "Specificity": num(cal.get("specificity")), "Raw agreement": num(cal.get("agreement")),
                     "Judge believed": "yes" if c["calibrated"] else f"no (min kappa {c['min_kappa']:g})",
                     "Stale grades": c["stale_grades"]})  # fmt: skip
    return pd.DataFrame(rows)


def retrieval_table(pos: dict[str, Any]) -> pd.DataFrame | None:
    """Retrieval scores of the cited documents (None when the PoC cites none)."""
    r = pos["generation"]["retrieval"]
    if not r:
        return None
    rows = [("hit rate@k", pct(r["hit_rate"])), ("MRR", num(r["mrr"])), (f"nDCG@{r['k']}", num(r["ndcg"])),
            (f"context recall@{r['k']} (capped)", num(r["recall"])), (f"precision@{r['k']}", num(r["precision"])),
            ("questions with no document cited", str(r["empty_retrievals"])),
            ("questions without gold relevant ids (excluded)", str(r["n_without_relevant"]))]  # fmt: skip
    return pd.DataFrame(rows, columns=["Retrieval", "Value"])


def plot_confusion(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Per criterion: the judge's verdicts against people's grades."""
    import matplotlib.pyplot as plt

    crit = [c for c in pos["generation"]["rubric"] if c["calibration"]]
    fig, axes = plt.subplots(
        1, max(1, len(crit)), figsize=(3.8 * max(1, len(crit)), 3.4), dpi=100, squeeze=False
    )
    plt.close(fig)
    for ax, c in zip(axes[0], crit, strict=False):
        conf = c["calibration"]["confusion"]
        draw_matrix(ax, conf["labels"], conf["matrix"], "judge says", "Day 3 grade")
        ax.set_title(f"{c['name']}: judge vs Day 3 grades", loc="left", fontsize=10)
    if not crit:
        axes[0][0].text(0.5, 0.5, "no rubric graded by people yet", ha="center", va="center")
        axes[0][0].axis("off")
    fig.tight_layout()
    return fig


def slices_table(pos: dict[str, Any]) -> pd.DataFrame:
    """Token F1 per slice against the rest."""
    return pd.DataFrame([{"Slice": f"{r['field']} = {r['value']}", "Token F1": num(r["token_f1"]), "n": r["token_f1"]["n"],
                          "p vs rest (Holm)": p_text(r["p_holm"]), "Worse than the rest": "yes" if r["significantly_worse"] else ""}
                         for r in pos["slices"]["rows"]])  # fmt: skip


def examples_table(pos: dict[str, Any]) -> pd.DataFrame:
    """The answers furthest from their reference; personal data in them is masked."""
    examples = [{**e, "token_f1": f"{e['token_f1']:.2f}"} for e in pos["failure_modes"]["examples"]]
    return pd.DataFrame(examples).fillna("").rename(
        columns={"item": "Item", "question": "Question", "reference": "Reference", "answer": "PoC answer (PII masked)",
                 "token_f1": "Token F1", "error": "Error"})  # fmt: skip


def sections(pos: dict[str, Any]) -> list[Section]:
    """The page's sections after the headline, in order; the judge's and retrieval's only when they apply."""
    found = [Section("Scores with their intervals", parts=[plot_intervals(pos)])]
    calibration = calibration_table(pos)
    if calibration is not None:
        found.append(
            Section("The judge against people", JUDGE_INTRO, [table(calibration), plot_pass_rates(pos)])
        )
    retrieval = retrieval_table(pos)
    if retrieval is not None:
        found.append(Section("Retrieval", "The documents the PoC cites against the gold relevant ones, and what "
                             "fetching them from the production source costs in time.", [table(retrieval)]))  # fmt: skip
    if calibration is not None:
        found.append(Section("What the judge confuses", "The judge's verdicts against people's grades.",
                             [plot_confusion(pos)]))  # fmt: skip
    found += [
        Section(
            "Slices",
            "Token F1 per slice against the rest of the set (Mann-Whitney U, Holm-corrected).",
            [table(slices_table(pos))],
        ),
        *operations_sections(pos),
        Section(
            "The weakest answers",
            "The answers furthest from their reference answer (lowest token F1).",
            [table(examples_table(pos))],
        ),
    ]
    return found


JUDGE_INTRO = (
    "Each rubric criterion is graded by a judge model on every answer, and by people on a sample (Day 3). The "
    "judge is believed only when it agrees with people (Cohen's kappa at least `eval.judge.min_kappa`); the pass "
    "rate combines both by prediction-powered inference, whose interval stays valid even though the judge errs."
)
