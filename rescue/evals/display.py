"""How the Day 4 workbook shows the eval position: headline, intervals, confusion, latency, contract."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _pct(interval: dict[str, Any]) -> str:
    if interval["value"] is None:
        return "—"
    return f"{interval['value']:.1%} (95% CI {interval['low']:.1%}–{interval['high']:.1%}, n={interval['n']})"


def _mcc_ci(pos: dict[str, Any]) -> str:
    iv = pos["scored"]["as_failures"].get("mcc_interval")
    return f" (95% CI {iv['low']:.2f}–{iv['high']:.2f})" if iv and iv["low"] is not None else ""


def summary_markdown(pos: dict[str, Any]) -> str:
    """The eval position in a few lines a manager can read: quality, then operations."""
    return quality_markdown(pos) + "\n" + operations_markdown(pos)


def _generation(pos: dict[str, Any]) -> bool:
    return pos.get("task") == "generation"


def _num(iv: dict[str, Any] | None, digits: int = 2) -> str:
    if not iv or iv.get("value") is None:
        return "—"
    return f"{iv['value']:.{digits}f} (95% CI {iv['low']:.{digits}f}–{iv['high']:.{digits}f})"


def quality_markdown(pos: dict[str, Any]) -> str:
    """How often the PoC is right, against its target, its demo and the baseline (deterministic)."""
    if _generation(pos):
        return _generation_quality(pos)
    s = pos["scores"]
    lines = [
        f"- **Accuracy on {pos['n_items']} labeled production items: {_pct(s['accuracy'])}**; "
        f"macro-F1 {s['macro_f1']['value']:.2f} (95% CI {s['macro_f1']['low']:.2f}–{s['macro_f1']['high']:.2f}); MCC {s['mcc']:.2f}{_mcc_ci(pos)}.",
    ]
    t = pos["target"]
    if t["min_macro_f1"] is not None:
        verdict = "meets" if t["meets"] else "does **not** meet"
        lines.append(
            f"- Target macro-F1 ≥ {t['min_macro_f1']:.2f}: the PoC {verdict} it (judged on the interval's lower bound)."
        )
    d = pos["demo_vs_production"]
    if d:
        lines.append(f"- **Demo vs production**: {d['accuracy']['value']:.0%} (95% CI {d['accuracy']['low']:.0%}–{d['accuracy']['high']:.0%}) "
                     f"on its {d['n']} hand-picked demo examples, "
                     f"{d['production_accuracy']['value']:.0%} on production — a gap of {d['gap'] * 100:.0f} points.")  # fmt: skip
    if pos["comparison"]:
        lines.append(f"- {pos['comparison']['sentence']}")
    e = pos["errors"]
    lines.append(f"- Errors and timeouts: {e['total']} of {pos['n_items']} calls" + (f" ({', '.join(f'{k} {v}' for k, v in e['by_kind'].items())})" if e["total"] else "")
                 + "; scores count them as wrong (scored again without them below).")  # fmt: skip
    p = pos["power"]
    lines.append(f"- At n = {pos['n_items']} the smallest accuracy difference this set can detect is {p['detectable_difference'] * 100:.1f} points; "
                 f"detecting 5 points needs {p['labels_for_5_points']:,} labels.")  # fmt: skip
    origins = ", ".join(f"{k} ({v})" for k, v in pos["label_origin"].items())
    lines.append(f"- Labels: {origins}.")
    return "\n".join(lines)


def _generation_quality(pos: dict[str, Any]) -> str:
    g = pos["generation"]
    ref = g["reference"]["poc"]
    lines = [f"- **Against the reference answers of {pos['n_items']} production questions**: token F1 {_num(ref['token_f1'])}, "
             f"ROUGE-L {_num(ref['rouge_l'])}, chrF {_num(ref['chrf'])}; exact match {_pct(ref['exact_match'])}."]  # fmt: skip
    for c in g["rubric"]:
        lines.append("- " + rubric_sentence(c))
    t = pos["target"]
    if t.get("min_pass_rate") is not None and t.get("lowest_pass_rate_low") is not None:
        verdict = "meets" if t["meets"] else "does **not** meet"
        lines.append(f"- Target pass rate ≥ {t['min_pass_rate']:.0%} on every criterion: the PoC {verdict} it "
                     f"(weakest: `{t['weakest_criterion']}`, lower bound {t['lowest_pass_rate_low']:.1%}).")  # fmt: skip
    r = g["retrieval"]
    if r:
        lines.append(f"- **Retrieval** (top {r['k']} cited documents against the gold relevant ones, {r['n']} questions): "
                     f"hit rate {_pct(r['hit_rate'])}, MRR {_num(r['mrr'])}, nDCG@{r['k']} {_num(r['ndcg'])}, "
                     f"context recall {_num(r['recall'])}.")  # fmt: skip
    d = pos["demo_vs_production"]
    if d and d["gap"] is not None:
        lines.append(f"- **Demo vs production**: {d['metric']} {d['accuracy']['value']:.2f} on its {d['n']} demo questions, "
                     f"{d['production_accuracy']['value']:.2f} on production — a gap of {d['gap']:.2f}.")  # fmt: skip
    if pos["comparison"] and pos["comparison"].get("sentence"):
        lines.append(f"- {pos['comparison']['sentence']}")
    for note in g.get("notes", []):
        lines.append(f"- {note}")
    e = pos["errors"]
    lines.append(f"- Errors and timeouts: {e['total']} of {pos['n_items']} calls" + (f" ({', '.join(f'{k} {v}' for k, v in e['by_kind'].items())})" if e["total"] else "")
                 + "; reference scores count them as 0.")  # fmt: skip
    origins = ", ".join(f"{k} ({v})" for k, v in pos["label_origin"].items())
    lines.append(f"- Reference answers: {origins}.")
    return "\n".join(lines)


def rubric_sentence(c: dict[str, Any]) -> str:
    """One criterion: the pass rate people and the judge support, and whether the judge is believed."""
    pr = c["pass_rate"]
    head = f"**Rubric `{c['name']}`** ({c['description']})"
    ppi = pr["ppi"]
    best = (f"pass rate {_pct_plain(ppi)} by prediction-powered inference ({ppi['n_labeled']} answers with Day 3 grades "
            f"correcting the judge on {ppi['n_unlabeled']} more)") if ppi else f"pass rate from Day 3 grades alone {_pct(pr['human_only'])}"  # fmt: skip
    cal = c["calibration"]
    agree = (f"the judge agrees with the Day 3 grades at kappa {cal['kappa']['value']:.2f} (95% CI {cal['kappa']['low']:.2f}–{cal['kappa']['high']:.2f}) "
             f"on {c['calibration_items']} answers") if cal and cal["kappa"]["value"] is not None else "the judge is not calibrated against people"  # fmt: skip
    if c["calibrated"]:
        tail = f"{agree}, so its own rate {_pct(pr['judge_only'])} is reported too."
    else:
        tail = f"**judge-only score withheld**: {c['withheld_because']}."
    origin = ", ".join(f"{k} ({v})" for k, v in c["grade_origin"].items()) or "none"
    per_q = pr.get("per_question")
    questions = ""
    if per_q and per_q["answered"] < per_q["questions"]:
        questions = (f" Over all {per_q['questions']} questions, counting the {per_q['questions'] - per_q['answered']} "
                     f"the PoC did not answer as fails: {_pct_plain(per_q)}.")  # fmt: skip
    warning = ""
    others = c.get("graded", 0) - c.get("graded_by_people", 0)
    if others > 0:
        warning = (f" **{others} of {c['graded']} grades were not given by a person**"
                   + (": the calibration shows the method, not a judge people can trust yet." if c["calibrated"] else "."))  # fmt: skip
    return f"{head}: {best}; {tail}{questions} Grades: {origin}.{warning}"


def _pct_plain(iv: dict[str, Any]) -> str:
    return f"{iv['value']:.1%} (95% CI {iv['low']:.1%}–{iv['high']:.1%})"


def operations_markdown(pos: dict[str, Any]) -> str:
    """Latency of live calls, cost at production volume, and the integration contract."""
    lines = []
    lat = pos["latency"]
    if lat["p95_ms"] is not None:
        target = f" against a target of {lat['target_p95_ms']:g} ms" if lat["target_p95_ms"] else ""
        lines.append(
            f"- Latency of live calls: p50 {lat['p50']['value']:.3g} ms, p95 {lat['p95_ms']:.3g} ms{target}."
        )
    c = pos["cost"]
    if c["per_call_eur"] is not None:
        month = (
            f", {c['per_month_eur']:,.0f} EUR a month at {c['monthly_volume']:,} calls"
            if c["per_month_eur"] is not None
            else ""
        )
        lines.append(f"- Cost: {c['per_call_eur']:.5f} EUR a call{month} ({c['basis']}).")
    else:
        lines.append(f"- Cost: {c['basis']}.")
    if pos["contract"]:
        lines.append(
            f"- **Integration contract**: {pos['contract']['valid_rate']:.0%} of outputs would be accepted downstream."
        )
    if _generation(pos):
        jc = pos["generation"]["judge_cost"]
        cost = f"{jc['total_eur']:.4f} EUR" if jc["total_eur"] is not None else "cost unknown"
        lines.append(f"- Judge: {jc['calls']} calls, {jc['tokens_in']:,} tokens in / {jc['tokens_out']:,} out, {cost} "
                     f"({jc['basis']}) — counted apart from the PoC's cost.")  # fmt: skip
        b = (pos["generation"]["retrieval"] or {}).get("budget")
        if b:
            share = (
                f" — {b['share_of_target']:.1%} of the {b['target_p95_ms']:g} ms p95 target"
                if b["share_of_target"] is not None
                else ""
            )
            lines.append(f"- Retrieval budget: a point lookup in `{b['source']}` takes {b['point_lookup_p95_ms']:g} ms at p95 "
                         f"(Day 2 probes); fetching {b['k']} documents one by one ≈ {b['sequential_fetch_ms']:g} ms{share}.")  # fmt: skip
    if pos.get("extraction"):
        x = pos["extraction"]
        lines.append(f"- **Extraction**: exact records {_pct(x['exact_record'])}; field micro-F1 {x['micro_f1']['value']:.2f} "
                     f"(95% CI {x['micro_f1']['low']:.2f}–{x['micro_f1']['high']:.2f}).")  # fmt: skip
    return "\n".join(lines)


def _interval_panel(ax: Any, title: str, intervals: list[Any], colors: list[str] | None = None) -> None:
    """One panel of rates on [0, 1]: row y gets a dot with its 95% interval (rows without a value stay empty)."""
    for y, iv in enumerate(intervals):
        if iv is None or iv.get("value") is None:
            continue
        style = {"color": colors[y]} if colors else {}
        ax.errorbar(iv["value"], y, xerr=[[iv["value"] - iv["low"]], [iv["high"] - iv["value"]]], fmt="o",
                    capsize=4, **style)  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_title(title, loc="left")
    ax.grid(axis="x", alpha=0.3)


def plot_intervals(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Accuracy and macro-F1 with their 95% intervals: PoC on production, baseline, PoC on its demo."""
    import matplotlib.pyplot as plt

    if _generation(pos):
        return _plot_reference(pos)
    rows = [("PoC, production", pos["scores"]["accuracy"], pos["scores"]["macro_f1"])]
    if pos["comparison"]:
        b = pos["comparison"]["baseline_scores"]
        rows.append((f"{pos['comparison']['baseline']}, production", b["accuracy"], b["macro_f1"]))
    if pos["demo_vs_production"]:
        rows.append(("PoC, demo examples", pos["demo_vs_production"]["accuracy"], None))
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.5 * len(rows) + 1.6), dpi=100, sharey=True)
    plt.close(fig)
    for ax, idx, title in ((axes[0], 1, "accuracy"), (axes[1], 2, "macro-F1")):
        _interval_panel(ax, title, [row[idx] for row in rows])
    target = pos["target"]["min_macro_f1"]
    if target is not None:
        axes[1].axvline(target, color="#c0392b", linestyle="--", label=f"target {target:.2f}")
        axes[1].legend(fontsize=8)
    axes[0].set_yticks(range(len(rows)), [r[0] for r in rows])
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def _plot_reference(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
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
        _interval_panel(ax, title, [block[key] for _, block in rows])
    axes[0].set_yticks(range(len(rows)), [r[0] for r in rows])
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def plot_pass_rates(pos: dict[str, Any]):  # -> matplotlib.figure.Figure | None
    """Per rubric criterion: the PPI interval beside the people-only and the judge-only ones."""
    import matplotlib.pyplot as plt

    if not _generation(pos) or not pos["generation"]["rubric"]:
        return None
    crit = pos["generation"]["rubric"]
    fig, axes = plt.subplots(1, len(crit), figsize=(4.6 * len(crit), 2.4), dpi=100, squeeze=False)
    plt.close(fig)
    kinds = [("ppi", "grades + judge (PPI)", "#1f6f43"), ("human_only", "Day 3 grades only", "#5b8db8"),
             ("judge_only", "judge only (naive)", "#b8860b")]  # fmt: skip
    for ax, c in zip(axes[0], crit, strict=True):
        intervals = [c["pass_rate"][key] for key, _, _ in kinds]
        _interval_panel(ax, f"{c['name']}: pass rate", intervals, [color for _, _, color in kinds])
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
    if not _generation(pos) or not pos["generation"]["rubric"]:
        return None
    rows = []
    for c in pos["generation"]["rubric"]:
        cal = c["calibration"] or {}
        origin = ", ".join(c["grade_origin"]) or "—"
        rows.append({"Criterion": c["name"], "Answers with Day 3 grade and judge verdict": c["calibration_items"],
                     "Grade origin": origin,
                     "Cohen's kappa": _num(cal.get("kappa")), "Sensitivity": _num(cal.get("sensitivity")),
                     "Specificity": _num(cal.get("specificity")), "Raw agreement": _num(cal.get("agreement")),
                     "Judge believed": "yes" if c["calibrated"] else f"no (min kappa {c['min_kappa']:g})",
                     "Stale grades": c["stale_grades"]})  # fmt: skip
    return pd.DataFrame(rows)


def retrieval_table(pos: dict[str, Any]) -> pd.DataFrame | None:
    r = pos["generation"]["retrieval"] if _generation(pos) else None
    if not r:
        return None
    rows = [("hit rate@k", _pct(r["hit_rate"])), ("MRR", _num(r["mrr"])), (f"nDCG@{r['k']}", _num(r["ndcg"])),
            (f"context recall@{r['k']} (capped)", _num(r["recall"])), (f"precision@{r['k']}", _num(r["precision"])),
            ("questions with no document cited", str(r["empty_retrievals"])),
            ("questions without gold relevant ids (excluded)", str(r["n_without_relevant"]))]  # fmt: skip
    return pd.DataFrame(rows, columns=["Retrieval", "Value"])


def plot_confusion(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    import matplotlib.pyplot as plt

    if _generation(pos):
        return _plot_judge_confusion(pos)
    conf = pos["scored"]["as_failures"]["confusion"]
    classes, matrix = conf["classes"], conf["matrix"]
    fig, ax = plt.subplots(figsize=(4.8, 4), dpi=100)
    plt.close(fig)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    top = max(max(r) for r in matrix) or 1
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black")
    ax.set_xlabel("PoC says")
    ax.set_ylabel("label")
    ax.set_title("Confusion on production", loc="left")
    fig.tight_layout()
    return fig


def _plot_judge_confusion(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    import matplotlib.pyplot as plt

    crit = [c for c in pos["generation"]["rubric"] if c["calibration"]]
    fig, axes = plt.subplots(
        1, max(1, len(crit)), figsize=(3.8 * max(1, len(crit)), 3.4), dpi=100, squeeze=False
    )
    plt.close(fig)
    for ax, c in zip(axes[0], crit, strict=False):
        conf = c["calibration"]["confusion"]
        labels, matrix = conf["labels"], conf["matrix"]
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        top = max(max(r) for r in matrix) or 1
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                ax.text(j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black")
        ax.set_xlabel("judge says")
        ax.set_ylabel("Day 3 grade")
        ax.set_title(f"{c['name']}: judge vs Day 3 grades", loc="left", fontsize=10)
    if not crit:
        axes[0][0].text(0.5, 0.5, "no rubric graded by people yet", ha="center", va="center")
        axes[0][0].axis("off")
    fig.tight_layout()
    return fig


def plot_latency(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    import matplotlib.pyplot as plt

    lat = pos["latency"]
    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=100)
    plt.close(fig)
    values = lat["histogram_ms"]
    if values:
        ax.hist(values, bins=40, color="#5b8db8")
        for q, style in (("p50", ":"), ("p95", "--"), ("p99", "-.")):
            ax.axvline(lat[q]["value"], color="#333", linestyle=style, label=f"{q} {lat[q]['value']:.2f} ms")
    if lat["target_p95_ms"] and values and lat["target_p95_ms"] < 10 * max(values):
        ax.axvline(lat["target_p95_ms"], color="#c0392b", label=f"target p95 {lat['target_p95_ms']:g} ms")
    ax.set_xlabel("milliseconds per live call")
    ax.set_title(f"Latency of {lat['n']} live calls", loc="left")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def slices_table(pos: dict[str, Any]) -> pd.DataFrame:
    if _generation(pos):
        return pd.DataFrame([{"Slice": f"{r['field']} = {r['value']}", "Token F1": _num(r["token_f1"]), "n": r["token_f1"]["n"],
                              "p vs rest (Holm)": "< 0.001" if r["p_holm"] < 0.001 else f"{r['p_holm']:.3g}", "Worse than the rest": "yes" if r["significantly_worse"] else ""}
                             for r in pos["slices"]["rows"]])  # fmt: skip
    rows = [
        {"Slice": f"{r['field']} = {r['value']}", "Accuracy": _pct(r["accuracy"]), "p vs rest (Holm)": r["p_holm"],
         "Worse than the rest": "yes" if r["significantly_worse"] else ""}
        for r in pos["slices"]["rows"]
    ]  # fmt: skip
    return pd.DataFrame(rows)


def contract_table(pos: dict[str, Any]) -> pd.DataFrame | None:
    if not pos["contract"]:
        return None
    rows = [{"Contract": c["name"], "Violation": v["violation"], "Outputs": v["count"]}
            for c in pos["contract"]["contracts"] for v in c["top_violations"]]  # fmt: skip
    return pd.DataFrame(rows)


def examples_table(pos: dict[str, Any]) -> pd.DataFrame:
    """Example errors; personal data in the texts is masked."""
    if _generation(pos):
        examples = [{**e, "token_f1": f"{e['token_f1']:.2f}"} for e in pos["failure_modes"]["examples"]]
        return pd.DataFrame(examples).fillna("").rename(
            columns={"item": "Item", "question": "Question", "reference": "Reference", "answer": "PoC answer (PII masked)",
                     "token_f1": "Token F1", "error": "Error"})  # fmt: skip
    return (
        pd.DataFrame(pos["failure_modes"]["examples"])
        .fillna("")
        .rename(
            columns={
                "item": "Item",
                "label": "Label",
                "predicted": "PoC says",
                "error": "Error",
                "text": "Text (PII masked)",
            }
        )
    )
