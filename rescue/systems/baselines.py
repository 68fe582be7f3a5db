"""The built-in baselines a PoC is set against: ``majority`` and ``stratified`` (a classifier's), and ``recorded``
(production's own answers, from its traces)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from ..errors import RescueError
from .base import Adapter, Answer, CallFailed, config_hash


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


def recorded_output(text: Any) -> Any:
    """What production recorded as a system's answer: the JSON document it holds (a classifier's record), else
    the text itself."""
    if not isinstance(text, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict | list) else text


def make_recorded() -> Adapter:
    """The output a production trace recorded for the item's input, as a system that calls nothing
    (``eval.baseline: recorded``): production's own answers, scored like the PoC's replay on the same inputs.
    An item without one (a traced call that failed or logged no output) is a ``missing`` answer, counted."""

    def call(item: dict[str, Any]) -> Answer:
        output = item.get("recorded_output")
        if output is None or (isinstance(output, str) and not output.strip()):
            error = item.get("recorded_error")
            raise CallFailed("missing", "production recorded no output for this input"
                             + (f" (the traced call failed: {error})" if error else ""))  # fmt: skip
        return Answer(recorded_output(output))

    adapter = Adapter("baseline:recorded", config_hash("recorded"), call, 5.0, 16)
    # what the baseline answers is the item's recorded output: a changed recording is a new call
    adapter.request_of = lambda item: item.get("recorded_output")
    return adapter
