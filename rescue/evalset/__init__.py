"""Day 3 — the eval set: a random, stratified sample of production, labeled by people, with its provenance.

The PoC's kind chooses its module once: :mod:`.classification` (labels for a classifier) or :mod:`.rubric`
(people's rubric grades of a free-text PoC's answers). Both keep every label in the ledger the moment it is
given (:mod:`.labels`, :mod:`.grades`) and measure agreement (:mod:`.agreement`); :mod:`.items` reads the
labeled items Day 4 scores.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from ..ledger import Ledger
from ..spec import Spec
from . import classification, rubric
from .labels import current_labels, disagreements

__all__ = [
    "build",
    "for_kind",
    "labeling_widget",
    "open_disagreements",
    "prepare_sample",
    "sample_table",
    "summary_markdown",
]

KINDS: dict[str, ModuleType] = {"classification": classification, "generation": rubric}


def for_kind(spec: Spec) -> ModuleType:
    """The Day 3 module for the spec's kind of PoC (``eval.task``)."""
    return KINDS[spec.eval.task]


def prepare_sample(spec: Spec, out: str | Path, n: int | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """What people label: the eval sample (drawn once and kept in ``out``), or the PoC's answers to grade."""
    return for_kind(spec).prepare_sample(spec, out, n)


def build(spec: Spec, out: str | Path, import_existing: bool, n: int | None = None) -> dict[str, Any]:
    """The eval set artifact's payload: the sample, the labels (imported in batch runs), agreement, the export."""
    return for_kind(spec).build(spec, out, import_existing, n)


def labeling_widget(spec: Spec, out: str | Path, sample: pd.DataFrame, labeler: str | None = None) -> Any:
    """The Day 3 widget: labels for a classification PoC, rubric grades for a generation PoC."""
    return for_kind(spec).labeling_widget(spec, out, sample, labeler)


def summary_markdown(report: dict[str, Any]) -> str:
    """Coverage and agreement in a few lines."""
    kind = rubric if report.get("rubric") is not None else classification
    return kind.summary_markdown(report)


def freshness_note(report: dict[str, Any], interactive: bool, now: datetime | None = None) -> str:
    """In JupyterLab, when labeling is not done: when this summary was computed, with how many labels, and how to
    refresh it (Run All runs this cell before anyone labels). Empty in batch runs and once every item is labeled."""
    labeled, size = report["labels"]["labeled_items"], report["sample"]["size"]
    if not interactive or labeled >= size:
        return ""
    at = (now or datetime.now()).strftime("%H:%M")
    return (f"_Computed at {at} with {labeled} of {size} items labeled. After labeling in the widget above, refresh "
            "this summary and the artifact: select this cell, then **Run ▸ Run Selected Cell and All Below**._")  # fmt: skip


def sample_table(report: dict[str, Any]) -> pd.DataFrame:
    """The sample's strata: items drawn and the weight of each (the production items it stands for)."""
    return pd.DataFrame(report["sample"]["strata"]).rename(
        columns={"stratum": "Stratum", "items": "Sampled", "weight": "Weight (items each stands for)"}
    )


def open_disagreements(spec: Spec, out: str | Path) -> pd.DataFrame:
    """Items (or answers, per rubric criterion) where people disagree and no adjudicator has decided."""
    frames = []
    with Ledger(out) as ledger:
        for dataset in for_kind(spec).label_datasets(spec):
            found = disagreements(current_labels(ledger.label_events(dataset)))
            if len(found):
                frames.append(found.assign(dataset=dataset))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
