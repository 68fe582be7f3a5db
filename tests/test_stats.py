"""rescue.stats against the libraries it wraps, published worked examples, and the draws it replaced."""

from __future__ import annotations

import math
import warnings

import krippendorff
import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from rescue import stats
from rescue.stats import (
    DRAWS,
    SEED,
    bootstrap_distribution,
    bootstrap_interval,
    bootstrap_mean,
    cohen_kappa,
    detectable_difference,
    half_width,
    holm,
    items_for_half_width,
    krippendorff_alpha,
    labels_needed,
    mcnemar,
    naive_intervals,
    normal_interval,
    paired_difference,
    percentile_with_interval,
    ppi_lambda,
    ppi_mean,
    rate_or_mean,
    wilson,
)


def test_one_seed_and_draw_count() -> None:
    assert (SEED, DRAWS) == (20261125, 2000)


# --- the bootstrap: the draws the package made before, and scipy's --------------------------------------------


def todays_draws(n: int, seed: int = SEED) -> np.ndarray:
    """The indices the package drew by hand before rescue.stats (and still must)."""
    return np.random.default_rng(seed).integers(0, n, size=(DRAWS, n))


@pytest.mark.parametrize("n", [1, 2, 7, 150])
def test_bootstrap_distribution_is_todays_loop_bit_for_bit(n: int) -> None:
    x = np.random.default_rng(n).normal(size=n)
    draws = todays_draws(n)
    by_hand = np.array([float(np.median(x[d]) + x[d].max()) for d in draws])
    ours = bootstrap_distribution(lambda idx: np.median(x[idx]) + x[idx].max(), n)
    assert ours.shape == (DRAWS,) and np.array_equal(ours, by_hand)
    low, high = np.percentile(by_hand, [2.5, 97.5])
    assert bootstrap_interval(lambda idx: np.median(x[idx]) + x[idx].max(), n) == (low, high)


def test_bootstrap_interval_reads_exactly_2_5_and_97_5() -> None:
    # a heavy-tailed statistic, where a percentile of 2.500000000000002 (100·(1 − 0.95)/2) reads another value
    x = np.random.default_rng(30).normal(size=30)
    boot = np.exp(20 * x[todays_draws(30)].mean(axis=1))
    assert np.percentile(boot, 100 * (1 - 0.95) / 2) != np.percentile(boot, 2.5)
    ours = bootstrap_interval(lambda idx: np.exp(20 * x[idx].mean(axis=-1)), 30, vectorized=True)
    assert ours == tuple(np.percentile(boot, [2.5, 97.5]))


@pytest.mark.parametrize("n", [1, 3, 80])
def test_vectorised_bootstrap_is_todays_loop_bit_for_bit(n: int) -> None:
    x = np.random.default_rng(n).exponential(size=n)
    by_hand = x[todays_draws(n)].mean(axis=1)
    ours = bootstrap_distribution(lambda idx: x[idx].mean(axis=-1), n, vectorized=True)
    assert np.array_equal(ours, by_hand)
    assert np.array_equal(ours, bootstrap_distribution(lambda idx: x[idx].mean(), n))  # the same either way


def test_bootstrap_is_scipys() -> None:
    x = np.random.default_rng(5).normal(size=60)
    res = scipy_stats.bootstrap(
        (x,), np.mean, n_resamples=DRAWS, method="percentile", rng=np.random.default_rng(SEED)
    )
    ours = bootstrap_distribution(lambda idx: x[idx].mean(axis=-1), len(x), vectorized=True)
    assert np.array_equal(ours, res.bootstrap_distribution)
    low, high = bootstrap_interval(lambda idx: x[idx].mean(axis=-1), len(x), vectorized=True)
    # scipy reads its percentiles with scipy.stats.quantile: equal to numpy's but for the last bits
    assert (low, high) == pytest.approx(
        (res.confidence_interval.low, res.confidence_interval.high), rel=1e-12, abs=1e-14
    )


