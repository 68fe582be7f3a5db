"""Agreement between labelers: the report, its measure and its interval (the coefficients: tests/test_stats.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from rescue.evalset.agreement import agreement
from rescue.stats import DRAWS, SEED, krippendorff_alpha


def labels(n: int = 120, third: int = 0, seed: int = 2) -> pd.DataFrame:
    """Two labelers agreeing on about 85% of ``n`` items, and a third who says "pos" on the first ``third``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        truth = str(rng.choice(["pos", "neg"]))
        rows.append({"item": f"i{i}", "labeler": "ana", "label": truth})
        rows.append(
            {
                "item": f"i{i}",
                "labeler": "ben",
                "label": truth if rng.random() < 0.85 else ("neg" if truth == "pos" else "pos"),
            }
        )
    rows += [{"item": f"i{i}", "labeler": "cem", "label": "pos"} for i in range(third)]
    return pd.DataFrame(rows)


def test_agreement_report_with_interval() -> None:
    frame = labels()
    report = agreement(frame)
    assert report["measure"] == "Cohen's kappa" and report["items"] == 120
    assert report["labelers"] == ["ana", "ben"]
    wide = frame.pivot_table(index="item", columns="labeler", values="label", aggfunc="last")
    assert report["value"] == round(cohen_kappa_score(wide["ana"], wide["ben"]), 4)
    assert report["low"] < report["value"] < report["high"]
    assert agreement(labels(third=60))["measure"].startswith("Krippendorff")
    assert agreement(frame.iloc[::2]) is None  # one labeler: nothing to agree on


def test_adjudicators_and_imports_are_not_labelers() -> None:
    frame = labels(n=30)
    ben = frame["labeler"] == "ben"
    assert agreement(frame.assign(labeler=frame["labeler"].where(~ben, "adjudicator:ben"))) is None
    assert agreement(frame.assign(labeler=frame["labeler"].where(~ben, "import:ben"))) is None


def test_interval_is_the_one_bootstrap() -> None:
    frame = labels(n=50, third=35, seed=3)  # cem labels 35 of the 50 items
    report = agreement(frame)
    assert report["measure"] == "Krippendorff's alpha (nominal)" and report["items"] == 50
    wide = frame.pivot_table(index="item", columns="labeler", values="label", aggfunc="last")
    units = [[None if pd.isna(v) else v for v in row] for row in wide.itertuples(index=False)]
    draws = np.random.default_rng(SEED).integers(0, len(units), size=(DRAWS, len(units)))
    boot = [krippendorff_alpha([units[i] for i in d]) for d in draws]
    low, high = np.percentile(boot, [2.5, 97.5])
    assert (report["low"], report["high"]) == (round(float(low), 4), round(float(high), 4))
    assert report["value"] == pytest.approx(krippendorff_alpha(units), abs=5e-5)
