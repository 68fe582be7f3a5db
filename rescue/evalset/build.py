"""Day 3 in one call: draw (or reuse) the sample, import or collect labels, measure agreement, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import RescueError
from ..evals.ledger import Ledger
from ..spec import Spec
from . import sample as sampling
from .agreement import agreement
from .labels import DATASET, current_labels, disagreements, export_labeled_set, import_labels

SAMPLE_FILE = "eval_sample.csv"


def demo_texts(spec: Spec) -> list[str]:
    if not spec.eval.demo_examples:
        return []
    frame = pd.read_csv(spec.path(spec.eval.demo_examples), dtype=str, keep_default_na=False)
    return list(frame["text" if "text" in frame.columns else frame.columns[0]])


def prepare_sample(
    spec: Spec, out: str | Path, n: int | None = None, resample: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The eval sample, drawn once and kept in ``out`` so labels stay attached to the same items.

    For a generation PoC it is the PoC's answers to a seeded sample of the eval questions, to grade.
    """
    if spec.eval.task == "generation":
        from .rubric import prepare_rubric_sample

        return prepare_rubric_sample(spec, out, n), {"reused": True, "strata": []}
    path = Path(out) / SAMPLE_FILE
    strata = list(spec.eval.strata)
    if path.exists() and not resample:
        frame = pd.read_csv(path, dtype={"item_id": str, "item_hash": str}, keep_default_na=False)
        return frame, {"reused": True, "strata": strata}
    extra = [c for c in strata if c != "source"]
    population = sampling.population(spec, extra)
    kept, dedupe = sampling.deduplicate(population, demo_texts(spec))
    missing = [c for c in strata if c not in kept.columns]
    if missing:
        raise RescueError(f"eval.strata names columns no source has: {', '.join(missing)}")
    frame = sampling.draw(kept, n or spec.eval.sample_size, strata)
    frame["key"] = frame["source"] + ":" + frame["item_id"].astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame, {"reused": False, "strata": strata, "population": len(population), **dedupe}


def build_eval_set(
    spec: Spec, out: str | Path, import_existing: bool, n: int | None = None
) -> dict[str, Any]:
    """Sample, import labels (batch mode), report coverage and agreement, export the labeled set."""
    if spec.eval.task == "generation":
        from .rubric import build_rubric_set

        return build_rubric_set(spec, out, import_existing, progress=False)
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
        },
        "labels": {
            "imported_this_run": imported,
            "labelers": sorted(set(labels["labeler"])) if len(labels) else [],
            "labeled_items": len(exported),
            "coverage": round(len(exported) / len(frame), 4) if len(frame) else 0.0,
            "flagged": int(labels["flagged"].sum()) if len(labels) else 0,
            "by_label": exported[spec.eval.label_column].value_counts().sort_index().to_dict(),
            "origin": exported["label_origin"].value_counts().to_dict(),
        },
        "agreement": agreement(labels) if len(labels) else None,
        "open_disagreements": len(disagreements(labels)) if len(labels) else 0,
        "export": {"csv": csv.name, "parquet": parquet.name},
    }


def summary_markdown(report: dict[str, Any]) -> str:
    """Coverage and agreement in a few lines."""
    if report.get("rubric") is not None:
        from .rubric import rubric_markdown

        return rubric_markdown(report)
    s, lab = report["sample"], report["labels"]
    lines = []
    if s.get("population") is not None:
        lines.append(f"- Sampled {s['size']} of {s['population']:,} production items, stratified by {', '.join(s['stratified_by'])}, "
                     f"after removing {s['exact_duplicates']} exact and {s['near_duplicates']} near-duplicate texts "
                     f"and {s['demo_examples_excluded']} demo example(s).")  # fmt: skip
    lines += [f"- **{lab['labeled_items']} of {s['size']} sampled items labeled ({lab['coverage']:.0%})**"
             + (f" by {', '.join(lab['labelers'])}" if lab["labelers"] else "") + "."]  # fmt: skip
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


def sample_table(report: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(report["sample"]["strata"]).rename(
        columns={"stratum": "Stratum", "items": "Sampled", "weight": "Weight (items each stands for)"}
    )


def labeling_widget(spec: Spec, out: str | Path, sample: pd.DataFrame, labeler: str | None = None) -> Any:
    """The Day 3 widget: labels for a classification PoC, rubric grades for a generation PoC."""
    if spec.eval.task == "generation":
        from .rubric import RubricWidget

        return RubricWidget(spec, out, sample, labeler)
    from .widget import LabelingWidget

    return LabelingWidget(spec, out, sample, labeler)


def open_disagreements(spec: Spec, out: str | Path) -> pd.DataFrame:
    """Items (or answers, per rubric criterion) where people disagree and no adjudicator has decided."""
    datasets = [DATASET]
    if spec.eval.task == "generation":
        from ..evals.generation import rubric_dataset

        datasets = [rubric_dataset(c.name) for c in spec.eval.rubric]
    frames = []
    with Ledger(out) as ledger:
        for dataset in datasets:
            found = disagreements(current_labels(ledger.label_events(dataset)))
            if len(found):
                frames.append(found.assign(dataset=dataset))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