def test_bootstrap_seed_draws_and_confidence() -> None:
    x = np.random.default_rng(6).normal(size=40)

    def mean(idx: np.ndarray) -> float:
        return float(x[idx].mean())

    other = np.array([mean(d) for d in todays_draws(40, seed=3)])
    assert np.array_equal(bootstrap_distribution(mean, 40, seed=3), other)
    assert len(bootstrap_distribution(mean, 40, draws=50)) == 50
    assert bootstrap_interval(mean, 40, confidence=0.9) == tuple(
        np.percentile(bootstrap_distribution(mean, 40), [5, 95])
    )
    with pytest.raises(ValueError, match="no items"):
        bootstrap_distribution(mean, 0)


def test_bootstrap_nan_draws() -> None:
    x = np.random.default_rng(7).normal(size=30)

    def sometimes_undefined(idx: np.ndarray) -> float:
        return float("nan") if idx[0] % 3 == 0 else float(x[idx].mean())

    boot = np.array([sometimes_undefined(d) for d in todays_draws(30)])
    assert np.isnan(boot).any() and not np.isnan(boot).all()
    finite = boot[~np.isnan(boot)]
    assert bootstrap_interval(sometimes_undefined, 30, drop_nan=True) == tuple(
        np.percentile(finite, [2.5, 97.5])
    )
    low, high = bootstrap_interval(sometimes_undefined, 30)
    assert math.isnan(low) and math.isnan(high)
    never = bootstrap_interval(lambda idx: float("nan"), 30, drop_nan=True)
    assert math.isnan(never[0]) and math.isnan(never[1])


