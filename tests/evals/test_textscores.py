"""Free-text, retrieval and judge scores, checked against the packages that define them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rouge_score import rouge_scorer
from sacrebleu.metrics import CHRF
from scipy import stats
from sklearn.metrics import cohen_kappa_score, ndcg_score

from rescue.evals.textscores import (
    judge_agreement,
    normalise_answer,
    paired_scores,
    reference_scores,
    retrieval,
)
from rescue.stats import DRAWS, SEED, wilson

PAIRS = [
    ("The Denver Broncos won", "Denver Broncos"),
    ("Patients report dizziness and nausea.", "Most patients report nausea and some dizziness"),
    ("The cats are running", "the cat runs"),
    ("Metformin helped my blood sugar", "metformin lowered blood sugar"),
    ("no idea", "Headaches were the most common side effect"),
]


# --- free text ----------------------------------------------------------------------------------------------


def test_normalise_answer_is_squads():
    assert normalise_answer("The  Cat's, hat!") == "cats hat"
    assert normalise_answer("An apple a day") == "apple day"
    assert normalise_answer("  Theme  park ") == "theme park"  # "the" only as a word
    assert normalise_answer("") == ""


def test_reference_scores_match_the_packages():
    predictions = [p for p, _ in PAIRS]
    references = [r for _, r in PAIRS]
    result = reference_scores(predictions, references)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    chrf = CHRF()
    for i, (p, r) in enumerate(PAIRS):
        assert result["per_item"]["rouge_l"][i] == round(scorer.score(r, p)["rougeL"].fmeasure, 4)
        assert result["per_item"]["chrf"][i] == round(chrf.sentence_score(p, [r]).score / 100, 4)
    assert result["n"] == 5 and result["missing"] == 0
    # the stemmer makes cats/cat and running/runs the same word: LCS 3 of 4 and 3 tokens
    assert result["per_item"]["rouge_l"][2] == round(2 * 1 * 0.75 / 1.75, 4)
    assert result["rouge_l"]["value"] == round(float(np.mean(result["per_item"]["rouge_l"])), 4)


def test_token_f1_and_exact_match_by_hand():
    result = reference_scores(
        ["The Denver Broncos won", "Denver Broncos!", "broncos broncos"],
        ["Denver Broncos", "the denver broncos", "Denver Broncos"],
    )
    # [denver broncos won] vs [denver broncos]: P 2/3, R 1, F1 0.8 (SQuAD's own kind of example)
    # [broncos broncos] vs [denver broncos]: one common token, P 1/2, R 1/2
    assert result["per_item"]["token_f1"] == [0.8, 1.0, 0.5]
    assert result["per_item"]["exact_match"] == [0.0, 1.0, 0.0]
    assert result["exact_match"] == wilson(1, 3)
    assert result["token_f1"]["value"] == round((0.8 + 1 + 0.5) / 3, 4)
    low, high = result["token_f1"]["low"], result["token_f1"]["high"]
    assert 0.5 <= low <= result["token_f1"]["value"] <= high <= 1.0


def test_missing_predictions_score_zero():
    result = reference_scores([None, "Denver Broncos", None], ["Denver Broncos"] * 3)
    assert result["missing"] == 2
    for metric in ("exact_match", "token_f1", "rouge_l", "chrf"):
        assert result["per_item"][metric][0] == 0.0 and result["per_item"][metric][2] == 0.0
        assert result["per_item"][metric][1] == 1.0
    assert result["exact_match"]["value"] == round(1 / 3, 4)


def test_empty_inputs_do_not_crash():
    result = reference_scores([], [])
    assert result["n"] == 0 and result["missing"] == 0
    for metric in ("exact_match", "token_f1", "rouge_l", "chrf"):
        assert result[metric]["value"] is None and result["per_item"][metric] == []
    assert paired_scores([], []) == {"n": 0, "value": None, "low": None, "high": None, "p_value": None}
    empty = retrieval([], [])
    assert empty["n"] == 0 and empty["hit_rate"]["value"] is None and empty["ndcg"]["value"] is None
    agreement = judge_agreement([], [])
    assert agreement["n"] == 0 and agreement["kappa"]["value"] is None
    assert agreement["sensitivity"]["value"] is None


def test_lengths_must_match():
    with pytest.raises(ValueError):
        reference_scores(["a"], [])
    with pytest.raises(ValueError):
        paired_scores([1.0], [1.0, 0.0])
    with pytest.raises(ValueError):
        retrieval([["a"]], [])


def test_same_seed_same_intervals():
    predictions = [p for p, _ in PAIRS] * 4
    references = [r for _, r in PAIRS] * 4
    assert reference_scores(predictions, references, seed=3) == reference_scores(
        predictions, references, seed=3
    )
    same = reference_scores(predictions, references, seed=3)
    other = reference_scores(predictions, references, seed=4)
    assert other["chrf"]["value"] == same["chrf"]["value"] and other["per_item"] == same["per_item"]
    assert other != same  # only the bootstrap draws change
    assert retrieval([["a", "b"], ["c"]] * 5, [{"b"}, {"d"}] * 5, seed=3) == retrieval(
        [["a", "b"], ["c"]] * 5, [{"b"}, {"d"}] * 5, seed=3
    )


def test_paired_scores():
    a = [0.9, 0.8, 0.7, 0.95, 0.6, 0.85, 0.75, 0.9]
    b = [0.7, 0.8, 0.5, 0.9, 0.65, 0.6, 0.7, 0.7]
    result = paired_scores(a, b)
    diff = np.subtract(a, b)
    assert result["n"] == 8
    assert result["value"] == round(float(diff.mean()), 4)
    assert result["low"] <= result["value"] <= result["high"]
    assert result["p_value"] == round(float(stats.wilcoxon(diff, zero_method="zsplit").pvalue), 6)
    assert paired_scores(a, b) == result
    same = paired_scores(a, a)
    assert same["p_value"] == 1.0 and same["value"] == 0.0 and same["low"] == same["high"] == 0.0


# --- retrieval ----------------------------------------------------------------------------------------------


def test_retrieval_by_hand():
    retrieved = [["d3", "d1", "d2"], ["d9", "d8"], None, ["x"], ["a", "b"], []]
    relevant = [{"d1", "d2"}, {"d7"}, {"d1"}, set(), ["b"], ["q"]]
    result = retrieval(retrieved, relevant, k=2)
    assert result["k"] == 2 and result["n"] == 5
    assert result["n_without_relevant"] == 1 and result["empty_retrievals"] == 2
    items = result["per_item"]
    assert items["index"] == [0, 1, 2, 4, 5]
    assert items["hit_rate"] == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert items["mrr"] == [0.5, 0.0, 0.0, 0.5, 0.0]
    g = 1 / math.log2(3)
    assert items["ndcg"] == [round(g / (1 + g), 4), 0.0, 0.0, round(g, 4), 0.0]
    assert items["recall"] == [0.5, 0.0, 0.0, 1.0, 0.0]  # capped: d2 is third, outside the top 2
    assert items["precision"] == [0.5, 0.0, 0.0, 0.5, 0.0]
    assert result["hit_rate"] == wilson(2, 5)
    assert result["mrr"]["value"] == 0.2


def test_retrieval_counts_a_repeated_document_once():
    result = retrieval([["a", "a", "b"]], [{"b"}], k=2)
    assert result["per_item"]["mrr"] == [0.5] and result["per_item"]["precision"] == [0.5]


def test_recall_is_capped_at_k():
    result = retrieval([["a", "b"]], [{"a", "b", "c", "d"}], k=2)
    assert result["per_item"]["recall"] == [1.0] and result["per_item"]["ndcg"] == [1.0]


def test_ndcg_matches_sklearn():
    rng = np.random.default_rng(5)
    docs = [f"d{i}" for i in range(12)]
    for k in (1, 3, 5, 10):
        for _ in range(10):
            ranked = list(rng.permutation(docs)[: rng.integers(k, len(docs) + 1)])
            gold = set(rng.choice(docs, size=rng.integers(1, 6), replace=False))
            ours = retrieval([ranked], [gold], k=k)["per_item"]["ndcg"][0]
            y_true = np.array([[float(d in gold) for d in docs]])
            # the retrieved list scores by rank; the rest below it (at least k are retrieved, so ties stay out)
            y_score = np.array([[len(docs) - ranked.index(d) if d in ranked else 0.0 for d in docs]])
            assert ours == pytest.approx(ndcg_score(y_true, y_score, k=k), abs=1e-4)


# --- agreement with people ----------------------------------------------------------------------------------


def test_judge_agreement():
    human = ["pass", "pass", "fail", "fail", "pass", "fail", "pass", "pass", "fail", "pass"]
    judge = ["pass", "fail", "fail", "pass", "pass", "fail", "pass", "pass", "fail", "pass"]
    result = judge_agreement(human, judge)
    assert result["n"] == 10
    assert result["kappa"]["value"] == round(cohen_kappa_score(human, judge), 4)
    assert result["kappa"]["low"] <= result["kappa"]["value"] <= result["kappa"]["high"]
    assert result["confusion"] == {"labels": ["fail", "pass"], "matrix": [[3, 1], [1, 5]]}
    assert result["sensitivity"] == wilson(5, 6)
    assert result["specificity"] == wilson(3, 4)
    assert result["agreement"] == wilson(8, 10)
    assert judge_agreement(human, judge) == result


def test_judge_agreement_matches_sklearn_on_more_labels():
    rng = np.random.default_rng(4)
    human = list(rng.choice(["1", "2", "3", "4", "5"], size=60))
    judge = [h if rng.random() < 0.6 else str(rng.integers(1, 6)) for h in human]
    result = judge_agreement(human, judge, positive="5")
    assert result["kappa"]["value"] == round(cohen_kappa_score(human, judge), 4)
    matrix = np.array(result["confusion"]["matrix"])
    assert matrix.sum() == 60 and matrix.trace() == sum(h == j for h, j in zip(human, judge, strict=True))


def test_judge_kappa_interval_is_the_one_bootstrap():
    rng = np.random.default_rng(5)
    human = np.array(rng.choice(["pass", "fail"], size=40))
    judge = np.where(rng.random(40) < 0.8, human, rng.choice(["pass", "fail"], size=40))
    draws = np.random.default_rng(SEED).integers(0, 40, size=(DRAWS, 40))
    low, high = np.percentile([cohen_kappa_score(human[d], judge[d]) for d in draws], [2.5, 97.5])
    kappa = judge_agreement(list(human), list(judge))["kappa"]
    assert (kappa["low"], kappa["high"]) == (round(float(low), 4), round(float(high), 4))
    assert judge_agreement(list(human), list(judge), seed=1)["kappa"] != kappa
