"""Day 3 for free-text PoCs: the PoC's answers to grade, and people's rubric grades in the ledger.

Each grade is a label event in the ledger (dataset ``rubric:<criterion>``) pinned to the SHA-256 of what was
graded — the question, the answer and the cited document ids (:func:`graded_hash`) — so a grade never silently
moves to a different answer. Day 4 reads the grades given for what is graded now and counts the rest as stale.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.connect import read_texts
from ..errors import InputFileError, RescueError, SourceUnavailable
from ..inputs import read_table
from ..ledger import Call, Ledger
from ..spec import Criterion, Spec
from ..systems import Adapter, RunPolicy, cited_documents, make_poc_adapter, output_field, run
from .labels import current_labels, resolve

RUBRIC_PREFIX = "rubric:"


def rubric_dataset(criterion: str) -> str:
    """The ledger dataset holding people's grades for one criterion."""
    return RUBRIC_PREFIX + criterion


def graded_hash(question: str, answer: str, documents: list[str] | None) -> str:
    """SHA-256 of what a person grades: the question, the answer and the cited document ids. A grade is
    pinned to it, so it never moves to a different question, answer or set of documents."""
    return hashlib.sha256(
        json.dumps([question, answer, documents or []], ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def load_contexts(spec: Spec, ids: set[str]) -> dict[str, str]:
    """The corpus text of the cited documents (read-only through the Day 2 connection)."""
    name = spec.eval.corpus_source
    if not name or not ids:
        return {}
    source = next(s for s in spec.sources if s.name == name)
    try:
        texts = read_texts(spec, source, ids=ids)
    except SourceUnavailable as exc:
        raise RescueError(f"cannot read the cited documents from {name}: {exc}") from None
    texts = texts[texts["item_id"].astype(str).isin(ids)]
    return dict(zip(texts["item_id"].astype(str), texts["text"].astype(str), strict=True))


def grade_value(grade: str, criterion: Criterion) -> str | None:
    """A person's grade as pass/fail (a 1-5 grade passes at ``criterion.pass_at``)."""
    g = str(grade).strip().lower()
    if criterion.scale == "pass_fail":
        return g if g in ("pass", "fail") else None
    return ("pass" if int(g) >= criterion.pass_at else "fail") if g in ("1", "2", "3", "4", "5") else None


def poc_answers(
    spec: Spec,
    out: str | Path,
    items: list[dict[str, Any]],
    progress: bool = True,
    policy: RunPolicy | None = None,
) -> tuple[Adapter, list[Call]]:
    """The PoC's answers to the eval questions, through the ledger (Day 4 reuses them; nothing is asked twice)."""
    poc = make_poc_adapter(spec)
    with Ledger(out) as ledger:
        return poc, run(poc, items, ledger, "production", policy, progress=progress)


def grading_frame(spec: Spec, items: list[dict[str, Any]], calls: list[Call]) -> pd.DataFrame:
    """One row per answered item, for the rubric widget: question, answer, cited context, reference."""
    ev = spec.eval
    docs = [cited_documents(c.output, ev.documents_field) if c.ok else None for c in calls]
    contexts = load_contexts(spec, {d for ds in docs if ds for d in ds})
    missing = (
        "(not found in the corpus)" if ev.corpus_source else "(set eval.corpus_source to show the document)"
    )
    rows = []
    for it, c, ds in zip(items, calls, docs, strict=True):
        answer = output_field(c.output, ev.answer_field) if c.ok else None
        if answer is None:
            continue
        rows.append({"key": it["item_id"], "item_hash": graded_hash(it["text"], answer, ds), "question": it["text"],
                     "answer": answer, "reference": it.get("label", ""), "context": [(d, contexts.get(d, missing)) for d in ds or []]})  # fmt: skip
    return pd.DataFrame(rows, columns=["key", "item_hash", "question", "answer", "reference", "context"])


def import_grades(ledger: Ledger, spec: Spec, path: Path) -> int:
    """Import rubric grades (item_id, criterion, grade, graded_sha256, [labeler, label_origin]) as events.

    A grade without ``graded_sha256`` (see :func:`graded_hash`) cannot be pinned to what was graded and is
    refused, as is a grade outside the criterion's scale. A grade already imported (same labeler, criterion,
    item, pinned hash and grade) is not imported twice; an updated one is.
    """
    frame = read_table(path)
    missing = {"item_id", "criterion", "grade", "graded_sha256"} - set(frame.columns)
    if missing:
        raise InputFileError(path.name, "missing; eval.grades needs item_id, criterion, grade and graded_sha256",
                             ", ".join(sorted(missing)))  # fmt: skip
    criteria = {c.name: c for c in spec.eval.rubric}
    unknown = sorted(set(frame["criterion"]) - set(criteria))
    if unknown:
        raise InputFileError(path.name, f"criteria the rubric does not have: {', '.join(unknown)} (eval.rubric)",
                             "criterion")  # fmt: skip
    for i, row in enumerate(frame.to_dict("records"), start=2):
        if row["grade"].strip() and grade_value(row["grade"], criteria[row["criterion"]]) is None:
            scale = "pass or fail" if criteria[row["criterion"]].scale == "pass_fail" else "1 to 5"
            raise InputFileError(
                path.name, f"{row['grade']!r} for {row['criterion']}; expected {scale}", "grade", line=i
            )
    imported = 0
    for criterion, group in frame.groupby("criterion"):
        dataset = rubric_dataset(str(criterion))
        existing = current_labels(ledger.label_events(dataset))
        have = set(zip(existing["item"], existing["labeler"], existing["item_hash"], existing["label"], strict=True)) if len(existing) else set()  # fmt: skip
        for row in group.to_dict("records"):
            who = row.get("labeler") or f"import:{path.name}"
            grade = row["grade"].strip()
            if not grade or (row["item_id"], who, row["graded_sha256"], grade) in have:
                continue
            origin = row.get("label_origin") or "imported"
            ledger.add_label_event(dataset, row["item_id"], row["graded_sha256"], who, "label", grade,
                                   label_origin=origin)  # fmt: skip
            imported += 1
    return imported


def current_grades(ledger: Ledger, criterion: Criterion, hashes: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """Everyone's current grades for one criterion that were given for what is graded now (as pass/fail),
    and how many were given for something else (stale)."""
    labels = current_labels(ledger.label_events(rubric_dataset(criterion.name)))
    if not len(labels):
        return labels, 0
    graded = labels[labels["label"].notna()]
    fresh = graded[graded["item"].map(hashes.get) == graded["item_hash"]].copy()
    fresh["label"] = [grade_value(g, criterion) for g in fresh["label"]]
    return fresh[fresh["label"].notna()], len(graded) - len(fresh)


def people_grades(ledger: Ledger, criterion: Criterion, hashes: dict[str, str]) -> dict[str, Any]:
    """The resolved grade per item for one criterion (pass/fail), from the grades given for what is graded
    now; grades given for a different question, answer or documents are counted as stale, never used."""
    fresh, stale = current_grades(ledger, criterion, hashes)
    resolved = resolve(fresh) if len(fresh) else pd.DataFrame(columns=["item", "label", "label_origin"])
    rows = resolved.to_dict("records")
    return {
        "grades": {row["item"]: row["label"] for row in rows},
        "stale": stale,
        "origin": dict(Counter(row["label_origin"] or "unstated" for row in rows)),
    }