def test_bootstrap_mean_and_paired_difference() -> None:
    values = list(np.random.default_rng(8).normal(0.3, 1.0, 120))
    boot = np.asarray(values)[todays_draws(120)].mean(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    assert bootstrap_mean(values) == {
        "value": round(float(np.mean(values)), 4),
        "low": round(float(low), 4),
        "high": round(float(high), 4),
        "n": 120,
    }
    assert bootstrap_mean([]) == {"value": None, "low": None, "high": None, "n": 0}
    assert bootstrap_mean([2.5]) == {"value": 2.5, "low": 2.5, "high": 2.5, "n": 1}
    a = [True] * 70 + [False] * 30
    b = [True] * 50 + [False] * 50
    d = paired_difference(a, b)
    assert d["value"] == 0.2 and d["low"] < 0.2 < d["high"]
    assert d == bootstrap_mean(np.array(a, dtype=float) - np.array(b, dtype=float))
    with pytest.raises(ValueError, match="item for item"):
        paired_difference([True], [True, False])


def test_percentile_with_interval() -> None:
    latencies = list(np.random.default_rng(9).lognormal(5, 1, 90))
    boot = np.percentile(np.asarray(latencies)[todays_draws(90)], 95, axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    result = percentile_with_interval(latencies, 95)
    assert result == {
        "value": round(float(np.percentile(latencies, 95)), 3),
        "low": round(float(low), 3),
        "high": round(float(high), 3),
        "n": 90,
    }
    assert percentile_with_interval([], 50)["value"] is None


# --- rates and tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(0, 10), (7, 10), (10, 10), (130, 400)])
def test_wilson_matches_scipy_and_statsmodels(k: int, n: int) -> None:
    ci = scipy_stats.binomtest(k, n).proportion_ci(method="wilson")
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    w = wilson(k, n)
    assert (w["low"], w["high"]) == (round(ci.low, 4), round(ci.high, 4))
    assert (w["low"], w["high"]) == pytest.approx((low, high), abs=5e-5)
    assert w["value"] == round(k / n, 4) and w["n"] == n


def test_wilson_known_value() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, method 3 (Wilson): 81 of 263 -> 0.2553 to 0.3662
    w = wilson(81, 263)
    assert w["low"] == pytest.approx(0.2553, abs=5e-4) and w["high"] == pytest.approx(0.3662, abs=5e-4)
    assert wilson(0, 0) == {"value": None, "low": None, "high": None, "n": 0}


def test_mcnemar_published_example() -> None:
    # Agresti, An Introduction to Categorical Data Analysis: presidential approval of 1600 people in two
    # surveys, approve/approve 794, approve/disapprove 150, disapprove/approve 86, disapprove/disapprove 570.
    # McNemar's statistic (no continuity correction) is 17.36.
    table = [[794, 150], [86, 570]]
    assert sm_mcnemar(table, exact=False, correction=False).statistic == pytest.approx(17.36, abs=5e-3)
    first = [True] * (794 + 150) + [False] * (86 + 570)
    second = [True] * 794 + [False] * 150 + [True] * 86 + [False] * 570
    r = mcnemar(first, second)
    assert r["method"] == "chi-square with continuity correction" and (r["a_only"], r["b_only"]) == (150, 86)
    assert r["p_value"] == round(scipy_stats.chi2.sf((abs(150 - 86) - 1) ** 2 / 236, 1), 6)
    assert r["p_value"] == round(sm_mcnemar(table, exact=False, correction=True).pvalue, 6)
    assert r["p_value"] < 0.001


def test_mcnemar_exact_below_25_discordant_pairs() -> None:
    a = [True] * 10 + [False] * 2 + [True] * 30
    b = [False] * 10 + [True] * 2 + [True] * 30
    r = mcnemar(a, b)
    assert r["method"] == "exact binomial" and (r["a_only"], r["b_only"]) == (10, 2)
    assert r["p_value"] == round(scipy_stats.binomtest(10, 12, 0.5).pvalue, 6)
    # 24 discordant pairs: still exact; 25: the chi-square
    assert mcnemar([True] * 14 + [False] * 10, [False] * 14 + [True] * 10)["method"] == "exact binomial"
    r25 = mcnemar([True] * 15 + [False] * 10, [False] * 15 + [True] * 10)
    assert r25["method"].startswith("chi-square")
    assert r25["p_value"] == round(scipy_stats.chi2.sf((15 - 10 - 1) ** 2 / 25, 1), 6)
    assert mcnemar([True, False], [True, False]) == {
        "a_only": 0,
        "b_only": 0,
        "p_value": 1.0,
        "method": "no discordant pairs",
    }
    with pytest.raises(ValueError):
        mcnemar([True], [True, False])


def test_holm_matches_statsmodels() -> None:
    assert holm([0.01, 0.04, 0.03]) == [
        0.03,
        0.06,
        0.06,
    ]  # by hand: 3·0.01, max(2·0.03, 0.03), max(0.04, 0.06)
    # (statsmodels' Holm runs gc.collect() on every call: a handful of cases, not hundreds)
    rng = np.random.default_rng(10)
    cases = [list(rng.random(m) ** 3) for m in (1, 4, 11)] + [[0.02, 0.02, 0.5, 0.001], [0.3, 0.01, 0.3]]
    for p in cases:
        assert holm(p) == [round(float(v), 6) for v in multipletests(p, method="holm")[1]]
    assert holm([0.5, 0.9]) == [1.0, 1.0] and holm([]) == []


# --- power and sample sizes ---------------------------------------------------------------------------------


def test_labels_needed_textbook_and_statsmodels() -> None:
    # 2·0.25·(1.96 + 0.8416)² / 0.05² = 1569.8: 1570 items per arm for 5 points at 80% power
    assert labels_needed(0.05) == 1570
    assert labels_needed(0.10) == 393  # 392.4
    engine = NormalIndPower()
    for difference, p in [(0.05, 0.5), (0.1, 0.5), (0.03, 0.2), (0.2, 0.7)]:
        n = labels_needed(difference, p)
        effect = difference / math.sqrt(p * (1 - p))
        # the closed form is the one-sided power at alpha/2: at least 80% at n, below it at n - 1
        assert engine.power(effect, n, alpha=0.025, alternative="larger") >= 0.8
        assert engine.power(effect, n - 1, alpha=0.025, alternative="larger") < 0.8
        # statsmodels' two-sided solver agrees within one item
        solved = engine.solve_power(effect_size=effect, nobs1=None, alpha=0.05, power=0.8)
        assert abs(n - solved) <= 1
    assert labels_needed(0.05, power=0.9) > labels_needed(0.05)


def test_detectable_difference_matches_statsmodels() -> None:
    engine = NormalIndPower()
    for n, p in [(50, 0.5), (200, 0.5), (385, 0.3), (2000, 0.1)]:
        d = detectable_difference(n, p)
        effect = engine.solve_power(effect_size=None, nobs1=n, alpha=0.05, power=0.8)
        assert d == pytest.approx(effect * math.sqrt(p * (1 - p)), abs=2e-4)
        assert labels_needed(d, p) == pytest.approx(n, rel=0.005)  # the inverse of labels_needed (d rounded)
    assert detectable_difference(1570) == pytest.approx(0.05, abs=1e-4)
    assert detectable_difference(0) is None


def test_half_width_and_items_for_it() -> None:
    # the classic survey size: ±5 points at 95% on p = 0.5 takes 1.96²·0.25/0.05² = 384.1 -> 385 items
    assert items_for_half_width(0.05) == 385
    assert items_for_half_width(0.03) == 1068
    for n, p in [(100, 0.5), (400, 0.5), (250, 0.2)]:
        low, high = proportion_confint(p * n, n, alpha=0.05, method="normal")
        assert half_width(n, p) == pytest.approx((high - low) / 2, rel=1e-12)
    assert round(100 * half_width(100), 1) == 9.8 and round(100 * half_width(400), 1) == 4.9


def test_normal_interval_and_rate_or_mean() -> None:
    x = np.random.default_rng(11).normal(3, 2, 50)
    low, high = DescrStatsW(x).zconfint_mean(alpha=0.05)
    result = normal_interval(x)
    assert result["value"] == round(float(x.mean()), 4) and result["n"] == 50
    assert (result["low"], result["high"]) == pytest.approx((low, high), abs=5e-5)
    assert normal_interval([4.0]) == {"value": 4.0, "low": None, "high": None, "n": 1}
    assert normal_interval([])["value"] is None
    assert rate_or_mean([1, 0, 1, 1]) == {**wilson(3, 4), "method": "wilson"}
    assert rate_or_mean(list(x)) == {**result, "method": "normal"}


# --- agreement ----------------------------------------------------------------------------------------------


def test_cohen_kappa_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = list(rng.choice(["pos", "neg", "neu"], int(rng.integers(2, 300))))
        b = [x if rng.random() < 0.7 else str(rng.choice(["pos", "neg", "neu"])) for x in a]
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)  # to the last bits


def test_cohen_kappa_worked_example() -> None:
    # Wikipedia's Cohen's kappa example: 50 applications, both yes 20, A yes / B no 5, A no / B yes 10, both
    # no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)


def test_cohen_kappa_edge_cases() -> None:
    assert math.isnan(cohen_kappa([], []))
    # one and the same label everywhere: scikit-learn leaves kappa undefined (nan, with a warning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(cohen_kappa_score(["x"] * 3, ["x"] * 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cohen_kappa(["x"] * 3, ["x"] * 3) == 1.0
    assert cohen_kappa(["x", "x"], ["y", "y"]) == 0.0
    with pytest.raises(ValueError, match="item for item"):
        cohen_kappa(["x"], ["x", "y"])


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units, nominal alpha = 0.743
CODERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_krippendorff_alpha_published_example() -> None:
    units = [[None if v is None else str(v) for v in unit] for unit in zip(*CODERS, strict=True)]
    assert krippendorff_alpha(units) == pytest.approx(0.743, abs=1e-3)
    assert krippendorff_alpha([list(unit) for unit in zip(*CODERS, strict=True)]) == krippendorff_alpha(units)


def test_krippendorff_alpha_matches_the_package() -> None:
    rng = np.random.default_rng(12)
    for _ in range(20):
        coders, items = int(rng.integers(2, 6)), int(rng.integers(5, 80))
        truth = rng.integers(0, 4, items)
        data = np.where(
            rng.random((coders, items)) < 0.75, truth, rng.integers(0, 4, (coders, items))
        ).astype(float)
        data[rng.random((coders, items)) < 0.2] = np.nan
        units = [[None if np.isnan(v) else f"label {int(v)}" for v in data[:, j]] for j in range(items)]
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        assert krippendorff_alpha(units) == pytest.approx(expected, abs=1e-12)


def test_krippendorff_alpha_edge_cases() -> None:
    assert math.isnan(krippendorff_alpha([]))
    assert math.isnan(krippendorff_alpha([["a", None], [None, "b"]]))  # no item labelled twice
    assert krippendorff_alpha([["a", "a"], ["a", "a", None]]) == 1.0  # nothing to disagree on
    # a value seen only on an item labelled once does not count (it cannot be paired)
    assert krippendorff_alpha([["a", "a"], ["a", "a"], ["b", None]]) == 1.0
    # items of different lengths (ragged units) are padded with missing values
    ragged = [["a", "a", "b"], ["b", "b"], ["a", "b"], ["a", "a"]]
    assert krippendorff_alpha(ragged) == pytest.approx(
        krippendorff_alpha([unit + [None] * (3 - len(unit)) for unit in ragged]), abs=1e-15
    )


# --- prediction-powered inference ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ppi_py():
    # ppi_py calls warnings.simplefilter("ignore") at import: keep that from leaking into the test session
    with warnings.catch_warnings():
        import ppi_py

    return ppi_py


def _binary_data(seed: int = 0, n: int = 200, big_n: int = 2000):
    rng = np.random.default_rng(seed)
    y_all = (rng.random(n + big_n) < 0.35).astype(float)
    # a biased judge: passes 25% of failures, fails 10% of passes
    flip = np.where(y_all == 1, rng.random(n + big_n) < 0.10, rng.random(n + big_n) < 0.25)
    yhat_all = np.where(flip, 1 - y_all, y_all)
    return y_all[:n], yhat_all[:n], yhat_all[n:]


def _continuous_data(seed: int = 1, n: int = 150, big_n: int = 1500):
    rng = np.random.default_rng(seed)
    y_all = rng.normal(3.2, 1.0, n + big_n)
    yhat_all = 0.8 * y_all + 0.9 + rng.normal(0, 0.6, n + big_n)
    return y_all[:n], yhat_all[:n], yhat_all[n:]


@pytest.mark.parametrize("data", [_binary_data, _continuous_data])
@pytest.mark.parametrize("lam", [None, 1.0])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_ppi_matches_ppi_python(ppi_py, data, lam, alpha):
    y, yhat, unlabeled = data()
    ours = ppi_mean(list(y), list(yhat), list(unlabeled), alpha=alpha, lam=lam)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = ppi_py.ppi_mean_pointestimate(y, yhat, unlabeled, lam=lam)
        low, high = ppi_py.ppi_mean_ci(y, yhat, unlabeled, alpha=alpha, lam=lam)
    assert ours["value"] == pytest.approx(float(np.ravel(point)[0]), abs=1e-6)
    assert ours["low"] == pytest.approx(float(np.ravel(low)[0]), abs=1e-6)
    assert ours["high"] == pytest.approx(float(np.ravel(high)[0]), abs=1e-6)
    assert ours["n_labeled"] == len(y) and ours["n_unlabeled"] == len(unlabeled)
    if lam == 1.0:
        assert ours["lambda"] == 1.0
    else:
        assert 0 < ours["lambda"] < 1


def test_ppi_lambda_matches_ppi_python(ppi_py):
    y, yhat, unlabeled = _continuous_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = float(np.ravel(ppi_py.ppi_mean_pointestimate(y, yhat, unlabeled, lam=None))[0])
    # ppi-python's estimate is lam·mean(unlabeled) + mean(y − lam·yhat): read its lambda back from it
    theirs = (point - y.mean()) / (unlabeled.mean() - yhat.mean())
    assert ppi_lambda(y, yhat, unlabeled) == pytest.approx(theirs, abs=1e-9)
    assert 0 < theirs < 1


def test_ppi_lambda_is_clipped_like_ppi_python(ppi_py):
    rng = np.random.default_rng(2)
    y = rng.normal(0, 1, 80)
    yhat = -y + rng.normal(0, 0.1, 80)  # a judge that gets it backwards: power tuning drops it
    unlabeled = rng.normal(0, 1, 400)
    ours = ppi_mean(list(y), list(yhat), list(unlabeled))
    assert ours["lambda"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        low, high = ppi_py.ppi_mean_ci(y, yhat, unlabeled, alpha=0.05)
    assert (ours["low"], ours["high"]) == pytest.approx((float(low[0]), float(high[0])), abs=1e-6)


def test_ppi_edge_cases():
    constant_judge = ppi_mean([1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0] * 10)
    assert constant_judge["lambda"] == 0.0 and constant_judge["value"] == round(2 / 3, 6)
    no_unlabeled = ppi_mean([1.0, 0.0], [1.0, 0.0], [], lam=1.0)
    assert no_unlabeled["lambda"] == 0.0 and no_unlabeled["value"] == 0.5
    single = ppi_mean([1.0], [1.0], [0.0, 1.0])
    assert single["value"] is not None and single["low"] is None and single["high"] is None
    assert ppi_mean([], [], [1.0, 0.0])["value"] is None
    with pytest.raises(ValueError):
        ppi_mean([1.0], [], [])
    with pytest.raises(ValueError):
        ppi_mean([1.0], [1.0], [], alpha=1.5)


def test_a_perfect_judge_narrows_the_interval():
    y, _, _ = _binary_data()
    rng = np.random.default_rng(9)
    unlabeled = (rng.random(2000) < 0.35).astype(float)
    ppi = ppi_mean(list(y), list(y), list(unlabeled))
    human = naive_intervals(list(y), list(y) + list(unlabeled))["human_only"]
    assert ppi["lambda"] > 0.8  # power tuning tends to N / (n + N) for a perfect judge
    assert ppi["high"] - ppi["low"] <= human["high"] - human["low"]


def test_ppi_covers_where_the_judge_alone_does_not():
    truth = 0.35
    ppi_hits = judge_hits = 0
    reps = 300
    for rep in range(reps):
        y, yhat, unlabeled = _binary_data(seed=100 + rep, n=100, big_n=1000)
        ppi = ppi_mean(list(y), list(yhat), list(unlabeled))
        judge = naive_intervals(list(y), list(yhat) + list(unlabeled))["judge_only"]
        ppi_hits += ppi["low"] <= truth <= ppi["high"]
        judge_hits += judge["low"] <= truth <= judge["high"]
    assert 0.90 <= ppi_hits / reps <= 0.99
    assert judge_hits / reps < 0.5  # the judge's bias (0.35 → ~0.48) is outside its own narrow interval


def test_naive_intervals():
    result = naive_intervals([1, 0, 1, 1], [1, 1, 0, 1, 1, 1, 0, 1])
    assert result["human_only"] == {**wilson(3, 4), "method": "wilson"}
    assert result["judge_only"] == {**wilson(6, 8), "method": "wilson"}
    scores = [3.0, 4.0, 5.0, 4.0]
    continuous = naive_intervals(scores, scores)["human_only"]
    half = scipy_stats.norm.ppf(0.975) * np.std(scores, ddof=1) / 2
    assert continuous["method"] == "normal"
    assert continuous["low"] == round(4.0 - half, 4) and continuous["high"] == round(4.0 + half, 4)
    assert naive_intervals([], [])["human_only"]["value"] is None


def test_module_documents_what_it_wraps() -> None:
    doc = stats.__doc__ or ""
    for library in (
        "scipy.stats.bootstrap",
        "statsmodels",
        "cohen_kappa_score",
        "krippendorff",
        "ppi-python",
    ):
        assert library in doc
    assert "SEED = 20261125" in doc and "DRAWS = 2000" in doc
