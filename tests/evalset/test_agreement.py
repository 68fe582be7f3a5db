"""Agreement statistics against scikit-learn and Krippendorff's published example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from rescue.evalset.agreement import agreement, cohen_kappa, krippendorff_alpha


def test_cohen_kappa_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    a = list(rng.choice(["pos", "neg", "neu"], 300))
    b = [x if rng.random() < 0.7 else str(rng.choice(["pos", "neg", "neu"])) for x in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_krippendorff_alpha_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units, nominal alpha = 0.743
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
    c = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
    units = [[None if v is None else str(v) for v in unit] for unit in zip(a, b, c, d, strict=True)]
    assert krippendorff_alpha(units) == pytest.approx(0.743, abs=1e-3)


def test_agreement_report_with_interval() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for i in range(120):
        truth = str(rng.choice(["pos", "neg"]))
        rows.append({"item": f"i{i}", "labeler": "ana", "label": truth})
        rows.append(
            {
                "item": f"i{i}",
                "labeler": "ben",
                "label": truth if rng.random() < 0.85 else ("neg" if truth == "pos" else "pos"),
            }
        )
    report = agreement(pd.DataFrame(rows))
    assert report["measure"] == "Cohen's kappa" and report["items"] == 120
    assert report["low"] < report["value"] < report["high"]
    three = pd.DataFrame(rows + [{"item": f"i{i}", "labeler": "cem", "label": "pos"} for i in range(60)])
    assert agreement(three)["measure"].startswith("Krippendorff")
    assert agreement(pd.DataFrame(rows[::2])) is None  # one labeler: nothing to agree on
