"""Labels: an append-only event log in the ledger, replayed into the current labels.

Each click is an event (label, skip, flag, comment, undo) committed the moment it is given, with
who, when and the hash of the item's text — a crashed kernel or a closed browser loses nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputFileError
from ..inputs import read_table
from ..ledger import Ledger

DATASET = "eval_set"


def current_labels(events: list[dict[str, Any]]) -> pd.DataFrame:
    """Replay events into one row per (item, labeler): the latest label, flags and comments, undo applied."""
    undone = {e["undoes"] for e in events if e["action"] == "undo"}
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        if e["id"] in undone or e["action"] == "undo":
            continue
        key = (e["item"], e["labeler"])
        row = state.setdefault(key, {"item": e["item"], "labeler": e["labeler"], "label": None, "flagged": False,
                                     "skipped": False, "comment": None, "item_hash": e["item_hash"], "labeled_at": None,
                                     "label_origin": None})  # fmt: skip
        if e["action"] == "label":
            # an imported label says where it came from; a label clicked in the widget is a person's
            origin = e.get("label_origin") or ("imported" if e["labeler"].startswith("import:") else "human")
            row.update(
                label=e["label"],
                skipped=False,
                labeled_at=e["created_at"],
                item_hash=e["item_hash"],
                label_origin=origin,
            )
        elif e["action"] == "skip":
            row["skipped"] = True
        elif e["action"] == "flag":
            row["flagged"] = True
        elif e["action"] == "comment":
            row["comment"] = e["comment"]
    columns = [
        "item",
        "labeler",
        "label",
        "flagged",
        "skipped",
        "comment",
        "item_hash",
        "labeled_at",
        "label_origin",
    ]
    return pd.DataFrame(list(state.values()), columns=columns)


def last_undoable(events: list[dict[str, Any]], labeler: str) -> int | None:
    """The id of the labeler's most recent event that is not yet undone (None when there is none)."""
    undone = {e["undoes"] for e in events if e["action"] == "undo"}
    for e in reversed(events):
        if e["labeler"] == labeler and e["action"] != "undo" and e["id"] not in undone:
            return int(e["id"])
    return None


def import_labels(
    ledger: Ledger, sample: pd.DataFrame, path: Path, label_column: str, labeler: str | None = None
) -> int:
    """Import labels for sampled items from a CSV/JSONL file (``source`` + ``item_id`` columns) as events.

    Items already labeled by the same labeler are not imported twice. Returns the number imported.
    """
    if not path.exists():
        raise InputFileError(path, "not found; expected the labels file eval.labels names")
    frame = read_table(path)
    if label_column not in frame.columns or not {"source", "item_id"} <= set(frame.columns):
        missing = sorted({"source", "item_id", label_column} - set(frame.columns))
        raise InputFileError(path.name, "missing; labels to import need source, item_id and the label column",
                             ", ".join(missing))  # fmt: skip
    who = labeler or f"import:{path.name}"
    existing = current_labels(ledger.label_events(DATASET))
    have = set(existing.loc[existing["labeler"] == who, "item"]) if len(existing) else set()
    frame = frame.assign(key=frame["source"].astype(str) + ":" + frame["item_id"].astype(str))
    by_key = dict(zip(frame["key"], frame[label_column], strict=False))
    origin = (
        dict(zip(frame["key"], frame["label_origin"], strict=False))
        if "label_origin" in frame.columns
        else {}
    )
    imported = 0
    for row in sample.itertuples():
        key = row.key
        if key in have or key not in by_key or str(by_key[key]).strip() == "":
            continue
        ledger.add_label_event(DATASET, key, row.item_hash, who, "label", str(by_key[key]),
                               label_origin=origin.get(key) or None)  # fmt: skip
        imported += 1
    return imported


# trace fields an item drawn from production traces keeps in the labeled set (rescue.evalset.sample.TRACE_FIELDS)
EXTRA_FIELDS = ("trace_id", "session_id", "model", "operation", "provider", "recorded_output",
                "recorded_latency_ms", "recorded_tokens_in", "recorded_tokens_out", "recorded_error")  # fmt: skip
_DRAW_ONLY = {"key", "item_hash", "label", "labelers", "labeled_at", "label_origin"}


def export_labeled_set(
    sample: pd.DataFrame, labels: pd.DataFrame, out: Path, label_column: str
) -> tuple[Path, Path]:
    """Write the labeled set (CSV and Parquet) with provenance: source, stratum, weight, labeler, when, hash."""
    resolved = resolve(labels)
    merged = sample.merge(resolved, left_on="key", right_on="item", how="inner")
    frame = pd.DataFrame(
        {
            "source": merged["source"],
            "item_id": merged["item_id"],
            "text": merged["text"],
            label_column: merged["label"],
            "stratum": merged["stratum"],
            "weight": merged["weight"],
            "labelers": merged["labelers"],
            "labeled_at": merged["labeled_at"],
            "item_hash": merged["item_hash_x"],
            "label_origin": merged["label_origin"],
        }
    )
    for column in ("inclusion_probability", *EXTRA_FIELDS):  # what the draw knew of each item: Day 4 reads it
        if column in merged.columns:
            frame[column] = merged[column]
    for column in sample.columns:  # a stratum's or a cluster's field (eval.strata, eval.cluster)
        if column not in frame.columns and column not in _DRAW_ONLY and column in merged.columns:
            frame[column] = merged[column]
    out.mkdir(parents=True, exist_ok=True)
    csv, parquet = out / "eval_set.csv", out / "eval_set.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return csv, parquet


def resolve(labels: pd.DataFrame) -> pd.DataFrame:
    """One label per item: an adjudicator's label wins; else the labelers' agreed label; disagreements stay open."""
    rows = []
    for item, group in labels[labels["label"].notna()].groupby("item"):
        adjudicated = group[group["labeler"].str.startswith("adjudicator:")]
        chosen = adjudicated if len(adjudicated) else group
        values = set(chosen["label"])
        if len(values) != 1:
            continue  # an open disagreement: the adjudication view lists it
        rows.append({"item": item, "label": values.pop(), "labelers": ";".join(sorted(chosen["labeler"])),
                     "labeled_at": chosen["labeled_at"].max(), "item_hash": chosen["item_hash"].iloc[0],
                     "label_origin": ";".join(sorted(set(chosen["label_origin"].dropna())))})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["item", "label", "labelers", "labeled_at", "item_hash", "label_origin"]
    )


def disagreements(labels: pd.DataFrame) -> pd.DataFrame:
    """Items where labelers gave different labels and no adjudicator has decided yet."""
    rows = []
    for item, group in labels[labels["label"].notna()].groupby("item"):
        if group["labeler"].str.startswith("adjudicator:").any():
            continue
        if group["label"].nunique() > 1:
            rows.append({"item": item, **{f"label by {r.labeler}": r.label for r in group.itertuples()}})
    return pd.DataFrame(rows)
