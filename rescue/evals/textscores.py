"""Scores for generative and RAG PoCs: free-text answers, retrieval, and LLM judges checked against people.

Reference-based scores use the well-kept packages (rouge-score for ROUGE-L, sacrebleu for chrF); exact match and
token F1 follow the SQuAD evaluation script. Every number carries a 95% interval from :mod:`rescue.stats`:
rates get Wilson intervals, means over items the percentile bootstrap (``DRAWS`` draws, ``SEED``). A
judge's agreement with people is Cohen's kappa with a bootstrap interval; combining a judge's pass rate with
a small human-labelled set (prediction-powered inference) is :func:`rescue.stats.ppi_mean`.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from functools import cache
from typing import Any

import numpy as np
from scipy import stats

from ..stats import SEED, bootstrap_interval, bootstrap_mean, cohen_kappa, paired_difference, wilson
from .scores import confusion

REFERENCE_METRICS = ("exact_match", "token_f1", "rouge_l", "chrf")
RETRIEVAL_METRICS = ("hit_rate", "mrr", "ndcg", "recall", "precision")

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def _empty(n: int = 0) -> dict[str, Any]:
    return {"value": None, "low": None, "high": None, "n": n}


# --- free text against a reference -------------------------------------------------------------------------


def normalise_answer(text: str) -> str:
    """SQuAD's answer normalisation: lowercase, drop punctuation and the articles a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 on normalised tokens (1.0 when both are empty, 0.0 when only one is)."""
    pred, ref = normalise_answer(prediction).split(), normalise_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@cache
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


@cache
def _chrf() -> Any:
    from sacrebleu.metrics import CHRF

    return CHRF()


def _item_scores(prediction: str | None, reference: str) -> dict[str, float]:
    if prediction is None:
        return dict.fromkeys(REFERENCE_METRICS, 0.0)
    return {
        "exact_match": float(normalise_answer(prediction) == normalise_answer(reference)),
        "token_f1": token_f1(prediction, reference),
        "rouge_l": float(_rouge().score(reference, prediction)["rougeL"].fmeasure),
        "chrf": float(_chrf().sentence_score(prediction, [reference]).score) / 100,
    }


