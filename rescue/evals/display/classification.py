"""How the page shows a classifier's eval position: accuracy and macro-F1 against the baseline and the demo,
the confusion matrix, slices and example errors."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .common import (
    Section,
    all_failed_lines,
    design_lines,
    draw_matrix,
    errors_line,
    interval_panel,
    operations_lines,
    operations_sections,
    origin_line,
    p_text,
    pct,
    replay_lines,
    table,
)


def _mcc_ci(pos: dict[str, Any]) -> str:
    iv = pos["scored"]["as_failures"].get("mcc_interval")
    return f" (95% CI {iv['low']:.2f}–{iv['high']:.2f})" if iv and iv["low"] is not None else ""


def quality_markdown(pos: dict[str, Any]) -> str:
    """How often the PoC is right, against its target, its demo and the baseline (deterministic)."""
    s = pos["scores"]
    lines = [
        f"- **Accuracy on {pos['n_items']} labeled production items: {pct(s['accuracy'])}**; "
        f"macro-F1 {s['macro_f1']['value']:.2f} (95% CI {s['macro_f1']['low']:.2f}–{s['macro_f1']['high']:.2f}); MCC {s['mcc']:.2f}{_mcc_ci(pos)}.",
    ]
    lines = all_failed_lines(pos) + lines
    lines += design_lines(pos)
    lines += replay_lines(pos)
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
    lines.append(errors_line(pos, "scores count them as wrong (scored again without them below)"))
    p = pos["power"]
    lines.append(f"- At n = {pos['n_items']} the smallest accuracy difference this set can detect is {p['detectable_difference'] * 100:.1f} points; "
                 f"detecting 5 points needs {p['labels_for_5_points']:,} labels.")  # fmt: skip
    lines.append(origin_line(pos, "Labels"))
    return "\n".join(lines)


def operations_markdown(pos: dict[str, Any]) -> str:
    """Latency, cost, the contract, and the structured-extraction scores when the labels are records."""
    lines = operations_lines(pos)
    if pos.get("extraction"):
        x = pos["extraction"]
        lines.append(f"- **Extraction**: exact records {pct(x['exact_record'])}; field micro-F1 {x['micro_f1']['value']:.2f} "
                     f"(95% CI {x['micro_f1']['low']:.2f}–{x['micro_f1']['high']:.2f}).")  # fmt: skip
    return "\n".join(lines)


def plot_intervals(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Accuracy and macro-F1 with their 95% intervals: PoC on production, baseline, PoC on its demo."""
    import matplotlib.pyplot as plt

    rows = [("PoC, production", pos["scores"]["accuracy"], pos["scores"]["macro_f1"])]
    if pos["comparison"]:
        b = pos["comparison"]["baseline_scores"]
        rows.append((f"{pos['comparison']['baseline']}, production", b["accuracy"], b["macro_f1"]))
    if pos["demo_vs_production"]:
        rows.append(("PoC, demo examples", pos["demo_vs_production"]["accuracy"], None))
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.5 * len(rows) + 1.6), dpi=100, sharey=True)
    plt.close(fig)
    for ax, idx, title in ((axes[0], 1, "accuracy"), (axes[1], 2, "macro-F1")):
        interval_panel(ax, title, [row[idx] for row in rows])
    target = pos["target"]["min_macro_f1"]
    if target is not None:
        axes[1].axvline(target, color="#c0392b", linestyle="--", label=f"target {target:.2f}")
        axes[1].legend(fontsize=8)
    axes[0].set_yticks(range(len(rows)), [r[0] for r in rows])
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def plot_confusion(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Labels against the PoC's predictions on production."""
    import matplotlib.pyplot as plt

    conf = pos["scored"]["as_failures"]["confusion"]
    fig, ax = plt.subplots(figsize=(4.8, 4), dpi=100)
    plt.close(fig)
    draw_matrix(ax, conf["classes"], conf["matrix"], "PoC says", "label", rotate=True)
    ax.set_title("Confusion on production", loc="left")
    fig.tight_layout()
    return fig


def slices_table(pos: dict[str, Any]) -> pd.DataFrame:
    """Accuracy per slice against the rest."""
    rows = [
        {"Slice": f"{r['field']} = {r['value']}", "Accuracy": pct(r["accuracy"]), "p vs rest (Holm)": p_text(r["p_holm"]),
         "Worse than the rest": "yes" if r["significantly_worse"] else ""}
        for r in pos["slices"]["rows"]
    ]  # fmt: skip
    return pd.DataFrame(rows)


def examples_table(pos: dict[str, Any]) -> pd.DataFrame:
    """Example errors; personal data in the texts is masked."""
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


def sections(pos: dict[str, Any]) -> list[Section]:
    """The page's sections after the headline, in order."""
    return [
        Section("Scores with their intervals", parts=[plot_intervals(pos)]),
        Section("What it confuses", "Labels against the PoC's predictions.", [plot_confusion(pos)]),
        Section(
            "Slices",
            "Accuracy per slice against the rest of the set (Fisher's exact test, Holm-corrected).",
            [table(slices_table(pos))],
        ),
        *operations_sections(pos),
        Section("Example errors", parts=[table(examples_table(pos))]),
    ]
