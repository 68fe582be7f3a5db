"""The labeled production items Day 4 scores: the labels file joined to the sources' text, plus what Day 3 labeled.

Also the PoC's hand-picked demo examples, which Day 4 scores beside production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputFileError, RescueError, SourceUnavailable
from ..inputs import read_demo, read_table
from ..spec import Spec
from .sample import samples_from, source_texts


def load_eval_items(spec: Spec, out: str | Path | None = None) -> list[dict[str, Any]]:
    """The labeled production items with their text: labels joined to the sources' text columns.

    With ``out``, the items labeled in Day 3 (``eval_set.parquet``) that the labels file does not hold
    are scored too, so labels given in the widget count without a file (the file's label wins for its items).
    """
    from_file, only_day3 = eval_item_parts(spec, out)
    return from_file + only_day3


def eval_item_parts(
    spec: Spec, out: str | Path | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`load_eval_items` in its two parts: the labels file's items, and the items labeled only in Day 3."""
    ev = spec.eval
    day3 = _day3_items(spec, Path(out)) if out is not None and ev.task == "classification" else []
    if not ev.labels:
        if day3:
            return [], day3
        raise RescueError(
            "eval.labels is not set and Day 3 has labeled nothing yet: there is no labeled production set to score on"
        )
    items = _file_items(spec)
    known = {it["item_id"] for it in items}
    return items, [it for it in day3 if it["item_id"] not in known]


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
        # the draw's fields stay with the item (a trace's session and recorded output, a stratum's columns)
        extra = {k: v for k, v in row.items() if k not in _DAY3_COLUMNS and k != field and not _missing(v)}
        items.append({**extra, "item_id": f"{source}:{raw_id}", "source": source, "source_id": raw_id,
                      "text": str(row["text"]), "label": str(label), "label_origin": row.get("label_origin") or "human",
                      "weight": row.get("weight"), "stratum": row.get("stratum")})  # fmt: skip
    return items


_DAY3_COLUMNS = {"source", "item_id", "text", "labelers", "labeled_at", "item_hash", "label_origin"}


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _file_items(spec: Spec) -> list[dict[str, Any]]:
    ev = spec.eval
    assert ev.labels is not None
    labels = read_table(spec.path(ev.labels))
    if ev.label_column not in labels.columns:
        raise InputFileError(
            ev.labels, "missing; expected the label column eval.label_column names", ev.label_column
        )
    labels = labels[labels[ev.label_column].str.strip() != ""]
    if "text" in labels.columns:
        frame = labels
    else:
        missing = {"source", "item_id"} - set(labels.columns)
        if missing:
            raise InputFileError(
                ev.labels, "missing; expected a text column, or source and item_id columns to find the text",
                ", ".join(sorted(missing)),
            )  # fmt: skip
        parts = []
        for source in spec.sources:
            wanted = labels[labels["source"] == source.name]
            if wanted.empty:
                continue
            if not samples_from(source):
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
        texts = source_texts(spec, source, ids=set(wanted["item_id"].astype(str)))
    except SourceUnavailable as exc:
        raise RescueError(f"cannot read the labeled items' text: {exc}") from None
    merged = wanted.assign(source=source.name).merge(
        texts.drop_duplicates("item_id"), on="item_id", how="left"
    )
    merged["text"] = merged["text"].fillna("")
    return merged


def load_demo_items(spec: Spec) -> list[dict[str, Any]]:
    """The demo examples (``eval.demo_examples``) as items with their text and label ([] when none)."""
    demo = read_demo(spec)
    if demo is None:
        return []
    ev = spec.eval
    label_col = ev.demo_label_column or ev.label_column
    if label_col not in demo.frame.columns:
        raise InputFileError(ev.demo_examples, "missing; expected the label column of the demo examples "
                             "(eval.demo_label_column, else eval.label_column)", label_col)  # fmt: skip
    return [
        {"item_id": f"demo:{i}", "source": "demo", "text": r[demo.text_column], "label": r[label_col]}
        for i, r in enumerate(demo.frame.to_dict("records"))
    ]
