"""Agreement between labelers: Cohen's kappa for two, Krippendorff's alpha (nominal) for more.

Both come with a 95% percentile bootstrap interval over items.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

BOOTSTRAP = 1000
SEED = 11


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two labelers on the same items."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def krippendorff_alpha(units: list[list[str | None]]) -> float:
    """Krippendorff's alpha for nominal data; ``units`` holds each item's labels (None where a labeler gave none)."""
    pairs: Counter[tuple[str, str]] = Counter()
    for unit in units:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        for i, x in enumerate(values):
            for j, y in enumerate(values):
                if i != j:
                    pairs[(x, y)] += 1 / (m - 1)
    n_c: Counter[str] = Counter()
    for (x, _), w in pairs.items():
        n_c[x] += w
    n = sum(n_c.values())
    if n <= 1:
        return float("nan")
    observed = sum(w for (x, y), w in pairs.items() if x != y)
    expected = sum(n_c[x] * n_c[y] for x in n_c for y in n_c if x != y) / (n - 1)
    return 1.0 if expected == 0 else 1 - observed / expected


def agreement(labels: pd.DataFrame) -> dict[str, Any] | None:
    """Agreement over the items labeled by at least two (non-adjudicator, human) labelers."""
    people = labels[labels["label"].notna() & ~labels["labeler"].str.startswith(("adjudicator:", "import:"))]
    wide = people.pivot_table(index="item", columns="labeler", values="label", aggfunc="last")
    labelers = list(wide.columns)
    if len(labelers) < 2:
        return None
    overlap = wide.dropna(thresh=2)
    if overlap.empty:
        return None
    rng = np.random.default_rng(SEED)
    if len(labelers) == 2:
        both = overlap.dropna()
        a, b = list(both[labelers[0]]), list(both[labelers[1]])
        value = cohen_kappa(a, b)
        draws = [
            cohen_kappa([a[i] for i in idx], [b[i] for i in idx])
            for idx in rng.integers(0, len(a), (BOOTSTRAP, len(a)))
        ]
        measure, n = "Cohen's kappa", len(a)
    else:
        units = [[None if pd.isna(v) else v for v in row] for row in overlap.itertuples(index=False)]
        value = krippendorff_alpha(units)
        draws = [
            krippendorff_alpha([units[i] for i in idx])
            for idx in rng.integers(0, len(units), (BOOTSTRAP, len(units)))
        ]
        measure, n = "Krippendorff's alpha (nominal)", len(units)
    finite = [d for d in draws if not np.isnan(d)]
    low, high = np.percentile(finite, [2.5, 97.5]) if finite else (float("nan"), float("nan"))
    return {"measure": measure, "labelers": labelers, "items": n, "value": round(float(value), 4),
            "low": round(float(low), 4), "high": round(float(high), 4)}  # fmt: skip
