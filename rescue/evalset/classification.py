"""Day 3 for a classifier: draw (or reuse) the sample, import or collect labels, measure agreement, export."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputFileError, RescueError
from ..hashing import file_sha256
from ..inputs import read_demo
from ..ledger import Ledger
from ..spec import Spec
from . import sample as sampling
from .agreement import agreement
from .items import eval_item_parts
from .labels import DATASET, current_labels, disagreements, export_labeled_set, import_labels

SAMPLE_FILE = "eval_sample.csv"
# what the draw measured, with the sample file's hash: a reused sample is checked against it and reports it
SAMPLE_MANIFEST = "eval_sample.json"


def prepare_sample(
    spec: Spec, out: str | Path, n: int | None = None, resample: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The eval sample, drawn once and kept in ``out`` so labels stay attached to the same items.

    The sample file and its manifest (what the draw measured and the file's SHA-256) are written atomically; a
    kept sample is reused only when it is the file the draw wrote.
    """
    path = Path(out) / SAMPLE_FILE
    strata = list(spec.eval.strata)
    if path.exists() and not resample:
        drawn = _drawn(path)
        frame = pd.read_csv(path, dtype={"item_id": str, "item_hash": str}, keep_default_na=False)
        return frame, {**drawn, "reused": True, "strata": strata}
    extra = [c for c in strata if c != "source"]
    left_out: list[dict[str, str]] = []
    everything = sampling.population(spec, extra, left_out)
    population, generalises_to = sampling.narrowed(everything, dict(spec.eval.where))
    kept, dedupe = sampling.deduplicate(population, demo.texts if (demo := read_demo(spec)) else [])
    missing = [c for c in strata if c not in kept.columns]
    if missing:
        raise RescueError(f"eval.strata names columns no source has: {', '.join(missing)}")
    frame = sampling.draw(kept, n or spec.eval.sample_size, strata)
    frame["key"] = frame["source"] + ":" + frame["item_id"].astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, frame.to_csv(index=False))
    info = {
        "population": len(population),
        **dedupe,
        "sources_left_out": left_out,
        "generalises_to": generalises_to,
    }
    manifest = {"rows": len(frame), "sha256": file_sha256(path), **info}
    _write_atomically(path.with_name(SAMPLE_MANIFEST), json.dumps(manifest, indent=2) + "\n")
    return frame, {"reused": False, "strata": strata, **info}


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _drawn(path: Path) -> dict[str, Any]:
    """What the draw of the kept sample measured, once the file is checked to be the one it wrote."""
    manifest_path = path.with_name(SAMPLE_MANIFEST)
    if not manifest_path.exists():  # a sample kept by an older rescue: nothing to check it against
        return {}
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if file_sha256(path) != manifest["sha256"]:
        raise InputFileError(path, f"changed since it was drawn ({manifest['rows']} items): restore it, or delete it "
                             f"and {SAMPLE_MANIFEST} to draw a new sample (the labels stay in the ledger)")  # fmt: skip
    return {k: v for k, v in manifest.items() if k not in ("rows", "sha256")}


def build(spec: Spec, out: str | Path, import_existing: bool, n: int | None = None) -> dict[str, Any]:
    """Sample, import labels (batch mode), report coverage and agreement, export the labeled set."""
    out = Path(out)
    frame, info = prepare_sample(spec, out, n)
    imported = 0
    with Ledger(out) as ledger:
        if import_existing and spec.eval.labels:
            imported = import_labels(ledger, frame, spec.path(spec.eval.labels), spec.eval.label_column)
        labels = current_labels(ledger.label_events(DATASET))
    sampled_keys = set(frame["key"])
    labels = labels[labels["item"].isin(sampled_keys)] if len(labels) else labels
    csv, parquet = export_labeled_set(frame, labels, out, spec.eval.label_column)
    probabilities = (
        frame["inclusion_probability"] if "inclusion_probability" in frame.columns else 1 / frame["weight"]
    )
    exported = pd.read_csv(csv, dtype=str, keep_default_na=False)
    strata = (
        frame.groupby("stratum")
        .agg(items=("key", "size"), weight=("weight", "first"))
        .reset_index()
        .to_dict("records")
    )
    return {
        "sample": {
            "size": len(frame),
            "strata": [
                {"stratum": s["stratum"], "items": int(s["items"]), "weight": round(float(s["weight"]), 4)}
                for s in strata
            ],
            "stratified_by": info["strata"],
            "reused": info["reused"],
            "population": info.get("population"),
            "exact_duplicates": info.get("exact_duplicates"),
            "near_duplicates": info.get("near_duplicates"),
            "demo_examples_excluded": info.get("demo_examples_found"),
            "sources_left_out": info.get("sources_left_out", []),
            "generalises_to": info.get("generalises_to")
            or "every production item of the sources sampled (no eval.where filter)",
            "inclusion_probability": {
                "min": round(float(probabilities.min()), 6),
                "max": round(float(probabilities.max()), 6),
            }
            if len(frame)
            else None,
            "from_traces": int(
                frame["source"].isin([s.name for s in spec.sources if s.kind == "traces"]).sum()
            ),
        },
        "labels": {
            "imported_this_run": imported,
            "labelers": sorted(set(labels["labeler"])) if len(labels) else [],
            "labeled_items": len(exported),
            "coverage": round(len(exported) / len(frame), 4) if len(frame) else 0.0,
            "flagged": int(labels["flagged"].sum()) if len(labels) else 0,
            "by_label": exported[spec.eval.label_column].value_counts().sort_index().to_dict(),
            "origin": exported["label_origin"].value_counts().to_dict(),
            **_scored_next(spec, out),
        },
        "agreement": agreement(labels) if len(labels) else None,
        "open_disagreements": len(disagreements(labels)) if len(labels) else 0,
        "export": {"csv": csv.name, "parquet": parquet.name},
    }


