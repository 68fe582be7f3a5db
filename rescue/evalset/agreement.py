"""Agreement between labelers: Cohen's kappa for two, Krippendorff's alpha (nominal) for more.

Both come with a 95% percentile bootstrap interval over items (:mod:`rescue.stats`: ``DRAWS`` resamples,
``SEED``); resamples on which the coefficient is undefined are left out of the interval.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..stats import bootstrap_interval, cohen_kappa, krippendorff_alpha


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
    if len(labelers) == 2:
        both = overlap.dropna()
        a, b = list(both[labelers[0]]), list(both[labelers[1]])
        value = cohen_kappa(a, b)
        low, high = bootstrap_interval(
            lambda idx: cohen_kappa([a[i] for i in idx], [b[i] for i in idx]), len(a), drop_nan=True
        )
        measure, n = "Cohen's kappa", len(a)
    else:
        units = [[None if pd.isna(v) else v for v in row] for row in overlap.itertuples(index=False)]
        value = krippendorff_alpha(units)
        low, high = bootstrap_interval(
            lambda idx: krippendorff_alpha([units[i] for i in idx]), len(units), drop_nan=True
        )
        measure, n = "Krippendorff's alpha (nominal)", len(units)
    return {"measure": measure, "labelers": labelers, "items": n, "value": round(float(value), 4),
            "low": round(low, 4), "high": round(high, 4)}  # fmt: skip
