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


def quality_markdown(pos: dict[str, Any]) -> str:
    """How often the PoC is right, against its target, its demo and the baseline (deterministic)."""
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
    if pos.get("extraction"):
        x = pos["extraction"]
        lines.append(f"- **Extraction**: exact records {_pct(x['exact_record'])}; field micro-F1 {x['micro_f1']['value']:.2f} "
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
        for y, row in enumerate(rows):
            iv = row[idx]
            if iv is None or iv["value"] is None:
                continue
            ax.errorbar(
                iv["value"],
                y,
                xerr=[[iv["value"] - iv["low"]], [iv["high"] - iv["value"]]],
                fmt="o",
                capsize=4,
            )
        ax.set_xlim(0, 1)
        ax.set_title(title, loc="left")
        ax.grid(axis="x", alpha=0.3)
    target = pos["target"]["min_macro_f1"]
    if target is not None:
        axes[1].axvline(target, color="#c0392b", linestyle="--", label=f"target {target:.2f}")
        axes[1].legend(fontsize=8)
    axes[0].set_yticks(range(len(rows)), [r[0] for r in rows])
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def plot_confusion(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    import matplotlib.pyplot as plt

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
