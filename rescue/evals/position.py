"""Day 4 — the eval position: the PoC and a baseline scored on labeled production data.

The labeled set is joined to its production text (read-only, through the Day 2 connections); the PoC
and the baseline run on the same items through the ledger; the PoC also runs on its own demo
examples. Everything is scored with intervals; errors and timeouts are scored twice (as failures,
and excluded); latency comes from live calls only; outputs are checked against the contracts.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml
from scipy import stats

from ..data.connect import SourceError, read_texts
from ..data.pii import mask_pii
from ..errors import RescueError
from ..spec import Spec
from . import scores
from .adapters import Adapter, make_baseline, make_poc_adapter
from .ledger import Call, Ledger
from .runner import RunPolicy, run

PRICES = Path(__file__).parent / "prices.yaml"
CHARS_PER_TOKEN = 4  # a common rule of thumb, used only when the PoC reports no token usage


@cache
def price_table() -> dict[str, Any]:
    return yaml.safe_load(PRICES.read_text(encoding="utf-8"))


def load_eval_items(spec: Spec, out: str | Path | None = None) -> list[dict[str, Any]]:
    """The labeled production items with their text: labels joined to the sources' text columns.

    With ``out``, the items labeled in Day 3 (``eval_set.parquet``) that the labels file does not hold
    are scored too, so labels given in the widget count without a file (the file's label wins for its items).
    """
    ev = spec.eval
    day3 = _day3_items(spec, Path(out)) if out is not None and ev.task == "classification" else []
    if not ev.labels:
        if day3:
            return day3
        raise RescueError(
            "eval.labels is not set and Day 3 has labeled nothing yet: there is no labeled production set to score on"
        )
    items = _file_items(spec)
    known = {it["item_id"] for it in items}
    return items + [it for it in day3 if it["item_id"] not in known]


def _day3_items(spec: Spec, out: Path) -> list[dict[str, Any]]:
    path = out / "eval_set.parquet"
    if not path.exists():
        return []
    frame = pd.read_parquet(path)
    field = spec.eval.label_column
    if field not in frame.columns:
        return []
    items = []
    for row in frame.to_dict("records"):
        label = row[field]
        if label is None or str(label).strip() == "":
            continue
        source, raw_id = str(row["source"]), str(row["item_id"])
        items.append({"item_id": f"{source}:{raw_id}", "source": source, "source_id": raw_id, "text": str(row["text"]),
                      "label": str(label), "label_origin": row.get("label_origin") or "human", "weight": row.get("weight")})  # fmt: skip
    return items


def _file_items(spec: Spec) -> list[dict[str, Any]]:
    ev = spec.eval
    assert ev.labels is not None
    labels = pd.read_csv(spec.path(ev.labels), dtype=str, keep_default_na=False)
    if ev.label_column not in labels.columns:
        raise RescueError(f"{ev.labels} has no column {ev.label_column!r} (eval.label_column)")
    labels = labels[labels[ev.label_column].str.strip() != ""]
    if "text" in labels.columns:
        frame = labels
    else:
        missing = {"source", "item_id"} - set(labels.columns)
        if missing:
            raise RescueError(
                f"{ev.labels} needs a text column, or source and item_id columns to find the text"
            )
        parts = []
        for source in spec.sources:
            wanted = labels[labels["source"] == source.name]
            if wanted.empty:
                continue
            if not (source.id_column and source.text_column):
                raise RescueError(f"source {source.name} needs id_column and text_column to join its labels")
            parts.append(_texts(spec, source, wanted))
        frame = pd.concat(parts, ignore_index=True) if parts else labels.iloc[0:0]
    items = []
    for row in frame.to_dict("records"):
        source = str(row.get("source", ""))
        raw_id = str(row.get("item_id", len(items)))
        item = {k: v for k, v in row.items() if k not in (ev.label_column,)}
        item.update({"item_id": f"{source}:{raw_id}" if source else raw_id, "source": source, "source_id": raw_id,
                     "text": row["text"], "label": row[ev.label_column]})  # fmt: skip
        items.append(item)
    return items


def _texts(spec: Spec, source: Any, wanted: pd.DataFrame) -> pd.DataFrame:
    try:
        texts = read_texts(spec, source, ids=set(wanted["item_id"].astype(str)))
    except SourceError as exc:
        raise RescueError(f"cannot read the labeled items' text: {exc}") from None
    merged = wanted.assign(source=source.name).merge(
        texts.drop_duplicates("item_id"), on="item_id", how="left"
    )
    merged["text"] = merged["text"].fillna("")
    return merged


def load_demo_items(spec: Spec) -> list[dict[str, Any]]:
    ev = spec.eval
    if not ev.demo_examples:
        return []
    frame = pd.read_csv(spec.path(ev.demo_examples), dtype=str, keep_default_na=False)
    label_col = ev.demo_label_column or ev.label_column
    text_col = "text" if "text" in frame.columns else frame.columns[0]
    if label_col not in frame.columns:
        raise RescueError(f"{ev.demo_examples} has no column {label_col!r} (eval.demo_label_column)")
    return [
        {"item_id": f"demo:{i}", "source": "demo", "text": r[text_col], "label": r[label_col]}
        for i, r in enumerate(frame.to_dict("records"))
    ]


def predicted_label(output: Any, field: str) -> str | None:
    if isinstance(output, dict):
        value = output.get(field)
        return None if value is None else str(value)
    return None if output is None else str(output)


def _classes(spec: Spec, items: list[dict[str, Any]]) -> list[str]:
    return list(spec.eval.classes) if spec.eval.classes else sorted({it["label"] for it in items})


def _score_twice(
    items: list[dict[str, Any]], calls: list[Call], classes: list[str], field: str
) -> dict[str, Any]:
    y_true = [it["label"] for it in items]
    y_pred = [predicted_label(c.output, field) if c.ok else None for c in calls]
    as_failures = scores.classification(y_true, y_pred, classes)
    kept = [(t, p) for t, p, c in zip(y_true, y_pred, calls, strict=True) if c.ok]
    excluded = scores.classification([t for t, _ in kept], [p for _, p in kept], classes)
    return {"as_failures": as_failures, "errors_excluded": excluded}


def _errors(calls: list[Call]) -> dict[str, Any]:
    kinds = Counter(c.error_kind for c in calls if not c.ok)
    return {"total": sum(kinds.values()), "rate": scores.wilson(sum(kinds.values()), len(calls)), "by_kind": dict(sorted(kinds.items())),
            "retried_calls": sum(1 for c in calls if c.attempts > 1)}  # fmt: skip


def _latency(calls: list[Call], target_ms: float | None) -> dict[str, Any]:
    # the ledger holds the latency measured when each call was live; cache hits are never timed
    live = [c.latency_ms for c in calls if c.ok and c.latency_ms is not None]
    out: dict[str, Any] = {"n": len(live), "target_p95_ms": target_ms}
    for q in (50, 95, 99):
        out[f"p{q}"] = scores.percentile_with_interval(live, q)
    out["p95_ms"] = out["p95"]["value"]
    out["meets_target"] = None if (target_ms is None or out["p95_ms"] is None) else out["p95_ms"] <= target_ms
    out["histogram_ms"] = live
    return out


def _cost(spec: Spec, calls: list[Call], items: list[dict[str, Any]]) -> dict[str, Any]:
    poc = spec.poc
    ok = [(c, it) for c, it in zip(calls, items, strict=True) if c.ok]
    per_call = None
    basis = None
    model = price_table()["models"].get(poc.model or "")
    if model and ok:
        tin, tout, estimated = 0.0, 0.0, False
        for c, it in ok:
            if c.tokens_in is None:
                estimated = True
            tin += c.tokens_in if c.tokens_in is not None else len(it["text"]) / CHARS_PER_TOKEN
            tout += (
                c.tokens_out
                if c.tokens_out is not None
                else len(json.dumps(c.output, default=str)) / CHARS_PER_TOKEN
            )
        per_call = (tin * model["input_per_mtok"] + tout * model["output_per_mtok"]) / 1e6 / len(ok)
        basis = (f"{poc.model} prices × tokens " + ("estimated from text length (≈4 characters a token; the PoC reports no usage)"
                                                     if estimated else "reported by the PoC"))  # fmt: skip
    elif poc.cost_per_call_eur is not None:
        per_call, basis = poc.cost_per_call_eur, "fixed price per call (poc.cost_per_call_eur)"
    volume = spec.targets.monthly_volume
    target = spec.targets.cost_per_call_eur
    return {
        "per_call_eur": None if per_call is None else round(per_call, 6),
        "per_month_eur": None if (per_call is None or volume is None) else round(per_call * volume, 2),
        "monthly_volume": volume,
        "target_per_call_eur": target,
        "basis": basis
        or "unknown: set poc.model (priced in rescue/evals/prices.yaml) or poc.cost_per_call_eur",
        "meets_target": None if (per_call is None or target is None) else per_call <= target,
    }


def _contract(spec: Spec, calls: list[Call]) -> dict[str, Any] | None:
    if not spec.integration:
        return None
    outputs = [c.output for c in calls if c.ok]
    result: dict[str, Any] = {"contracts": []}
    valid_all = [True] * len(outputs)
    for contract in spec.integration:
        schema = json.loads(spec.path(contract.schema_path).read_text(encoding="utf-8"))
        validator = jsonschema.validators.validator_for(schema)(schema)
        violations: Counter[str] = Counter()
        valid = 0
        for i, output in enumerate(outputs):
            errors = list(validator.iter_errors(output))
            if errors:
                valid_all[i] = False
                for err in errors:
                    where = "/".join(map(str, err.absolute_path)) or "(record)"
                    violations[f"{where}: {err.message}"[:160]] += 1
            else:
                valid += 1
        result["contracts"].append({"name": contract.name, "valid": scores.wilson(valid, len(outputs)),
                                    "top_violations": [{"violation": v, "count": n} for v, n in violations.most_common(8)]})  # fmt: skip
    result["valid_rate"] = round(sum(valid_all) / len(outputs), 4) if outputs else None
    return result


def _slices(
    items: list[dict[str, Any]], calls: list[Call], field: str, slice_fields: list[str]
) -> dict[str, Any]:
    correct = [
        c.ok and predicted_label(c.output, field) == it["label"] for it, c in zip(items, calls, strict=True)
    ]
    rows = []
    for f in slice_fields:
        groups: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            groups.setdefault(str(it.get(f, "")), []).append(i)
        if len(groups) < 2:
            continue
        for value, idx in sorted(groups.items()):
            hits = sum(correct[i] for i in idx)
            rest = [i for i in range(len(items)) if i not in set(idx)]
            rest_hits = sum(correct[i] for i in rest)
            table = [[hits, len(idx) - hits], [rest_hits, len(rest) - rest_hits]]
            p = float(stats.fisher_exact(table).pvalue) if rest else 1.0
            rows.append(
                {
                    "field": f,
                    "value": value,
                    "accuracy": scores.wilson(hits, len(idx)),
                    "p_value_vs_rest": round(p, 6),
                }
            )
    adjusted = scores.holm([r["p_value_vs_rest"] for r in rows]) if rows else []
    for row, p in zip(rows, adjusted, strict=True):
        row["p_holm"] = p
        row["significantly_worse"] = p < 0.05 and (row["accuracy"]["value"] or 0) < (
            sum(correct) / len(correct)
        )
    return {"count": len(rows), "rows": sorted(rows, key=lambda r: r["accuracy"]["value"] or 0)}


def _examples(
    items: list[dict[str, Any]], calls: list[Call], field: str, limit: int = 6
) -> list[dict[str, Any]]:
    out = []
    for it, c in zip(items, calls, strict=True):
        pred = predicted_label(c.output, field) if c.ok else None
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


def build_eval_position(
    spec: Spec, out: str | Path, progress: bool = True, policy: RunPolicy | None = None
) -> dict[str, Any]:
    """Run the PoC and the baseline on the labeled production set (and the PoC on its demo); score it all."""
    if spec.eval.task == "generation":
        from .generation import build_generation_position

        return build_generation_position(spec, out, progress, policy)
    field = spec.eval.label_column
    items = load_eval_items(spec, out)
    if not items:
        raise RescueError(f"no labeled item in {spec.eval.labels} could be joined to a declared source")
    demo = load_demo_items(spec)
    classes = _classes(spec, items)
    poc = make_poc_adapter(spec)
    with Ledger(out) as ledger:
        poc_calls = run(poc, items, ledger, "production", policy, progress=progress)
        demo_calls = run(poc, demo, ledger, "demo", policy, progress=progress) if demo else []
        baseline: Adapter | None = None
        base_calls: list[Call] = []
        if spec.eval.baseline:
            baseline = make_baseline(spec.eval.baseline, [it["label"] for it in items], field)
            base_calls = run(baseline, items, ledger, "production", policy, progress=progress)
        ledger_calls = ledger.count()

    poc_scores = _score_twice(items, poc_calls, classes, field)
    headline = poc_scores["as_failures"]
    comparison = None
    if baseline is not None:
        a = [
            c.ok and predicted_label(c.output, field) == it["label"]
            for it, c in zip(items, poc_calls, strict=True)
        ]
        b = [
            c.ok and predicted_label(c.output, field) == it["label"]
            for it, c in zip(items, base_calls, strict=True)
        ]
        base_scores = scores.classification(
            [it["label"] for it in items], [predicted_label(c.output, field) for c in base_calls], classes
        )
        test = scores.mcnemar(a, b)
        diff = scores.paired_difference(a, b)
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
            if c.ok and predicted_label(c.output, field) == it["label"]
        )
        demo_block = {"n": len(demo), "accuracy": scores.wilson(d_correct, len(demo)), "production_accuracy": headline["accuracy"],
                      "gap": None if headline["accuracy"]["value"] is None else round(d_correct / len(demo) - headline["accuracy"]["value"], 4),
                      "labels": sorted(set(d_true))}  # fmt: skip
    mde = scores.detectable_difference(len(items))
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
        "errors": _errors(poc_calls),
        "comparison": comparison,
        "power": {"detectable_difference": mde, "labels_for_5_points": scores.labels_needed(0.05)},
        "demo_vs_production": demo_block,
        "latency": _latency(poc_calls, spec.targets.latency_p95_ms),
        "cost": _cost(spec, poc_calls, items),
        "contract": _contract(spec, poc_calls),
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
    v, lo, hi = diff["value"], diff["low"], diff["high"]
    direction = "more" if v > 0 else "less"
    p = test["p_value"]
    shown_p = "p < 0.001" if p < 0.001 else f"p = {p:.3g}"
    verdict = "a real difference" if p < 0.05 else "no difference this sample can show"
    return (f"On the same {diff['n']} production items the PoC is right {abs(v) * 100:.1f} points {direction} often than "
            f"the {baseline} baseline (95% CI {lo * 100:+.1f} to {hi * 100:+.1f} points; McNemar {shown_p}): {verdict}. "
            f"Macro-F1: PoC {poc_f1:.2f}, baseline {base_f1:.2f}.")  # fmt: skip
