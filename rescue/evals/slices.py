"""Slices: each value of a slice field (source, product, model…) scored against the rest, Holm-corrected.

Either kind of PoC uses it with its own per-item score and test: a classifier's hits with Fisher's exact test,
a generator's token F1 with the Mann-Whitney U test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..stats import holm


def compare_slices(
    items: list[dict[str, Any]],
    values: Sequence[float],
    fields: list[str],
    metric: str,
    summarise: Callable[[list[float]], dict[str, Any]],
    test: Callable[[list[float], list[float]], float],
    max_groups: int | None = None,
) -> dict[str, Any]:
    """Per slice: ``summarise`` of its items' ``values`` (stored under ``metric``) and ``test``'s p-value against
    the rest. A field with one value is no slice; with more than ``max_groups`` values it is an identifier."""
    overall = sum(values) / len(values) if values else 0.0
    rows = []
    for f in fields:
        groups: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            groups.setdefault(str(it.get(f, "")), []).append(i)
        if len(groups) < 2 or (max_groups is not None and len(groups) > max_groups):
            continue
        for value, idx in sorted(groups.items()):
            chosen = set(idx)
            inside = [values[i] for i in idx]
            rest = [values[i] for i in range(len(items)) if i not in chosen]
            p = test(inside, rest) if rest and inside else 1.0
            rows.append(
                {"field": f, "value": value, metric: summarise(inside), "p_value_vs_rest": round(p, 6)}
            )
    for row, p in zip(rows, holm([r["p_value_vs_rest"] for r in rows]) if rows else [], strict=True):
        row["p_holm"] = p
        row["significantly_worse"] = p < 0.05 and (row[metric]["value"] or 0) < overall
    return {"count": len(rows), "rows": sorted(rows, key=lambda r: r[metric]["value"] or 0)}
