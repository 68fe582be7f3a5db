"""Classification and extraction scores, each with a 95% interval.

Rates get Wilson intervals; macro-F1, MCC and micro-F1 get percentile bootstrap intervals over items. The
statistics themselves (Wilson, the bootstrap, McNemar, Holm, power) live in :mod:`rescue.stats`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..stats import SEED, bootstrap_interval, wilson


def confusion(y_true: list[str], y_pred: list[str], classes: list[str]) -> np.ndarray:
    """Rows are true labels, columns predictions (a prediction outside ``classes`` counts for no column)."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:
            matrix[index[t], index[p]] += 1
    return matrix


def _per_class(
    matrix: np.ndarray, n_true: np.ndarray, n_pred: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _prf(np.diag(matrix).astype(float), n_true, n_pred)


def _prf(tp: np.ndarray, n_true: np.ndarray, n_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 per class, elementwise (any shape; 0 where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_pred > 0, tp / n_pred, 0.0)
        recall = np.where(n_true > 0, tp / n_true, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1


def classification(
    y_true: list[str], y_pred: list[str | None], classes: list[str], seed: int = SEED
) -> dict[str, Any]:
    """Accuracy, per-class and macro P/R/F1, MCC and the confusion matrix, with 95% intervals.

    A missing prediction (``None``: an error or a timeout) is wrong and belongs to no class.
    """
    n = len(y_true)
    predicted = ["\0missing" if p is None else str(p) for p in y_pred]
    matrix = confusion(y_true, predicted, classes)
    n_true = np.array([sum(1 for t in y_true if t == c) for c in classes])
    n_pred = matrix.sum(axis=0)
    precision, recall, f1 = _per_class(matrix, n_true, n_pred)
    correct = sum(1 for t, p in zip(y_true, predicted, strict=True) if t == p)
    # bootstrap macro-F1 over items (predictions outside the classes are coded k: never a hit)
    index = {c: i for i, c in enumerate(classes)}
    yt = np.array([index.get(t, len(classes)) for t in y_true])
    yp = np.array([index.get(p, len(classes)) for p in predicted])
    macro = float(f1.mean()) if len(classes) else 0.0
    # code k stands for "no valid prediction": a label of its own for MCC, as in scikit-learn
    k1 = len(classes) + 1
    mcc = float(_mcc_stack(_matrices(yt, yp, np.arange(n), k1))[0]) if n else 0.0
    low = high = mcc_low = mcc_high = None
    if n:  # the same resamples for both (one seed), each a confusion matrix: all draws at once
        low, high = (
            round(v, 4)
            for v in bootstrap_interval(
                lambda d: _macro_f1_stack(_matrices(yt, yp, d, k1), len(classes)),
                n,
                vectorized=True,
                seed=seed,
            )
        )
        mcc_low, mcc_high = (
            round(v, 4)
            for v in bootstrap_interval(
                lambda d: _mcc_stack(_matrices(yt, yp, d, k1)), n, vectorized=True, seed=seed
            )
        )
    return {
        "n": n,
        "accuracy": wilson(correct, n),
        "macro_f1": {"value": round(macro, 4), "low": low, "high": high, "n": n},
        "mcc": round(float(mcc), 4),
        "mcc_interval": {"value": round(float(mcc), 4), "low": mcc_low, "high": mcc_high, "n": n},
        "per_class": {
            c: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(n_true[i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion": {"classes": classes, "matrix": matrix.tolist()},
    }


def _matrices(yt: np.ndarray, yp: np.ndarray, draws: np.ndarray, k1: int) -> np.ndarray:
    """The ``(draws, k1, k1)`` confusion matrices (rows true, columns predicted; codes ``0..k1-1``) of the
    resamples whose item indices are the rows of ``draws``."""
    d = np.atleast_2d(draws)
    codes = yt[d] * k1 + yp[d] + (np.arange(len(d)) * k1 * k1)[:, None]
    return np.bincount(codes.ravel(), minlength=len(d) * k1 * k1).reshape(len(d), k1, k1)


def _macro_f1_stack(m: np.ndarray, k: int) -> np.ndarray:
    """Macro-F1 over the first ``k`` classes of each matrix of a stack (code ``k``: no valid class)."""
    tp = np.diagonal(m, axis1=1, axis2=2)[:, :k].astype(float)
    n_true = m.sum(axis=2)[:, :k].astype(float)
    n_pred = m.sum(axis=1)[:, :k].astype(float)
    return _prf(tp, n_true, n_pred)[2].mean(axis=1)


def _mcc_stack(m: np.ndarray) -> np.ndarray:
    """Gorodkin's multiclass MCC (as in scikit-learn) of each matrix of a stack: the point estimate is a stack of
    one, the bootstrap a stack of its resamples."""
    t = m.sum(axis=2).astype(float)
    p = m.sum(axis=1).astype(float)
    c = np.trace(m, axis1=1, axis2=2).astype(float)
    s = m.sum(axis=(1, 2)).astype(float)
    tp = np.einsum("ij,ij->i", t, p)
    denominator = np.sqrt((s * s - np.einsum("ij,ij->i", p, p)) * (s * s - np.einsum("ij,ij->i", t, t)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, (c * s - tp) / np.where(denominator > 0, denominator, 1.0), 0.0)


def extraction(
    y_true: list[dict[str, Any]], y_pred: list[dict[str, Any] | None], seed: int = SEED
) -> dict[str, Any]:
    """Structured extraction: per-field precision/recall/F1, micro-F1 with a bootstrap interval, exact-record rate.

    A field counts as a true positive when the prediction holds the labeled (non-empty) value; a predicted
    value that is wrong or not in the label is a false positive; a labeled value not predicted is a false
    negative. A missing prediction (an error) predicts nothing. Values compare as stripped strings.
    """

    def norm(v: Any) -> str | None:
        if v is None:
            return None
        text = str(v).strip()
        return text or None

    fields = sorted({f for rec in y_true for f in rec})
    n = len(y_true)
    counts = np.zeros((n, len(fields), 3), dtype=int)  # tp, fp, fn per item and field
    exact = 0
    for i, (truth, pred) in enumerate(zip(y_true, y_pred, strict=True)):
        pred = pred if isinstance(pred, dict) else {}
        same = True
        for j, f in enumerate(fields):
            t, p = norm(truth.get(f)), norm(pred.get(f))
            if t is not None and p == t:
                counts[i, j, 0] = 1
            else:
                if p is not None:
                    counts[i, j, 1] = 1
                if t is not None:
                    counts[i, j, 2] = 1
            same = same and p == t
        exact += same

    def f1(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        return (
            precision,
            recall,
            (2 * precision * recall / (precision + recall) if precision + recall else 0.0),
        )

    per_field = {}
    for j, f in enumerate(fields):
        tp, fp, fn = counts[:, j, :].sum(axis=0)
        p, r, score = f1(tp, fp, fn)
        per_field[f] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(score, 4),
            "support": int(tp + fn),
        }
    micro = f1(*counts.sum(axis=(0, 1)))[2] if n else 0.0
    low = high = None
    if n:
        low, high = (
            round(v, 4)
            for v in bootstrap_interval(lambda idx: f1(*counts[idx].sum(axis=(0, 1)))[2], n, seed=seed)
        )
    return {
        "fields": per_field,
        "micro_f1": {"value": round(micro, 4), "low": low, "high": high, "n": n},
        "exact_record": wilson(exact, n),
    }