def _scored_next(spec: Spec, out: Path) -> dict[str, int | None]:
    """How many labeled production items Day 4 will score, and how many of them the labels file labels: the
    sample is one part of them, so its "300 of 300" and Day 4's "974" are both true."""
    try:
        from_file, only_here = eval_item_parts(spec, out)
    except RescueError:
        return {"scored_in_day4": None, "from_labels_file": None}
    return {"scored_in_day4": len(from_file) + len(only_here), "from_labels_file": len(from_file)}


def summary_markdown(report: dict[str, Any]) -> str:
    """Coverage and agreement in a few lines."""
    s, lab = report["sample"], report["labels"]
    lines = []
    if s.get("population") is not None:
        lines.append(f"- Sampled {s['size']} of {s['population']:,} production items, stratified by {', '.join(s['stratified_by'])}, "
                     f"after removing {s['exact_duplicates']} exact and {s['near_duplicates']} near-duplicate texts "
                     f"and {s['demo_examples_excluded']} demo example(s).")  # fmt: skip
    if s.get("inclusion_probability"):
        p = s["inclusion_probability"]
        chance = f"{p['min']:.3g}" if p["min"] == p["max"] else f"{p['min']:.3g} to {p['max']:.3g}"
        traces = (
            f"; {s['from_traces']:,} of them are calls from production traces" if s.get("from_traces") else ""
        )
        lines.append(f"- The sample stands for {s['generalises_to']}: each item had a chance of {chance} to be drawn "
                     f"(its weight is the inverse){traces}; Day 4 weights its scores back to production.")  # fmt: skip
    for gone in s.get("sources_left_out", []):
        lines.append(f"- **Source `{gone['source']}` could not be read ({gone['kind']}: {gone['reason']}), so the sample "
                     "does not stand for its items**; re-draw the sample once it can be read.")  # fmt: skip
    if lab["labeled_items"] == 0:
        lines.append("- **No item is labeled yet**: label them in the widget above (or set eval.labels to import "
                     "labels), then run this cell again; until then eval_set.json holds no label.")  # fmt: skip
    lines += [f"- **{lab['labeled_items']} of {s['size']} sampled items labeled ({lab['coverage']:.0%})**"
             + (f" by {', '.join(lab['labelers'])}" if lab["labelers"] else "") + "."]  # fmt: skip
    if lab.get("scored_in_day4") is not None:
        only_here = lab["scored_in_day4"] - lab["from_labels_file"]
        lines.append(f"- Day 4 scores **{lab['scored_in_day4']:,} labeled production items**: the "
                     f"{lab['from_labels_file']:,} the labels file labels (`eval.labels`), and {only_here:,} labeled "
                     "only in this sample — so this sample's count and Day 4's differ, and both hold.")  # fmt: skip
    if lab["origin"]:
        lines.append("- Label origin: " + ", ".join(f"{k} ({v})" for k, v in lab["origin"].items())
                     + " — labels no person gave are never counted as human.")  # fmt: skip
    if lab["by_label"]:
        lines.append("- Labels: " + ", ".join(f"{k} {v}" for k, v in lab["by_label"].items()) + ".")
    a = report["agreement"]
    if a:
        lines.append(f"- Agreement ({a['measure']}, {a['items']} items, {', '.join(a['labelers'])}): "
                     f"**{a['value']:.2f}** (95% CI {a['low']:.2f}–{a['high']:.2f}).")  # fmt: skip
    else:
        lines.append(
            "- Agreement: not measured yet — a second person labeling an overlap blind gives Cohen's kappa."
        )
    if report["open_disagreements"]:
        lines.append(f"- {report['open_disagreements']} disagreement(s) wait for adjudication.")
    if lab["flagged"]:
        lines.append(f"- {lab['flagged']} item(s) flagged by labelers.")
    lines.append(
        f"- Exported: `{report['export']['csv']}` and `{report['export']['parquet']}` with provenance columns."
    )
    return "\n".join(lines)


def labeling_widget(spec: Spec, out: str | Path, sample: pd.DataFrame, labeler: str | None = None) -> Any:
    """The labeling widget: one item at a time beside the guide, every click in the ledger."""
    from .widget import AskLabeler, LabelingWidget

    return AskLabeler(out, labeler, lambda name: LabelingWidget(spec, out, sample, name))


def label_datasets(spec: Spec) -> list[str]:
    """The ledger datasets holding people's labels."""
    return [DATASET]
