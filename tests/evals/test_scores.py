"""Classification and extraction scores against scikit-learn and by hand on the same predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from rescue.evals.scores import classification, confusion, extraction
from rescue.stats import DRAWS, SEED, wilson

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


def todays_interval(statistic, n: int) -> tuple[float, float]:
    """The bootstrap the package hand-rolled before rescue.stats: the numbers must not move."""
    draws = np.random.default_rng(SEED).integers(0, n, size=(DRAWS, n))
    low, high = np.percentile([statistic(d) for d in draws], [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def test_classification_intervals_are_the_same_draws(predictions) -> None:
    y_true, y_pred = predictions
    y_pred = [None if i % 17 == 0 else p for i, p in enumerate(y_pred)]
    s = classification(y_true, y_pred, CLASSES)
    yt, yp = np.array(y_true), np.array(["<error>" if p is None else p for p in y_pred])
    with np.errstate(all="ignore"):
        macro = todays_interval(
            lambda d: metrics.f1_score(yt[d], yp[d], labels=CLASSES, average="macro", zero_division=0),
            len(yt),
        )
        mcc = todays_interval(lambda d: metrics.matthews_corrcoef(yt[d], yp[d]), len(yt))
    assert (s["macro_f1"]["low"], s["macro_f1"]["high"]) == pytest.approx(macro, abs=1e-4)
    assert (s["mcc_interval"]["low"], s["mcc_interval"]["high"]) == pytest.approx(mcc, abs=1e-4)
    assert s["accuracy"] == wilson(sum(t == p for t, p in zip(y_true, y_pred, strict=True)), len(y_true))
    assert classification(y_true, y_pred, CLASSES, seed=1)["macro_f1"] != s["macro_f1"]


def test_confusion_ignores_labels_outside_the_classes() -> None:
    assert confusion(["a", "b", "a"], ["a", "x", "b"], ["a", "b"]).tolist() == [[1, 1], [0, 0]]


def test_extraction_scores_by_hand() -> None:
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
    assert r["micro_f1"]["low"] <= r["micro_f1"]["value"] <= r["micro_f1"]["high"]
