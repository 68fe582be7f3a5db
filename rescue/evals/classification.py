"""Day 4 for classifiers (and structured extraction): the PoC and a baseline scored on labeled production data.

The labeled set is joined to its production text (read-only, through the Day 2 connections); the PoC
and the baseline run on the same items through the ledger; the PoC also runs on its own demo
examples. Everything is scored with intervals; errors and timeouts are scored twice (as failures,
and excluded); latency comes from live calls only; outputs are checked against the contracts.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from scipy import stats

from ..errors import RescueError
from ..evalset.items import load_demo_items, load_eval_items
from ..ledger import Call, Ledger
from ..pii import mask_pii
from ..spec import Spec
from ..stats import detectable_difference, labels_needed, mcnemar, paired_difference, wilson
from ..systems import (
    Adapter,
    RunPolicy,
    make_baseline,
    make_poc_adapter,
    make_recorded,
    opened,
    output_field,
    run,
)
from . import scores
from .operations import (
    comparison_sentence,
    contract_summary,
    cost_summary,
    errors_summary,
    latency_summary,
    network_summary,
)
from .slices import compare_slices
from .weighting import design_summary, production_vs_replay


def _classes(spec: Spec, items: list[dict[str, Any]]) -> list[str]:
    return list(spec.eval.classes) if spec.eval.classes else sorted({it["label"] for it in items})


def _score_twice(
    items: list[dict[str, Any]], calls: list[Call], classes: list[str], field: str
) -> dict[str, Any]:
    y_true = [it["label"] for it in items]
    y_pred = [output_field(c.output, field) if c.ok else None for c in calls]
    as_failures = scores.classification(y_true, y_pred, classes)
    kept = [(t, p) for t, p, c in zip(y_true, y_pred, calls, strict=True) if c.ok]
    excluded = scores.classification([t for t, _ in kept], [p for _, p in kept], classes)
    return {"as_failures": as_failures, "errors_excluded": excluded}


def _slices(
    items: list[dict[str, Any]], calls: list[Call], field: str, slice_fields: list[str]
) -> dict[str, Any]:
    """Accuracy per slice against the rest (Fisher's exact test, Holm-corrected)."""
    correct = [
        c.ok and output_field(c.output, field) == it["label"] for it, c in zip(items, calls, strict=True)
    ]

    def accuracy(hits: list[bool]) -> dict[str, Any]:
        return wilson(sum(hits), len(hits))

    def fisher(inside: list[bool], rest: list[bool]) -> float:
        table = [[sum(inside), len(inside) - sum(inside)], [sum(rest), len(rest) - sum(rest)]]
        return float(stats.fisher_exact(table).pvalue)

    return compare_slices(items, correct, slice_fields, "accuracy", accuracy, fisher)


def _examples(
    items: list[dict[str, Any]], calls: list[Call], field: str, limit: int = 6
) -> list[dict[str, Any]]:
    out = []
    for it, c in zip(items, calls, strict=True):
        pred = output_field(c.output, field) if c.ok else None
        if pred != it["label"]:
            text = mask_pii(it["text"])
            out.append({"item": it["item_id"], "label": it["label"], "predicted": pred, "error": c.error_kind,
                        "text": text[:280] + ("…" if len(text) > 280 else "")})  # fmt: skip
        if len(out) >= limit:
            break
    return out


def _as_record(label: str) -> dict[str, Any] | None:
    text = label.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _extraction(items: list[dict[str, Any]], calls: list[Call]) -> dict[str, Any] | None:
    """Structured-extraction scores when the labels are JSON records (otherwise None)."""
    records = [_as_record(it["label"]) for it in items]
    if not records or any(r is None for r in records):
        return None
    predicted = [c.output if c.ok and isinstance(c.output, dict) else None for c in calls]
    return scores.extraction(records, predicted)  # type: ignore[arg-type]


def _confusions(score: dict[str, Any]) -> list[dict[str, Any]]:
    classes = score["confusion"]["classes"]
    matrix = score["confusion"]["matrix"]
    pairs = [{"label": classes[i], "predicted": classes[j], "count": matrix[i][j]}
             for i in range(len(classes)) for j in range(len(classes)) if i != j and matrix[i][j]]  # fmt: skip
    return sorted(pairs, key=lambda p: -p["count"])[:5]


def build_position(
    spec: Spec, out: str | Path, progress: bool = True, policy: RunPolicy | None = None
) -> dict[str, Any]:
    """Run the PoC and the baseline on the labeled production set (and the PoC on its demo); score it all."""
    field = spec.eval.label_column
    items = load_eval_items(spec, out)
    if not items:
        raise RescueError(f"no labeled item in {spec.eval.labels} could be joined to a declared source")
    demo = load_demo_items(spec)
    classes = _classes(spec, items)
    poc = make_poc_adapter(spec)  # closed when its calls are made: its workers stop, poc.env is put back
    with opened(poc), Ledger(out) as ledger:
        poc_calls = run(poc, items, ledger, "production", policy, progress=progress)
        demo_calls = run(poc, demo, ledger, "demo", policy, progress=progress) if demo else []
        baseline: Adapter | None = None
        base_calls: list[Call] = []
        if spec.eval.baseline == "recorded":  # production's own answers to the same inputs: nothing is called
            baseline = make_recorded()
        elif spec.eval.baseline:
            baseline = make_baseline(spec.eval.baseline, [it["label"] for it in items], field)
        if baseline is not None:
            base_calls = run(baseline, items, ledger, "production", policy, progress=progress)
        ledger_calls = ledger.count()

    poc_scores = _score_twice(items, poc_calls, classes, field)
    headline = poc_scores["as_failures"]
    comparison = None
    if baseline is not None:
        a = [
            c.ok and output_field(c.output, field) == it["label"]
            for it, c in zip(items, poc_calls, strict=True)
        ]
        b = [
            c.ok and output_field(c.output, field) == it["label"]
            for it, c in zip(items, base_calls, strict=True)
        ]
        base_scores = scores.classification(
            [it["label"] for it in items], [output_field(c.output, field) for c in base_calls], classes
        )
        test = mcnemar(a, b)
        diff = paired_difference(a, b)
        sentence = _sentence(
            diff,
            test,
            spec.eval.baseline or "",
            headline["macro_f1"]["value"],
            base_scores["macro_f1"]["value"],
        )
        comparison = {"baseline": baseline.name, "n_paired": len(items), "baseline_scores": base_scores, "mcnemar": test,
                      "accuracy_difference": diff, "sentence": sentence}  # fmt: skip
    demo_block = None
    if demo:
        d_true = [it["label"] for it in demo]
        d_correct = sum(
            1
            for it, c in zip(demo, demo_calls, strict=True)
            if c.ok and output_field(c.output, field) == it["label"]
        )
        demo_block = {"n": len(demo), "accuracy": wilson(d_correct, len(demo)), "production_accuracy": headline["accuracy"],
                      "gap": None if headline["accuracy"]["value"] is None else round(d_correct / len(demo) - headline["accuracy"]["value"], 4),
                      "labels": sorted(set(d_true))}  # fmt: skip
    right = [
        float(c.ok and output_field(c.output, field) == it["label"])
        for it, c in zip(items, poc_calls, strict=True)
    ]
    base_right = [float(c.ok and output_field(c.output, field) == it["label"]) for it, c in
                  zip(items, base_calls, strict=True)] if baseline is not None else None  # fmt: skip
    mde = detectable_difference(len(items))
    return {
        "task": "classification",
        "n_items": len(items),
        "classes": classes,
        "label_field": field,
        "label_origin": dict(Counter(str(it.get("label_origin", "unstated")) for it in items)),
        "systems": {
            "poc": {"name": poc.name, "config": poc.config, "kind": spec.poc.kind},
            "baseline": None if baseline is None else {"name": baseline.name, "config": baseline.config},
        },
        "scores": {
            "accuracy": headline["accuracy"],
            "macro_f1": headline["macro_f1"],
            "mcc": headline["mcc"],
        },
        "scored": poc_scores,
        "target": {
            "min_macro_f1": spec.targets.min_macro_f1,
            "meets": None
            if spec.targets.min_macro_f1 is None or headline["macro_f1"]["low"] is None
            else headline["macro_f1"]["low"] >= spec.targets.min_macro_f1,
        },
        "errors": errors_summary(poc_calls),
        "comparison": comparison,
        "power": {"detectable_difference": mde, "labels_for_5_points": labels_needed(0.05)},
        "demo_vs_production": demo_block,
        "latency": latency_summary(poc_calls, spec.targets.latency_p95_ms),
        "cost": cost_summary(spec, poc_calls, items),
        "network": network_summary(spec, poc_calls, items),
        "design": design_summary(spec, items, "accuracy", right, base_right),
        "production_vs_replay": production_vs_replay(items, poc_calls, base_calls, field)
        if spec.eval.baseline == "recorded"
        else None,
        "contract": contract_summary(spec, poc_calls),
        "extraction": _extraction(items, poc_calls),
        "slices": _slices(items, poc_calls, field, spec.eval.slices),
        "failure_modes": {
            "confusions": _confusions(headline),
            "examples": _examples(items, poc_calls, field),
        },
        "ledger": {
            "calls": ledger_calls,
            "cached_this_run": sum(c.cached for c in poc_calls + base_calls + demo_calls),
        },
    }


def _sentence(
    diff: dict[str, Any], test: dict[str, Any], baseline: str, poc_f1: float, base_f1: float
) -> str:
    v = diff["value"]
    claim = (f"the PoC is right {abs(v) * 100:.1f} points {'more' if v > 0 else 'less'} often than the {baseline} "
             "baseline")  # fmt: skip
    sentence = comparison_sentence(diff["n"], "items", claim, diff, "McNemar", test["p_value"], " points")
    return f"{sentence} Macro-F1: PoC {poc_f1:.2f}, baseline {base_f1:.2f}."
