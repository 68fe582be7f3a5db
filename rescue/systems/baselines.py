"""The built-in baselines a classifier is set against: ``majority`` and ``stratified``."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from ..errors import RescueError
from .base import Adapter, Answer, config_hash


def make_baseline(kind: str, labels: list[str], label_field: str) -> Adapter:
    """A built-in baseline: ``majority`` (always the most frequent label) or ``stratified``
    (a label drawn with the label frequencies, seeded by the item so it is repeatable)."""
    counts = Counter(labels)
    if not counts:
        raise RescueError("a baseline needs labels")
    ordered = sorted(counts, key=lambda k: (-counts[k], k))
    if kind == "majority":
        top = ordered[0]

        def call(item: dict[str, Any]) -> Answer:
            return Answer({label_field: top})

    elif kind == "stratified":
        total = sum(counts.values())
        cumulative, acc = [], 0
        for label in ordered:
            acc += counts[label]
            cumulative.append((acc / total, label))

        def call(item: dict[str, Any]) -> Answer:
            u = int(hashlib.sha256(str(item["item_id"]).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            return Answer({label_field: next(label for edge, label in cumulative if u <= edge)})

    else:
        raise RescueError(f"unknown baseline {kind!r}; expected majority or stratified")
    return Adapter(f"baseline:{kind}", config_hash(kind, sorted(counts.items())), call, 5.0, 16)
