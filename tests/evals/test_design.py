"""rescue.evals.design against hand arithmetic, textbook formulas, statsmodels, ppi-python and simulations."""

from __future__ import annotations

import json
import math
import time
import warnings

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.regression.linear_model import WLS
from statsmodels.stats.weightstats import DescrStatsW

from rescue import stats
from rescue.evals.design import (
    DesignEstimate,
    differs,
    kish_effective_n,
    paired_difference,
    ppi_mean_weighted,
    weighted_mean,
)

Z = scipy_stats.norm.ppf(0.975)


def wilson_by_hand(p: float, n: float, z: float = Z) -> tuple[float, float]:
    """Wilson's (1927) score interval, written out: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    centre = p + z**2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - spread) / (1 + z**2 / n), (centre + spread) / (1 + z**2 / n)


# --- the point estimate and the stratified variance -----------------------------------------------------------


def test_weighted_mean_by_hand() -> None:
    values = [1, 0, 1, 1, 0]
    weights = [2, 2, 1, 1, 4]
    est = weighted_mean(values, weights)
    # Σ w·y = 2·1 + 2·0 + 1·1 + 1·1 + 4·0 = 4; Σ w = 10; Hájek: 4 / 10
    assert est.estimate == pytest.approx(0.4, abs=1e-15)
    assert est.unweighted == pytest.approx(3 / 5, abs=1e-15)
    assert est.n == 5 and est.clusters is None


def test_stratified_variance_by_hand() -> None:
    # stratum A: N = 40, n = 4 (weight 10); stratum B: N = 12, n = 3 (weight 4); N = 52
    values = [1, 0, 1, 1, 0, 0, 1]
    weights = [10, 10, 10, 10, 4, 4, 4]
    strata = ["A"] * 4 + ["B"] * 3
    est = weighted_mean(values, weights, strata)
    w_a, w_b = 40 / 52, 12 / 52
    mean_a, mean_b = 3 / 4, 1 / 3
    s2_a = (3 * (1 - 0.75) ** 2 + (0 - 0.75) ** 2) / 3  # = 0.25
    s2_b = (2 * (0 - 1 / 3) ** 2 + (1 - 1 / 3) ** 2) / 2  # = 1/3
    f_a, f_b = 4 / 40, 3 / 12
    variance = w_a**2 * (1 - f_a) * s2_a / 4 + w_b**2 * (1 - f_b) * s2_b / 3
    assert est.estimate == pytest.approx(w_a * mean_a + w_b * mean_b, abs=1e-15)  # = 34/52
    assert est.se == pytest.approx(math.sqrt(variance), rel=1e-12)
    # without the finite population correction: Σ W_h² s_h² / n_h
    no_fpc = weighted_mean(values, weights, strata, fpc=False)
    assert no_fpc.se == pytest.approx(math.sqrt(w_a**2 * s2_a / 4 + w_b**2 * s2_b / 3), rel=1e-12)


def test_stratified_variance_matches_the_textbook_formula_on_random_data() -> None:
    rng = np.random.default_rng(3)
    big_n = {"a": 5000, "b": 800, "c": 120, "d": 40}
    n_h = {"a": 60, "b": 20, "c": 12, "d": 10}
    strata = np.repeat(list(n_h), list(n_h.values()))
    weights = np.array([big_n[s] / n_h[s] for s in strata])
    values = rng.gamma(2.0, 1.5, len(strata)) + (strata == "c") * 3
    est = weighted_mean(values, weights, list(strata))
    total = sum(big_n.values())
    estimate = variance = 0.0
    for s in n_h:
        y = values[strata == s]
        share = big_n[s] / total
        estimate += share * y.mean()
        variance += share**2 * (1 - n_h[s] / big_n[s]) * y.var(ddof=1) / n_h[s]
    assert est.estimate == pytest.approx(estimate, rel=1e-12)
    assert est.se == pytest.approx(math.sqrt(variance), rel=1e-12)
    # a real-valued score: Student's t with n − H degrees of freedom
    half = scipy_stats.t.ppf(0.975, len(values) - len(n_h)) * math.sqrt(variance)
    assert (est.low, est.high) == pytest.approx((estimate - half, estimate + half), rel=1e-12)


def test_a_one_item_stratum_contributes_its_deviation_from_the_overall_estimate() -> None:
    values = [2.0, 4.0, 3.0, 9.0]
    weights = [5, 5, 5, 8]  # stratum x: N = 15, n = 3; stratum y: one item standing for N = 8
    est = weighted_mean(values, weights, ["x", "x", "x", "y"])
    overall = (5 * (2 + 4 + 3) + 8 * 9) / 23
    share_x, share_y = 15 / 23, 8 / 23
    s2_x = np.var([2.0, 4.0, 3.0], ddof=1)
    variance = share_x**2 * (1 - 3 / 15) * s2_x / 3 + (1 - 1 / 8) * (share_y * (9 - overall)) ** 2
    assert est.estimate == pytest.approx(overall, rel=1e-12)
    assert est.se == pytest.approx(math.sqrt(variance), rel=1e-12)
    # a one-item stratum that is its whole population (weight 1) adds nothing
    census = weighted_mean(values, [5, 5, 5, 1], ["x", "x", "x", "y"])
    overall = (5 * 9 + 9) / 16
    assert census.se == pytest.approx(math.sqrt((15 / 16) ** 2 * (1 - 3 / 15) * s2_x / 3), rel=1e-12)


def test_every_stratum_taken_whole_has_no_sampling_error() -> None:
    est = weighted_mean([1, 0, 1, 1], [1, 1, 1, 1], ["a", "a", "b", "b"])
    assert est.se == 0.0 and est.low == est.high == est.estimate == 0.75
    assert est.design_effect == 0.0 and est.to_dict()["effective_n"] is None
    assert "no sampling error" in (est.note or "")


# --- reduction to the ordinary estimate ----------------------------------------------------------------------


@pytest.mark.parametrize("successes, n", [(6, 8), (37, 120), (1, 40), (0, 25), (25, 25)])
def test_no_design_is_the_ordinary_wilson_interval(successes: int, n: int) -> None:
    values = [1] * successes + [0] * (n - successes)
    est = weighted_mean(values)
    ci = scipy_stats.binomtest(successes, n).proportion_ci(method="wilson")
    assert est.estimate == successes / n
    assert (est.low, est.high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert (est.unweighted_low, est.unweighted_high) == (est.low, est.high)
    assert est.effective_n == pytest.approx(n, rel=1e-12)
    assert est.design_effect == pytest.approx(1.0, rel=1e-12)
    house = stats.wilson(successes, n)
    assert (est.to_dict()["low"], est.to_dict()["high"]) == (house["low"], house["high"])
    if 0 < successes < n:
        assert est.se == pytest.approx(np.std(values, ddof=1) / math.sqrt(n), rel=1e-12)
    assert not differs(est)


def test_no_design_is_the_ordinary_t_interval_for_real_scores() -> None:
    x = np.random.default_rng(5).normal(0.6, 0.2, 70)
    est = weighted_mean(x)
    low, high = DescrStatsW(x).tconfint_mean()
    assert est.estimate == pytest.approx(x.mean(), rel=1e-14)
    assert est.se == pytest.approx(x.std(ddof=1) / math.sqrt(70), rel=1e-12)
    assert (est.low, est.high) == pytest.approx((low, high), rel=1e-12)
    assert est.design_effect == pytest.approx(1.0, rel=1e-12)


def test_equal_weights_differ_from_the_ordinary_estimate_only_by_the_fpc() -> None:
    rng = np.random.default_rng(6)
    y = (rng.random(90) < 0.4).astype(float)
    plain = weighted_mean(y)
    weighted = weighted_mean(y, [7.0] * 90)
    assert weighted.estimate == pytest.approx(plain.estimate, abs=1e-15)
    assert weighted.se == pytest.approx(plain.se * math.sqrt(1 - 1 / 7), rel=1e-12)
    assert weighted.design_effect == pytest.approx(1 - 1 / 7, rel=1e-12)
    assert weighted.effective_n == pytest.approx(90 / (1 - 1 / 7), rel=1e-12)
    no_fpc = weighted_mean(y, [7.0] * 90, fpc=False)
    assert (no_fpc.low, no_fpc.high, no_fpc.se) == pytest.approx((plain.low, plain.high, plain.se), rel=1e-12)
    # weights that vary imply no N_h: no correction, and Kish's loss from weighting shows in the design effect
    w = rng.choice([1.0, 9.0], 90)
    uneven = weighted_mean(y, w)
    assert "finite population correction" not in uneven.method
    assert uneven.design_effect > 1


# --- 0/1 scores: Wilson at the effective sample size ---------------------------------------------------------


def test_wilson_at_the_effective_sample_size_stays_inside_0_1() -> None:
    # one failure in a heavily weighted stratum: a normal interval would go below 0
    values = [0] * 30 + [1] + [0] * 9
    weights = [100] * 31 + [2] * 9
    strata = ["big"] * 31 + ["small"] * 9
    est = weighted_mean(values, weights, strata)
    assert 0 <= est.low < est.estimate < est.high <= 1
    assert est.estimate - Z * est.se < 0  # what the normal interval would have said
    # the effective sample size is n / design effect = n/(n−1) · p(1−p) / se² (Korn–Graubard's, but for n/(n−1))
    n = 40
    p = est.estimate
    assert est.effective_n == pytest.approx(n / (n - 1) * p * (1 - p) / est.se**2, rel=1e-12)
    assert (est.low, est.high) == pytest.approx(wilson_by_hand(p, est.effective_n), rel=1e-9)


def test_all_passes_or_all_failures_fall_back_on_kish() -> None:
    weights = [1.0, 1.0, 4.0]  # Kish: (1 + 1 + 4)² / (1 + 1 + 16) = 36 / 18 = 2
    assert kish_effective_n(weights) == pytest.approx(2.0, rel=1e-15)
    zeros = weighted_mean([0, 0, 0], weights)
    assert zeros.estimate == 0.0 and zeros.low == 0.0
    assert zeros.high == pytest.approx(Z**2 / (2 + Z**2), rel=1e-9)  # Wilson's upper bound at x = 0, n = 2
    assert zeros.effective_n == pytest.approx(2.0) and "Kish" in (zeros.note or "")
    ones = weighted_mean([1, 1, 1], weights)
    assert ones.high == 1.0 and ones.low == pytest.approx(2 / (2 + Z**2), rel=1e-9)
    # with clusters the clusters' total weights count: 2 clusters of weight 2 and 4 → 36 / 20 = 1.8
    clustered = weighted_mean([0, 0, 0], weights, clusters=["u", "u", "v"])
    assert clustered.effective_n == pytest.approx(1.8, rel=1e-12)
    assert kish_effective_n([3.0] * 12) == pytest.approx(12.0)


# --- clusters: the sandwich -----------------------------------------------------------------------------------


def _clustered_data(seed: int, binary: bool):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 23, 300)  # unequal cluster sizes
    level = rng.normal(0, 1, 23)[g]
    w = rng.choice([1.0, 2.5, 8.0], 300)
    y = (
        (rng.random(300) < 1 / (1 + np.exp(-level))).astype(float)
        if binary
        else level + rng.normal(0, 1, 300)
    )
    return y, w, g


@pytest.mark.parametrize("binary", [False, True])
def test_cluster_robust_se_is_statsmodels_and_the_sandwich_by_hand(binary: bool) -> None:
    y, w, g = _clustered_data(11, binary)
    est = weighted_mean(y, w, clusters=list(g))
    fit = WLS(y, np.ones(len(y)), weights=w).fit(cov_type="cluster", cov_kwds={"groups": g})
    assert est.estimate == pytest.approx(float(fit.params[0]), rel=1e-12)
    assert est.se == pytest.approx(float(fit.bse[0]), rel=1e-12)
    # the sandwich written out: bread (Σw)⁻¹, meat Σ_g (Σ_{i∈g} w_i e_i)², and statsmodels' small-sample factor
    # G/(G−1) · (n−1)/(n−k), k = 1 regressor
    n, k, groups = len(y), 1, len(np.unique(g))
    e = y - np.sum(w * y) / np.sum(w)
    meat = sum(np.sum(w[g == c] * e[g == c]) ** 2 for c in np.unique(g))
    factor = groups / (groups - 1) * (n - 1) / (n - k)
    assert est.se == pytest.approx(math.sqrt(factor * meat / np.sum(w) ** 2), rel=1e-12)
    assert est.clusters == groups
    assert "cluster-robust" in est.method
    if not binary:  # Student's t with G − 1 degrees of freedom
        half = scipy_stats.t.ppf(0.975, groups - 1) * est.se
        assert (est.low, est.high) == pytest.approx((est.estimate - half, est.estimate + half), rel=1e-12)
    else:
        assert (est.low, est.high) == pytest.approx(wilson_by_hand(est.estimate, est.effective_n), rel=1e-9)


def test_clusters_with_strata_ignore_the_strata_for_the_variance() -> None:
    y, w, g = _clustered_data(12, False)
    strata = list(np.where(g < 10, "s", "t"))
    with_strata = weighted_mean(y, w, strata, list(g))
    assert with_strata.se == weighted_mean(y, w, clusters=list(g)).se
    assert "strata ignored for the variance" in with_strata.method


def test_items_as_their_own_clusters_give_the_with_replacement_variance() -> None:
    y, w, _ = _clustered_data(13, False)
    own = weighted_mean(y, w, clusters=list(range(len(y))))
    by_strata = weighted_mean(y, w, fpc=False)  # weights vary: no correction anyway
    assert own.se == pytest.approx(by_strata.se, rel=1e-12)


# --- edge cases ------------------------------------------------------------------------------------------------


def test_edge_cases_are_refused_or_said() -> None:
    with pytest.raises(ValueError, match="no items"):
        weighted_mean([])
    with pytest.raises(ValueError, match="NaN"):
        weighted_mean([1.0, float("nan"), 0.0])
    with pytest.raises(ValueError, match="positive"):
        weighted_mean([1, 0, 1], [1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        weighted_mean([1, 0, 1], [1.0, -3.0, 2.0])
    with pytest.raises(ValueError, match="one weight per item"):
        weighted_mean([1, 0, 1], [1.0, 2.0])
    with pytest.raises(ValueError, match="one label per item"):
        weighted_mean([1, 0, 1], strata=["a", "b"])
    with pytest.raises(ValueError, match="no cluster label"):
        weighted_mean([1, 0, 1], clusters=["a", None, "b"])
    with pytest.raises(ValueError, match="no items"):
        paired_difference([], [])
    with pytest.raises(ValueError, match="NaN"):
        paired_difference([1.0, 0.0], [float("nan"), 1.0])
    with pytest.raises(ValueError, match="item for item"):
        paired_difference([1.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="positive"):
        paired_difference([1.0, 0.0], [1.0, 1.0], weights=[0.0, 1.0])


def test_a_single_cluster_has_no_interval() -> None:
    est = weighted_mean([1, 0, 1, 1], clusters=["c"] * 4)
    assert est.estimate == 0.75
    assert est.low is None and est.high is None and est.se is None and est.design_effect is None
    assert "one cluster" in (est.note or "") and est.clusters == 1
    assert est.unweighted_low is not None  # the naive interval is still there to show what it would claim
    paired = paired_difference([1, 0, 1], [0, 0, 1], clusters=["c"] * 3)
    assert paired.estimate == pytest.approx(1 / 3) and paired.low is None and paired.se is None
    assert "one cluster" in (paired.note or "")
    assert json.loads(json.dumps(est.to_dict()))["low"] is None


def test_one_item_or_one_item_per_stratum_has_no_interval_for_real_scores() -> None:
    assert weighted_mean([0.4]).low is None
    est = weighted_mean([0.4, 0.7, 0.2], [3, 3, 3], ["a", "b", "c"])
    assert est.low is None and est.se is None and "no interval" in (est.note or "")
    one = weighted_mean([1])  # a 0/1 score keeps Wilson's interval at n = 1
    assert (one.low, one.high) == pytest.approx(wilson_by_hand(1.0, 1.0), rel=1e-9)


def test_to_dict_is_plain_json() -> None:
    est = weighted_mean([1, 0, 1, 1, 0, 1], [3.0, 3.0, 3.0, 9.0, 9.0, 9.0], list("aaabbb"))
    d = est.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["estimate"] == round(est.estimate, 4) and d["se"] == round(est.se, 6)
    assert all(type(v) in (float, int, str, type(None)) for v in d.values())


def test_differs() -> None:
    def shown(estimate: float, low: float | None, high: float | None, unweighted: float) -> bool:
        return differs(
            DesignEstimate(estimate, low, high, None, 100, None, None, None, "", unweighted, None, None)
        )

    assert not shown(0.50, 0.40, 0.60, 0.52)  # 0.02 ≤ half of the half-width (0.05)
    assert shown(0.50, 0.40, 0.60, 0.56)  # inside the interval but 0.06 > 0.05
    assert shown(0.010, 0.002, 0.050, 0.001)  # outside, though only 0.009 away (asymmetric Wilson)
    assert not shown(0.5, None, None, 0.5)
    assert shown(0.5, None, None, 0.51)


# --- simulation 1: disproportionate allocation ---------------------------------------------------------------


def test_weighting_restores_coverage_under_disproportionate_allocation() -> None:
    # the allocation rescue.evalset.sample.allocate gives for 100 items: proportional, with a floor of 10
    sizes = np.array([8000, 600, 500, 400, 300, 200])
    take = np.array([50, 10, 10, 10, 10, 10])
    rates = np.array([0.85, 0.55, 0.40, 0.60, 0.30, 0.50])
    rng = np.random.default_rng(20261125)
    population = [rng.random(size) < rate for size, rate in zip(sizes, rates, strict=True)]
    truth = float(np.concatenate(population).mean())  # 0.7745; the sample's mix averages 0.66
    strata = np.repeat(np.arange(len(sizes)), take)
    weights = np.repeat(sizes / take, take)  # N_h / n_h, as draw() writes them
    runs = 400
    weighted = unweighted = 0
    for _ in range(runs):
        parts = [rng.choice(p, t, replace=False) for p, t in zip(population, take, strict=True)]
        est = weighted_mean(np.concatenate(parts).astype(float), weights, strata)
        weighted += est.low <= truth <= est.high
        unweighted += est.unweighted_low <= truth <= est.unweighted_high
    assert 0.92 <= weighted / runs <= 0.98  # observed 0.945
    assert unweighted / runs < 0.80  # observed 0.23


# --- simulation 2: clustered items ----------------------------------------------------------------------------


def test_clustered_intervals_grow_with_the_intra_cluster_correlation() -> None:
    groups, size, mean = 40, 10, 0.7
    clusters = np.repeat(np.arange(groups), size)
    rng = np.random.default_rng(7)
    runs = 400
    seen = {}
    for icc in (0.0, 0.2, 0.5):
        covered = naive = 0
        widths, effects = [], []
        for _ in range(runs):
            # beta-binomial: cluster rates ~ Beta(μs, (1−μ)s) with s = 1/ICC − 1 have intra-cluster correlation ICC
            p = (
                np.full(groups, mean)
                if icc == 0
                else rng.beta(mean * (1 / icc - 1), (1 - mean) * (1 / icc - 1), groups)
            )
            y = (rng.random(groups * size) < np.repeat(p, size)).astype(float)
            est = weighted_mean(y, clusters=clusters)
            covered += est.low <= mean <= est.high
            naive += est.unweighted_low <= mean <= est.unweighted_high
            widths.append(est.high - est.low)
            effects.append(est.design_effect)
        seen[icc] = (covered / runs, naive / runs, float(np.mean(widths)), float(np.mean(effects)))
    (c0, n0, w0, d0), (c2, _, w2, d2), (c5, n5, w5, d5) = seen[0.0], seen[0.2], seen[0.5]
    assert w0 < w2 < w5  # observed 0.089, 0.148, 0.205
    assert 0.9 <= d0 <= 1.1  # observed 0.996
    assert d2 == pytest.approx(1 + (size - 1) * 0.2, rel=0.15)  # observed 2.83 against 2.8
    assert d5 == pytest.approx(1 + (size - 1) * 0.5, rel=0.15)  # observed 5.54 against 5.5
    assert all(0.91 <= c <= 0.98 for c in (c0, c2, c5))  # observed 0.945, 0.9625, 0.95
    assert n0 >= 0.91 and n5 < 0.75  # the naive interval: observed 0.9575 at ICC 0, 0.5625 at ICC 0.5


# --- the paired bootstrap ---------------------------------------------------------------------------------------


def _pairs(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    a = (rng.random(n) < 0.72).astype(float)
    b = (rng.random(n) < 0.61).astype(float)
    return a, b, rng


def test_paired_bootstrap_is_deterministic_for_a_seed() -> None:
    a, b, rng = _pairs(1)
    kw = {
        "weights": rng.choice([1.0, 4.0], 300),
        "strata": list(rng.integers(0, 3, 300)),
        "clusters": list(rng.integers(0, 60, 300)),
    }
    one = paired_difference(a, b, **kw, seed=5)
    two = paired_difference(a, b, **kw, seed=5)
    other = paired_difference(a, b, **kw, seed=6)
    assert one == two
    assert (one.low, one.high) != (other.low, other.high)
    assert one.estimate == other.estimate
    # Σ w (a − b) / Σ w
    w = kw["weights"]
    assert one.estimate == pytest.approx(np.sum(w * (a - b)) / np.sum(w), rel=1e-12)


def test_paired_bootstrap_without_clusters_is_the_package_item_bootstrap() -> None:
    a, b, _ = _pairs(2)
    d = a - b
    est = paired_difference(a, b, seed=9)
    low, high = stats.bootstrap_interval(lambda idx: d[idx].mean(axis=-1), len(d), vectorized=True, seed=9)
    assert (est.low, est.high) == (low, high)
    assert (est.unweighted_low, est.unweighted_high) == (low, high)
    house = stats.paired_difference(list(a), list(b), seed=9)
    assert (est.to_dict()["low"], est.to_dict()["high"]) == (house["low"], house["high"])
    # items as their own clusters are the same resampling
    own = paired_difference(a, b, clusters=list(range(len(a))), seed=9)
    assert (own.low, own.high, own.se) == (est.low, est.high, est.se)
    assert own.clusters == len(a) and est.clusters is None


def test_paired_bootstrap_resamples_within_strata() -> None:
    # an explicit loop: per stratum, in order of first appearance, draw 4 of that stratum's 5 clusters with
    # replacement, their weights scaled by 5/4 (Rao and Wu's rescaling)
    a, b, _ = _pairs(3, n=60)
    strata = np.repeat(["p", "q", "r"], 20)
    clusters = np.repeat(np.arange(15), 4)  # 5 clusters of 4 items per stratum
    w = np.repeat([2.0, 5.0, 1.5], 20)
    est = paired_difference(a, b, w, list(strata), list(clusters), n_boot=300, seed=4)
    assert "within strata" in est.method
    draw = np.random.default_rng(4)
    cluster_ids = {s: list(dict.fromkeys(clusters[strata == s])) for s in ("p", "q", "r")}
    picks = {s: draw.integers(0, 5, size=(300, 4)) for s in ("p", "q", "r")}
    boot = []
    for r in range(300):
        num = den = 0.0
        for s in ("p", "q", "r"):
            for j in picks[s][r]:
                members = clusters == cluster_ids[s][j]
                num += 5 / 4 * float(np.sum(w[members] * (a - b)[members]))
                den += 5 / 4 * float(np.sum(w[members]))
        boot.append(num / den)
    assert (est.low, est.high) == pytest.approx(tuple(np.percentile(boot, [2.5, 97.5])), rel=1e-12)
    assert est.se == pytest.approx(np.std(boot, ddof=1), rel=1e-12)
    # a cluster spanning two strata: whole clusters are resampled across strata, and the method says so
    crossing = clusters.copy()
    crossing[20] = 0
    assert "across strata" in paired_difference(a, b, w, list(strata), list(crossing), n_boot=50).method


def test_the_stratified_bootstrap_variance_is_the_stratified_variance_with_few_clusters_a_stratum() -> None:
    """Rao and Wu's rescaling: with 3 clusters a stratum, the naive bootstrap's variance would be 2/3 of the
    stratified with-replacement variance; the rescaled one is that variance (up to the draws' own error)."""
    rng = np.random.default_rng(21)
    strata = np.repeat(np.arange(40), 3)  # 40 strata of 3 one-item clusters
    w = np.repeat(
        rng.uniform(1, 5, 40), 3
    )  # equal weights within a stratum: the ratio's denominator is fixed
    a = (rng.random(120) < 0.6).astype(float)
    b = (rng.random(120) < 0.5).astype(float)
    est = paired_difference(a, b, w, list(strata), list(range(120)), n_boot=20_000, seed=3)
    analytic = weighted_mean(a - b, w, strata=list(strata), fpc=False)  # the bootstrap has no correction
    assert est.se**2 == pytest.approx(analytic.se**2, rel=0.05)  # naive: 0.67 of it


def test_the_cluster_bootstrap_widens_with_correlated_clusters() -> None:
    # scores identical within clusters of 5: the cluster bootstrap counts 40 units, the item bootstrap 200
    rng = np.random.default_rng(8)
    clusters = np.repeat(np.arange(40), 5)
    a = np.repeat((rng.random(40) < 0.7).astype(float), 5)
    b = np.repeat((rng.random(40) < 0.5).astype(float), 5)
    clustered = paired_difference(a, b, clusters=list(clusters))
    items = paired_difference(a, b)
    assert clustered.design_effect == pytest.approx(
        5, rel=0.25
    )  # observed 4.93: 40 clusters of 5 identical scores
    assert (clustered.se / items.se) ** 2 == pytest.approx(5, rel=0.25)  # observed 4.90
    assert differs(clustered) is False  # same point estimate: only the interval changed


def test_paired_bootstrap_covers_a_known_difference() -> None:
    # 3 strata of 25 clusters × 5 items, sampled equally but standing for 70%, 20% and 10% of production; the
    # PoC's gain over the baseline differs by stratum and by cluster. Truth: 0.7·0.05 + 0.2·0.2 + 0.1·0.3
    share, per_stratum, size = np.array([0.7, 0.2, 0.1]), 25, 5
    gain = np.array([0.05, 0.20, 0.30])
    truth = float(share @ gain)
    strata = np.repeat(np.arange(3), per_stratum * size)
    clusters = np.repeat(np.arange(3 * per_stratum), size)
    weights = np.repeat(share * 10_000 / (per_stratum * size), per_stratum * size)
    rng = np.random.default_rng(12)
    runs = 200
    covered = unweighted = 0
    for _ in range(runs):
        base = rng.uniform(0.3, 0.7, 3 * per_stratum)
        delta = np.repeat(gain, per_stratum) + rng.uniform(-0.15, 0.15, 3 * per_stratum)
        u = rng.random(len(clusters))  # one uniform per item: the two systems' outcomes are paired
        a = (u < np.repeat(base + delta / 2, size)).astype(float)
        b = (u < np.repeat(base - delta / 2, size)).astype(float)
        est = paired_difference(a, b, weights, strata, clusters, n_boot=500, seed=int(rng.integers(2**31)))
        covered += est.low <= truth <= est.high
        unweighted += est.unweighted_low <= truth <= est.unweighted_high
    # observed 0.945 (0.90–0.955 over ten other seeds, mean 0.93: the naive bootstrap's variance is (k−1)/k of
    # the linearised one, k = 25 clusters per stratum)
    assert 0.90 <= covered / runs <= 0.98
    assert unweighted / runs < 0.5  # observed 0.045


def test_paired_bootstrap_is_fast() -> None:
    a, b, rng = _pairs(4, n=1000)
    strata = rng.integers(0, 6, 1000)
    clusters = strata * 1000 + rng.integers(0, 50, 1000)
    weights = rng.uniform(1, 20, 1000)
    paired_difference(a[:10], b[:10])  # warm the imports
    start = time.perf_counter()
    est = paired_difference(a, b, weights, strata, clusters, n_boot=2000)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0  # observed 0.03-0.04 s
    assert est.low < est.estimate < est.high


# --- prediction-powered inference with weights --------------------------------------------------------------


@pytest.fixture(scope="module")
def ppi_py():
    # ppi_py calls warnings.simplefilter("ignore") at import: keep that from leaking into the test session
    with warnings.catch_warnings():
        import ppi_py

    return ppi_py


def _judged(seed: int, n: int = 150, big_n: int = 1200, binary: bool = True):
    rng = np.random.default_rng(seed)
    if binary:
        y_all = (rng.random(n + big_n) < 0.4).astype(float)
        flip = np.where(y_all == 1, rng.random(n + big_n) < 0.1, rng.random(n + big_n) < 0.2)
        yhat_all = np.where(flip, 1 - y_all, y_all)
    else:
        y_all = rng.normal(3.0, 1.0, n + big_n)
        yhat_all = 0.8 * y_all + 0.7 + rng.normal(0, 0.5, n + big_n)
    return y_all[:n], yhat_all[:n], yhat_all[n:], rng


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("lam", [None, 0.0, 0.5, 1.0])
@pytest.mark.parametrize("scale", [None, 3.0])
def test_weighted_ppi_with_equal_weights_is_ppi_mean(
    binary: bool, lam: float | None, scale: float | None
) -> None:
    for seed in range(4):
        y, yhat, unlabeled, _ = _judged(seed, binary=binary)
        w = None if scale is None else [scale] * len(y)
        v = None if scale is None else [scale / 2] * len(unlabeled)
        ours = ppi_mean_weighted(list(y), list(yhat), list(unlabeled), w, v, lam=lam)
        assert ours == stats.ppi_mean(list(y), list(yhat), list(unlabeled), lam=lam)


def test_weighted_ppi_edge_cases_are_ppi_means() -> None:
    for args in (
        ([1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0] * 10),
        ([1.0, 0.0], [1.0, 0.0], []),
        ([1.0], [1.0], [0.0, 1.0]),
        ([], [], [1.0, 0.0]),
    ):
        assert ppi_mean_weighted(*args) == stats.ppi_mean(*args)
    with pytest.raises(ValueError):
        ppi_mean_weighted([1.0], [], [])
    with pytest.raises(ValueError, match="positive"):
        ppi_mean_weighted([1.0, 0.0], [1.0, 0.0], [1.0], weights=[1.0, -1.0])


@pytest.mark.parametrize("binary", [True, False])
def test_weighted_ppi_estimate_and_lambda_are_ppi_pythons(ppi_py, binary: bool) -> None:
    y, yhat, unlabeled, rng = _judged(21, binary=binary)
    w = rng.choice([1.0, 3.0, 12.0], len(y))
    v = rng.choice([1.0, 2.0], len(unlabeled))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lam in (None, 0.5):
            ours = ppi_mean_weighted(list(y), list(yhat), list(unlabeled), list(w), list(v), lam=lam)
            theirs = ppi_py.ppi_mean_pointestimate(y, yhat, unlabeled, lam=lam, w=w, w_unlabeled=v)
            assert ours["value"] == pytest.approx(float(np.ravel(theirs)[0]), abs=1e-6)
    # the interval: each Hájek mean's linearised variance Σ w²(r − r̄_w)² / (Σ w)², written out
    ours = ppi_mean_weighted(list(y), list(yhat), list(unlabeled), list(w), list(v))
    lam = ours["lambda"]
    assert 0 <= lam <= 1
    rectifier = y - lam * yhat
    r_bar = np.sum(w * rectifier) / np.sum(w)
    u_bar = np.sum(v * unlabeled) / np.sum(v)
    variance = np.sum(w**2 * (rectifier - r_bar) ** 2) / np.sum(w) ** 2
    variance += lam**2 * np.sum(v**2 * (unlabeled - u_bar) ** 2) / np.sum(v) ** 2
    value = lam * u_bar + r_bar
    assert ours["value"] == pytest.approx(value, abs=1e-6)
    assert (ours["low"], ours["high"]) == pytest.approx(
        (value - Z * math.sqrt(variance), value + Z * math.sqrt(variance)), abs=1e-6
    )


def test_weighted_ppi_covers_the_production_rate() -> None:
    # production: 80% of items pass at 0.8, 20% at 0.3 (truth 0.70); people label 60 + 60 items (the rare
    # stratum over-sampled), the judge (biased towards passing) scores 1,000 more drawn in proportion
    rng = np.random.default_rng(31)
    truth = 0.8 * 0.8 + 0.2 * 0.3
    runs = 300
    weighted = plain = 0
    for _ in range(runs):
        y = np.concatenate([rng.random(60) < 0.8, rng.random(60) < 0.3]).astype(float)
        labeled_weights = np.repeat([0.8 / 60, 0.2 / 60], 60)
        unlabeled_truth = (rng.random(1000) < np.where(rng.random(1000) < 0.8, 0.8, 0.3)).astype(float)

        def judge(x: np.ndarray) -> np.ndarray:
            return np.where(x == 1, rng.random(len(x)) > 0.05, rng.random(len(x)) < 0.3).astype(float)

        yhat, unlabeled = judge(y), judge(unlabeled_truth)
        ours = ppi_mean_weighted(list(y), list(yhat), list(unlabeled), list(labeled_weights))
        naive = stats.ppi_mean(list(y), list(yhat), list(unlabeled))
        weighted += ours["low"] <= truth <= ours["high"]
        plain += naive["low"] <= truth <= naive["high"]
    assert 0.92 <= weighted / runs <= 0.985  # observed 0.95
    assert plain / runs < 0.8  # observed 0.40