def reference_scores(
    predictions: list[str | None], references: list[str], seed: int = SEED
) -> dict[str, Any]:
    """Exact match, token F1, ROUGE-L and chrF of free-text answers against references, with 95% intervals.

    Exact match is equality after :func:`normalise_answer` (Wilson interval); token F1 is SQuAD's; ROUGE-L is
    rouge-score's F-measure with the Porter stemmer; chrF is sacrebleu's sentence chrF (defaults: character
    6-grams, beta 2, case-sensitive) on a 0..1 scale. The three continuous scores get percentile bootstrap
    intervals of the mean over items. A missing prediction (``None``: an error or a timeout) scores 0 on every
    metric and is counted in ``missing``. ``per_item`` keeps each item's scores (rounded to 4 places) for
    paired comparisons (:func:`paired_scores`).

    Note rouge-score's tokenizer keeps only ``[a-z0-9]`` runs: text in non-Latin scripts scores 0.
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    n = len(references)
    items = [_item_scores(p, r) for p, r in zip(predictions, references, strict=True)]
    per_item = {m: [round(item[m], 4) for item in items] for m in REFERENCE_METRICS}
    exact = int(sum(item["exact_match"] for item in items))
    result: dict[str, Any] = {
        "n": n,
        "missing": sum(1 for p in predictions if p is None),
        "per_item": per_item,
        "exact_match": wilson(exact, n),
    }
    for metric in ("token_f1", "rouge_l", "chrf"):
        result[metric] = bootstrap_mean([item[metric] for item in items], seed=seed)
    return result


def paired_scores(a: list[float], b: list[float], seed: int = SEED) -> dict[str, Any]:
    """Mean of A minus B over the same items: paired bootstrap 95% interval and Wilcoxon signed-rank p-value.

    The Wilcoxon test splits zero differences between the ranks (``zero_method="zsplit"``); when every
    difference is zero there is nothing to test and the p-value is 1.0.
    """
    if len(a) != len(b):
        raise ValueError(f"{len(a)} scores against {len(b)}: pairs must match item for item")
    n = len(a)
    if n == 0:
        return {"n": 0, "value": None, "low": None, "high": None, "p_value": None}
    difference = paired_difference(a, b, seed=seed)
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    # nothing to test when every difference is zero
    p_value = 1.0 if np.all(diff == 0) else float(stats.wilcoxon(diff, zero_method="zsplit").pvalue)
    return {
        "n": n,
        "value": difference["value"],
        "low": difference["low"],
        "high": difference["high"],
        "p_value": round(p_value, 6),
    }


# --- retrieval ----------------------------------------------------------------------------------------------


def _retrieval_item(ranked: list[str], gold: set[str], k: int) -> dict[str, float]:
    top = list(dict.fromkeys(ranked))[:k]  # a document retrieved twice counts once, at its first rank
    hits = [i for i, doc in enumerate(top) if doc in gold]
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(gold))))
    return {
        "hit_rate": float(bool(hits)),
        "mrr": 1 / (hits[0] + 1) if hits else 0.0,
        "ndcg": sum(1 / math.log2(i + 2) for i in hits) / ideal,
        "recall": len(hits) / min(k, len(gold)),
        "precision": len(hits) / k,
    }


def retrieval(
    retrieved: list[list[str] | None],
    relevant: list[set[str] | list[str]],
    k: int = 5,
    seed: int = SEED,
) -> dict[str, Any]:
    """Retrieval against gold relevant ids (binary relevance), at cut-off ``k``, with 95% intervals.

    - ``hit_rate``: share of items with at least one relevant document in the top k (Wilson interval);
    - ``mrr``: reciprocal rank of the first relevant document within the top k, 0 when there is none;
    - ``ndcg``: nDCG@k with binary gains, the ideal DCG taken over min(k, |relevant|) relevant documents;
    - ``recall``: context recall, |top k ∩ relevant| / min(k, |relevant|) — recall capped at k, as in BEIR, so a
      perfect top k scores 1 even when more than k documents are relevant;
    - ``precision``: |top k ∩ relevant| / k.

    The continuous ones get percentile bootstrap intervals of the mean. Items whose gold set is empty cannot be
    scored: they are left out and counted in ``n_without_relevant``. A missing retrieval (``None``: an error) or
    an empty one scores 0 and is counted in ``empty_retrievals`` (over the scored items). Ids compare as
    strings; a document retrieved twice counts once. ``per_item`` holds the scored items' values and their
    positions in the input (``index``) for paired comparisons.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if len(retrieved) != len(relevant):
        raise ValueError(f"{len(retrieved)} retrievals for {len(relevant)} gold sets")
    index: list[int] = []
    items: list[dict[str, float]] = []
    without = empty = 0
    for i, (ranked, gold) in enumerate(zip(retrieved, relevant, strict=True)):
        gold_ids = {str(g) for g in gold}
        if not gold_ids:
            without += 1
            continue
        if not ranked:
            empty += 1
        index.append(i)
        items.append(_retrieval_item([str(d) for d in ranked or []], gold_ids, k))
    n = len(items)
    result: dict[str, Any] = {
        "k": k,
        "n": n,
        "n_without_relevant": without,
        "empty_retrievals": empty,
        "per_item": {"index": index, **{m: [round(item[m], 4) for item in items] for m in RETRIEVAL_METRICS}},
        "hit_rate": wilson(int(sum(item["hit_rate"] for item in items)), n),
    }
    for metric in ("mrr", "ndcg", "recall", "precision"):
        result[metric] = bootstrap_mean([item[metric] for item in items], seed=seed)
    return result


# --- a judge's verdicts: agreement with people -------------------------------------------------------------


def judge_agreement(
    human: list[str], judge: list[str], positive: str = "pass", seed: int = SEED
) -> dict[str, Any]:
    """How well a judge agrees with people on the same items.

    Cohen's kappa (:func:`rescue.stats.cohen_kappa`) with a percentile bootstrap 95% interval; the
    confusion matrix (rows people, columns the judge); the judge's sensitivity (people said ``positive``, so did
    the judge) and specificity (people said anything else, so did the judge), and raw agreement, with Wilson
    intervals.
    """
    if len(human) != len(judge):
        raise ValueError(f"{len(human)} human labels against {len(judge)} judge labels")
    n = len(human)
    human = [str(h) for h in human]
    judge = [str(j) for j in judge]
    labels = sorted(set(human) | set(judge))
    kappa = _empty()
    if n:
        value = cohen_kappa(human, judge)
        low, high = bootstrap_interval(
            lambda idx: cohen_kappa([human[i] for i in idx], [judge[i] for i in idx]), n, seed=seed
        )
        kappa = {"value": round(value, 4), "low": round(low, 4), "high": round(high, 4), "n": n}
    pairs = list(zip(human, judge, strict=True))
    positives = sum(1 for h, _ in pairs if h == positive)
    return {
        "n": n,
        "positive": positive,
        "kappa": kappa,
        "confusion": {"labels": labels, "matrix": confusion(human, judge, labels).tolist()},
        "sensitivity": wilson(sum(1 for h, j in pairs if h == positive and j == positive), positives),
        "specificity": wilson(sum(1 for h, j in pairs if h != positive and j != positive), n - positives),
        "agreement": wilson(sum(1 for h, j in pairs if h == j), n),
    }
