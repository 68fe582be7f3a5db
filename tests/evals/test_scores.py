"""Scores against scikit-learn and scipy on the same predictions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics

from rescue.evals.scores import classification, holm, labels_needed, mcnemar, paired_difference, wilson

CLASSES = ["negative", "neutral", "positive"]


@pytest.fixture
def predictions():
    rng = np.random.default_rng(3)
    y_true = list(rng.choice(CLASSES, size=400, p=[0.25, 0.1, 0.65]))
    y_pred = [t if rng.random() < 0.6 else str(rng.choice(CLASSES)) for t in y_true]
    return y_true, y_pred


def test_classification_matches_sklearn(predictions) -> None:
    y_true, y_pred = predictions
    s = classification(y_true, y_pred, CLASSES)
    assert s["accuracy"]["value"] == pytest.approx(metrics.accuracy_score(y_true, y_pred), abs=1e-4)
    assert s["macro_f1"]["value"] == pytest.approx(
        metrics.f1_score(y_true, y_pred, average="macro"), abs=1e-4
    )
    assert s["mcc"] == pytest.approx(metrics.matthews_corrcoef(y_true, y_pred), abs=1e-4)
    p, r, f, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=CLASSES, zero_division=0
    )
    for i, c in enumerate(CLASSES):
        assert s["per_class"][c]["precision"] == pytest.approx(p[i], abs=1e-4)
        assert s["per_class"][c]["recall"] == pytest.approx(r[i], abs=1e-4)
        assert s["per_class"][c]["f1"] == pytest.approx(f[i], abs=1e-4)
        assert s["per_class"][c]["support"] == support[i]
    assert s["confusion"]["matrix"] == metrics.confusion_matrix(y_true, y_pred, labels=CLASSES).tolist()
    low, high = s["macro_f1"]["low"], s["macro_f1"]["high"]
    assert low < s["macro_f1"]["value"] < high and high - low < 0.15


def test_missing_predictions_count_as_wrong(predictions) -> None:
    y_true, y_pred = predictions
    y_pred = [None if i % 10 == 0 else p for i, p in enumerate(y_pred)]
    s = classification(y_true, y_pred, CLASSES)
    as_wrong = ["<error>" if p is None else p for p in y_pred]
    assert s["accuracy"]["value"] == pytest.approx(metrics.accuracy_score(y_true, as_wrong), abs=1e-4)
    assert s["macro_f1"]["value"] == pytest.approx(
        metrics.f1_score(y_true, as_wrong, labels=CLASSES, average="macro", zero_division=0), abs=1e-4
    )
    assert s["mcc"] == pytest.approx(metrics.matthews_corrcoef(y_true, as_wrong), abs=1e-4)
    assert s["mcc_interval"]["low"] < s["mcc"] < s["mcc_interval"]["high"]


@pytest.mark.parametrize(("k", "n"), [(0, 10), (7, 10), (10, 10), (130, 400)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ci = stats.binomtest(k, n).proportion_ci(method="wilson")
    w = wilson(k, n)
    assert (w["low"], w["high"]) == (round(ci.low, 4), round(ci.high, 4))


def test_wilson_known_value() -> None:
    # Wilson (1927) / Newcombe (1998) example: 81 of 263 -> 0.2553 to 0.3662
    w = wilson(81, 263)
    assert w["low"] == pytest.approx(0.2553, abs=5e-4) and w["high"] == pytest.approx(0.3662, abs=5e-4)


def test_mcnemar_exact_and_chi2() -> None:
    a = [True] * 10 + [False] * 2 + [True] * 30
    b = [False] * 10 + [True] * 2 + [True] * 30
    r = mcnemar(a, b)
    assert r["method"] == "exact binomial" and (r["a_only"], r["b_only"]) == (10, 2)
    assert r["p_value"] == pytest.approx(stats.binomtest(10, 12, 0.5).pvalue, abs=1e-6)
    a2 = [True] * 40 + [False] * 20
    b2 = [False] * 40 + [True] * 20
    r2 = mcnemar(a2, b2)
    assert r2["method"].startswith("chi-square")
    assert r2["p_value"] == pytest.approx(stats.chi2.sf((abs(40 - 20) - 1) ** 2 / 60, 1), abs=1e-6)


def test_paired_difference_covers_the_truth() -> None:
    a = [True] * 70 + [False] * 30
    b = [True] * 50 + [False] * 50
    d = paired_difference(a, b)
    assert d["value"] == 0.2 and d["low"] < 0.2 < d["high"]


def test_sample_size_and_holm() -> None:
    assert labels_needed(0.05) == 1570  # 2·0.25·(1.96+0.8416)²/0.05²
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]


def test_extraction_scores_by_hand() -> None:
    from rescue.evals.scores import extraction

    truth = [
        {"drug": "Zomig", "dose": "5 mg"},
        {"drug": "Latuda", "dose": "40 mg"},
        {"drug": "Apri", "dose": None},
    ]
    pred = [{"drug": "Zomig", "dose": "5 mg"}, {"drug": "latuda", "dose": "40 mg", "extra": "x"}, None]
    r = extraction(truth, pred)
    # drug: tp 1 (Zomig), fp 1 (latuda), fn 2 (Latuda, Apri) -> p 0.5, r 1/3
    assert r["fields"]["drug"] == {"precision": 0.5, "recall": 0.3333, "f1": 0.4, "support": 3}
    # dose: tp 2, fp 0, fn 0 (None labels are not expected)
    assert r["fields"]["dose"]["f1"] == 1.0
    assert r["exact_record"]["value"] == pytest.approx(1 / 3, abs=1e-4)  # only the first record matches
    tp, fp, fn = 3, 1, 2
    micro = 2 * (tp / (tp + fp)) * (tp / (tp + fn)) / ((tp / (tp + fp)) + (tp / (tp + fn)))
    assert r["micro_f1"]["value"] == pytest.approx(micro, abs=1e-4)
