"""Scores weighted back to production: design-based estimates for a stratified, possibly clustered eval sample.

Day 3 draws the eval sample stratum by stratum with a floor of ten items per stratum, so small strata are
over-represented; every sampled item carries its ``stratum`` and its ``weight`` — the number of production
items it stands for, N_h / n_h (:func:`rescue.evalset.sample.draw`). An unweighted mean over the sample is
then the pass rate of the *sample's* mix, not production's. Items can also come in clusters (turns of one
conversation, questions on one document, tickets of one customer) whose scores move together, so the sample
holds less information than its item count suggests. This module gives the estimate for production and an
interval that reflects how the sample was drawn. It only computes: Day 4 decides what to show.

The estimators:

- **Point estimate** — the ratio (Hájek) estimator Σ w·y / Σ w (Hájek 1971): the weighted mean. With equal
  weights it is the ordinary mean.
- **Variance without clusters** — the Taylor-linearised variance of the ratio estimator for a stratified
  sample (Cochran 1977, *Sampling Techniques*, ch. 5 and 6; what R's ``survey::svymean`` computes):
  Σ_h (1 − f_h) · n_h/(n_h − 1) · Σ_{i∈h} (z_i − z̄_h)², with z_i = w_i (y_i − ŷ) / Σ w. When the weights
  are constant within a stratum (Day 3's N_h / n_h) this is exactly the textbook
  Σ_h W_h² (1 − f_h) s_h² / n_h with W_h = N_h / N. The **finite population correction** f_h = n_h / N_h is
  taken from the weights (f_h = 1 / w_h) where they imply N_h: ``weights`` given, constant within the
  stratum, and at least 1; otherwise f_h = 0 (sampling with replacement, conservative). A fully enumerated
  stratum (weight 1) adds no variance. **A stratum with one item** has no within-stratum variance; it
  contributes (1 − f_h) z_i², its deviation from the overall estimate (survey's ``lonely.psu = "adjust"``
  rule: conservative, and zero when the stratum is a census).
- **Variance with clusters** — the cluster-robust (sandwich) variance of the weighted mean, computed by
  statsmodels as the weighted least squares regression of y on a constant with ``cov_type="cluster"``
  (Liang and Zeger 1986; Cameron and Miller 2015): G/(G − 1) · Σ_g (Σ_{i∈g} w_i (y_i − ŷ))² / (Σ w)², the
  small-sample factor (n − 1)/(n − k) being 1 for k = 1 regressor. Clusters are treated as drawn with
  replacement from one population: **strata are ignored for the variance** (Day 3 samples items, not
  clusters, so a cluster can span strata, and statsmodels has no stratified cluster variance). Ignoring the
  strata is conservative when they differ in level; there is no finite population correction. At least two
  clusters are needed: with one the interval is undefined and is reported as None, with a ``note``.
- **Interval for 0/1 scores** — a Wilson interval (Wilson 1927) with the effective sample size in place of
  n, as Korn and Graubard (1998) do for Clopper–Pearson's: it stays inside [0, 1] and, unlike the normal
  interval, keeps its coverage near 0 and 1.
  The effective sample size is n / design effect, which for 0/1 data is n/(n − 1) · p(1 − p) / se² — Korn and
  Graubard's p(1 − p) / se² but for the n/(n − 1) of the sample variance, so that equal weights and no
  clusters give exactly the ordinary Wilson interval at n. When p is 0 or 1 the variance estimate is 0 and
  says nothing; the interval is then Wilson's at Kish's effective sample size (Σ w)² / Σ w² (Kish 1965) —
  of the items, or with clusters of the clusters' total weights (the worst case, every cluster counting
  once). It is never truncated at n, so the gain from the finite population correction shows.
- **Interval for other scores** — Student's t with the design degrees of freedom: n − H (H strata) without
  clusters, G − 1 with clusters.
- **Design effect** — the design variance over the variance of simple random sampling with replacement of
  the same n, S²/n with S² the weighted estimate of the population variance n/(n − 1) · Σ w (y − ŷ)² / Σ w
  (Kish 1965; survey's ``deff = "replace"``). So a finite population correction shows as a design effect
  below 1, and equal weights with no clusters and no correction give exactly 1.
- **Paired differences** (the PoC minus a baseline on the same items) — the Hájek mean of the differences
  with a percentile interval from a cluster bootstrap: whole clusters (items, without clusters) resampled
  with replacement, within strata when strata are given and every cluster lies in one stratum (Davison and
  Hinkley 1997, ch. 3). Without strata the draws are :func:`rescue.stats.bootstrap_distribution`'s, so with
  no clusters and no weights it is the package's item bootstrap bit for bit. Within strata it is Rao and Wu's
  rescaling bootstrap (1988; Rao, Wu and Yue 1992): n_h − 1 of a stratum's n_h clusters drawn, their weights
  scaled by n_h/(n_h − 1), so that its variance is the stratified with-replacement variance rather than
  (n_h − 1)/n_h of it, as the naive bootstrap's is (a stratum of 2 clusters would count half). It has no
  finite population correction; a stratum with one cluster adds no variance.
- **Prediction-powered inference with weights** — :func:`ppi_mean_weighted`, :func:`rescue.stats.ppi_mean`
  with design weights on the labelled and on the judge-only items.

Missing values are **rejected**, not dropped: a NaN is usually a failed call, and dropping it would silently
score the PoC on the items it managed. Score it (usually 0) or leave the item out before calling.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..stats import DRAWS, SEED, bootstrap_distribution, ppi_lambda

__all__ = [
    "DesignEstimate",
    "differs",
    "kish_effective_n",
    "paired_difference",
    "ppi_mean_weighted",
    "weighted_mean",
]

_HAJEK = "ratio (Hájek) estimator"
_WILSON = "Wilson interval at the effective sample size (Korn–Graubard)"


@dataclass(frozen=True)
class DesignEstimate:
    """A mean estimated for production from a weighted sample, with its interval and what the design cost.

    ``estimate``/``low``/``high``/``se`` are the design-based (weighted) figures; ``unweighted`` and its
    interval are the same items treated as a simple random sample (weights, strata and clusters ignored). ``n`` counts
    items, ``clusters`` the clusters (None without). ``design_effect`` is the design variance over simple
    random sampling's at the same n, ``effective_n`` = n / design effect. None marks what cannot be
    estimated (e.g. any interval from a single cluster); ``note`` then says why.
    """

    estimate: float
    low: float | None
    high: float | None
    se: float | None
    n: int
    clusters: int | None
    effective_n: float | None
    design_effect: float | None
    method: str
    unweighted: float
    unweighted_low: float | None
    unweighted_high: float | None
    confidence: float = 0.95
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: estimates and bounds to 4 places, se to 6, design effect to 3, effective n to 1.

        Anything undefined or infinite (the effective size of a census) is None.
        """
        places = {"se": 6, "design_effect": 3, "effective_n": 1, "confidence": 4}
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float):
                value = round(value, places.get(key, 4)) if math.isfinite(value) else None
            out[key] = value
        return out


# --- inputs -------------------------------------------------------------------------------------------------


def _values(values: Any, name: str = "values") -> np.ndarray:
    y = np.asarray(values, dtype=float)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be one score per item (a 1-d sequence), not an array of shape {y.shape}"
        )
    if len(y) == 0:
        raise ValueError(f"no items: {name} is empty, and an estimate needs at least one scored item")
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        raise ValueError(
            f"{len(bad)} of {len(y)} {name} are NaN or infinite (first at item {bad[0]}): NaNs are not dropped, "
            "since a missing score is usually a failed call; score those items (a failure is usually 0) or "
            "leave them out before calling"
        )
    return y


def _weights(weights: Any, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"{w.size} weights for {n} items: one weight per item")
    bad = np.flatnonzero(~np.isfinite(w) | (w <= 0))
    if len(bad):
        raise ValueError(
            f"{len(bad)} weights are not positive finite numbers (first at item {bad[0]}: {w[bad[0]]}); a weight "
            "is the number of production items an item stands for (N_h / n_h), so it must be > 0"
        )
    return w


def _labels(labels: Sequence[Hashable] | None, n: int, name: str) -> np.ndarray | None:
    """Integer codes 0..k-1 in order of first appearance (so resampling does not depend on label types)."""
    if labels is None:
        return None
    arr = np.empty(len(labels), dtype=object)
    arr[:] = list(labels)
    if len(arr) != n:
        raise ValueError(f"{len(arr)} {name} labels for {n} items: one label per item")
    codes, _ = pd.factorize(arr, sort=False)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        raise ValueError(f"{len(missing)} items have no {name} label (first at item {missing[0]})")
    return codes.astype(np.intp)


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0.0, 1.0)).all())


def kish_effective_n(weights: Sequence[float] | np.ndarray) -> float:
    """Kish's effective sample size (Σ w)² / Σ w² (Kish 1965): what unequal weights alone cost.

    It equals n for equal weights and falls as the weights spread; n over it is Kish's design effect due to
    weighting, 1 + CV²(w). It ignores the scores, the strata and the clusters (for those see
    :attr:`DesignEstimate.effective_n`).
    """
    w = np.asarray(weights, dtype=float)
    if not len(w):
        raise ValueError("no weights: the effective sample size of nothing is undefined")
    w = _weights(w, len(w))
    return float(w.sum() ** 2 / np.sum(w**2))


# --- the analytic estimate ----------------------------------------------------------------------------------


def _stratified_variance(
    y: np.ndarray, w: np.ndarray, strata: np.ndarray, estimate: float, fpc: bool
) -> tuple[float, bool, bool]:
    """Linearised variance of the Hájek mean (module docstring); whether every stratum is a census; whether a
    finite population correction applied to any stratum."""
    k = int(strata.max()) + 1
    z = w * (y - estimate) / w.sum()
    n_h = np.bincount(strata, minlength=k).astype(float)
    z_bar = np.bincount(strata, z, minlength=k) / n_h
    within = np.bincount(strata, (z - z_bar[strata]) ** 2, minlength=k)
    f_h = np.zeros(k)
    if fpc:
        w_min = np.full(k, np.inf)
        w_max = np.zeros(k)
        np.minimum.at(w_min, strata, w)
        np.maximum.at(w_max, strata, w)
        implied = np.isclose(w_min, w_max, rtol=1e-9, atol=0) & (w_min >= 1)
        f_h = np.where(implied, 1 / np.where(implied, w_max, 1), 0.0)
        f_h[np.isclose(f_h, 1, rtol=1e-12, atol=0)] = 1.0
    single = n_h < 2
    # a lone item: its squared deviation from the overall estimate (the overall mean of z is 0)
    lone = np.bincount(strata, z**2, minlength=k)
    contribution = np.where(single, lone, n_h / np.where(single, 2, n_h - 1) * within)
    return float(np.sum((1 - f_h) * contribution)), bool(np.all(f_h == 1)), bool(np.any(f_h > 0))


def _cluster_variance(y: np.ndarray, w: np.ndarray, clusters: np.ndarray) -> float:
    """statsmodels' cluster-robust variance of the WLS intercept, i.e. of the Hájek mean."""
    from statsmodels.regression.linear_model import WLS

    fit = WLS(y, np.ones_like(y), weights=w).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    return float(fit.bse[0]) ** 2


def _srs_variance(y: np.ndarray, w: np.ndarray, estimate: float) -> float | None:
    """S²/n: simple random sampling with replacement of n items from the weighted population."""
    n = len(y)
    if n < 2:
        return None
    s2 = n / (n - 1) * float(np.sum(w * (y - estimate) ** 2) / w.sum())
    return s2 / n


def _wilson(p: float, n_eff: float, confidence: float) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(p * n_eff, n_eff, alpha=1 - confidence, method="wilson")
    # at p = 0 (1) Wilson's bound is 0 (1) exactly; floating point leaves it a hair inside
    return (0.0 if p == 0 else max(0.0, float(low))), (1.0 if p == 1 else min(1.0, float(high)))


@dataclass(frozen=True)
class _Fit:
    estimate: float
    low: float | None
    high: float | None
    se: float | None
    effective_n: float | None
    design_effect: float | None
    method: str
    note: str | None = None


def _fit(
    y: np.ndarray,
    w: np.ndarray,
    strata: np.ndarray | None,
    clusters: np.ndarray | None,
    weighted: bool,
    fpc: bool,
    confidence: float,
) -> _Fit:
    n = len(y)
    binary = _is_binary(y)
    estimate = float(np.sum(w * y) / w.sum())
    census = False
    if clusters is not None:
        groups = int(clusters.max()) + 1
        method = f"{_HAJEK} with cluster-robust (sandwich) standard errors over {groups} cluster"
        method += "s" if groups != 1 else ""
        if strata is not None and int(strata.max()) > 0:
            method += " (strata ignored for the variance)"
        if groups < 2:
            note = "one cluster only: a cluster-robust variance needs at least two clusters, so no interval"
            return _Fit(estimate, None, None, None, None, None, f"{method}; no interval", note)
        variance = _cluster_variance(y, w, clusters)
        df = groups - 1
    else:
        codes = strata if strata is not None else np.zeros(n, dtype=np.intp)
        n_strata = int(codes.max()) + 1
        variance, census, corrected = _stratified_variance(y, w, codes, estimate, fpc and weighted)
        df = n - n_strata
        if not weighted and n_strata == 1:
            method = "mean over items, variance as for simple random sampling"
        else:
            method = f"{_HAJEK}{f' over {n_strata} strata' if n_strata > 1 else ''}, linearised variance"
            method += " with finite population correction" if corrected else ""
    method = f"{method}; {_WILSON if binary else 't interval'}"
    se = math.sqrt(variance)
    srs = _srs_variance(y, w, estimate)
    if census or (srs and variance == 0):
        note = "every stratum was taken whole: no sampling error" if census else "no sampling error"
        return _Fit(estimate, estimate, estimate, 0.0, math.inf, 0.0, method, note)
    design_effect = variance / srs if srs else None
    effective_n = n / design_effect if design_effect else None
    if binary:
        note = None
        if design_effect is None:
            # p is 0 or 1 (or one item): the variance estimate is 0 and says nothing; the weights alone decide
            effective_n = kish_effective_n(w if clusters is None else np.bincount(clusters, w))
            design_effect = n / effective_n
            note = f"all scores are {estimate:g}: interval at Kish's effective sample size"
        low, high = _wilson(estimate, effective_n, confidence)  # type: ignore[arg-type]
        return _Fit(estimate, low, high, se, effective_n, design_effect, method, note)
    if df < 1 or srs is None:
        note = "too few items (or one item per stratum) to estimate a variance: no interval"
        return _Fit(estimate, None, None, None, effective_n, design_effect, method, note)
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, df)) * se
    return _Fit(estimate, estimate - half, estimate + half, se, effective_n, design_effect, method)


def weighted_mean(
    values: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    strata: Sequence[Hashable] | None = None,
    clusters: Sequence[Hashable] | None = None,
    confidence: float = 0.95,
    *,
    fpc: bool = True,
) -> DesignEstimate:
    """A per-item score's mean over production (a pass rate for 0/1 scores), with a design-based interval.

    The ratio (Hájek) estimator Σ w·y / Σ w with the Taylor-linearised stratified variance (finite population
    correction from the weights, ``fpc=False`` to leave it out), or with ``clusters`` statsmodels'
    cluster-robust (sandwich) variance; a Wilson interval at the effective sample size (Korn–Graubard) for
    0/1 scores, Student's t otherwise. The module docstring gives every formula and rule (one-item strata,
    p of 0 or 1, a single cluster). ``unweighted`` is the plain mean with the interval of a simple random
    sample. With ``weights=None`` and no clusters the result is the ordinary estimate exactly.

    Raises ValueError for no items, NaN or infinite scores, weights that are not positive, or labels that do
    not match the values one for one.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    y = _values(values)
    n = len(y)
    w = _weights(weights, n)
    strata_codes = _labels(strata, n, "stratum")
    cluster_codes = _labels(clusters, n, "cluster")
    fit = _fit(y, w, strata_codes, cluster_codes, weights is not None, fpc, confidence)
    plain = _fit(y, np.ones(n), None, None, False, False, confidence)
    return DesignEstimate(
        estimate=fit.estimate,
        low=fit.low,
        high=fit.high,
        se=fit.se,
        n=n,
        clusters=None if cluster_codes is None else int(cluster_codes.max()) + 1,
        effective_n=fit.effective_n,
        design_effect=fit.design_effect,
        method=fit.method,
        unweighted=plain.estimate,
        unweighted_low=plain.low,
        unweighted_high=plain.high,
        confidence=confidence,
        note=fit.note,
    )


# --- the paired bootstrap -----------------------------------------------------------------------------------


def _cluster_bootstrap(
    totals: np.ndarray, weight_totals: np.ndarray, strata: np.ndarray | None, seed: int, draws: int
) -> np.ndarray:
    """Hájek means of ``draws`` resamples of whole clusters, from cluster totals; within strata when given, Rao and
    Wu's rescaling bootstrap (module docstring)."""
    if strata is None or int(strata.max()) == 0:

        def statistic(idx: np.ndarray) -> np.ndarray:
            return totals[idx].sum(axis=-1) / weight_totals[idx].sum(axis=-1)

        return bootstrap_distribution(statistic, len(totals), vectorized=True, seed=seed, draws=draws)
    rng = np.random.default_rng(seed)
    num = np.zeros(draws)
    den = np.zeros(draws)
    for h in range(int(strata.max()) + 1):
        members = np.flatnonzero(strata == h)
        n_h = len(members)
        if n_h == 1:  # nothing to resample: the stratum adds its total to every draw, and no variance
            num += totals[members[0]]
            den += weight_totals[members[0]]
            continue
        idx = members[rng.integers(0, n_h, size=(draws, n_h - 1))]
        scale = n_h / (n_h - 1)
        num += scale * totals[idx].sum(axis=1)
        den += scale * weight_totals[idx].sum(axis=1)
    return num / den


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    strata: Sequence[Hashable] | None = None,
    clusters: Sequence[Hashable] | None = None,
    n_boot: int = DRAWS,
    seed: int = SEED,
    confidence: float = 0.95,
) -> DesignEstimate:
    """Mean of A minus B on the same items (the PoC against a baseline) for production, with a cluster bootstrap.

    The ratio (Hájek) estimator of the mean difference, Σ w (a − b) / Σ w, with a percentile interval from
    ``n_boot`` resamples of whole clusters drawn with replacement — within strata when strata are given and
    every cluster lies in one stratum, across strata otherwise (``method`` says which); items are their own
    clusters without ``clusters``. Seeded and deterministic; without strata the draws are
    :func:`rescue.stats.bootstrap_distribution`'s. ``se`` is the bootstrap standard deviation; ``unweighted``
    is the plain mean difference with the package's item bootstrap (:func:`rescue.stats.bootstrap_interval`,
    same seed). A single cluster (or one per stratum) gives no interval.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, not {n_boot}")
    x = _values(a, "a")
    z = _values(b, "b")
    if len(x) != len(z):
        raise ValueError(f"{len(x)} values against {len(z)}: pairs must match item for item")
    d = x - z
    n = len(d)
    w = _weights(weights, n)
    strata_codes = _labels(strata, n, "stratum")
    cluster_codes = _labels(clusters, n, "cluster")
    units = cluster_codes if cluster_codes is not None else np.arange(n)
    k = int(units.max()) + 1
    totals = np.bincount(units, w * d, minlength=k)
    weight_totals = np.bincount(units, w, minlength=k)
    estimate = float(np.sum(w * d) / w.sum())

    unit = "clusters" if cluster_codes is not None else "items"
    unit_strata = None
    where = ""
    if strata_codes is not None and int(strata_codes.max()) > 0:
        per_unit = pd.Series(strata_codes).groupby(units).nunique().to_numpy()
        if (per_unit == 1).all():
            unit_strata = np.zeros(k, dtype=np.intp)
            unit_strata[units] = strata_codes
            where = " within strata"
        else:
            where = " across strata (some clusters span strata)"
    method = (
        f"{_HAJEK} of the paired difference; percentile interval from {n_boot} bootstrap resamples "
        f"of whole {unit}{where}"
    )
    tail = round(50 * (1 - confidence), 10)
    plain_boot = bootstrap_distribution(
        lambda idx: d[idx].mean(axis=-1), n, vectorized=True, seed=seed, draws=n_boot
    )
    plain_low, plain_high = (float(q) for q in np.percentile(plain_boot, [tail, 100 - tail]))
    common = {
        "estimate": estimate,
        "n": n,
        "clusters": k if cluster_codes is not None else None,
        "unweighted": float(d.mean()),
        "unweighted_low": plain_low,
        "unweighted_high": plain_high,
        "confidence": confidence,
    }

    sizes = np.bincount(unit_strata) if unit_strata is not None else np.array([k])
    if sizes.max() < 2:
        note = f"one {unit[:-1]} per stratum: resampling cannot vary, so no interval"
        if k == 1:
            note = f"one {unit[:-1]} only: resampling cannot vary, so no interval"
        return DesignEstimate(
            low=None,
            high=None,
            se=None,
            effective_n=None,
            design_effect=None,
            method=f"{method}; no interval",
            note=note,
            **common,
        )
    boot = _cluster_bootstrap(totals, weight_totals, unit_strata, seed, n_boot)
    low, high = (float(q) for q in np.percentile(boot, [tail, 100 - tail]))
    se = float(np.std(boot, ddof=1)) if n_boot > 1 else None
    srs = _srs_variance(d, w, estimate)
    design_effect = se**2 / srs if se is not None and srs else None
    effective_n = n / design_effect if design_effect else None
    return DesignEstimate(
        low=low,
        high=high,
        se=se,
        effective_n=effective_n,
        design_effect=design_effect,
        method=method,
        **common,
    )


# --- what to show -------------------------------------------------------------------------------------------


def differs(estimate: DesignEstimate) -> bool:
    """Whether the weighted and unweighted figures differ enough to show both.

    True when the unweighted point lies outside the weighted interval, or is further from the weighted point
    than half the interval's half-width ((high − low) / 4): a shift a reader would notice next to the
    interval. Without a weighted interval (a single cluster) any difference in the 4th decimal counts.
    """
    gap = abs(estimate.unweighted - estimate.estimate)
    if estimate.low is None or estimate.high is None:
        return round(gap, 4) > 0
    slack = 1e-12  # floating point at the bounds is not a difference
    outside = not estimate.low - slack <= estimate.unweighted <= estimate.high + slack
    return outside or gap > (estimate.high - estimate.low) / 4 + slack


# --- prediction-powered inference with weights --------------------------------------------------------------


def ppi_mean_weighted(
    y_labeled: Sequence[float],
    yhat_labeled: Sequence[float],
    yhat_unlabeled: Sequence[float],
    weights: Sequence[float] | None = None,
    weights_unlabeled: Sequence[float] | None = None,
    alpha: float = 0.05,
    lam: float | None = None,
) -> dict[str, Any]:
    """Prediction-powered estimate of a production mean from weighted samples, with a two-sided 1 − alpha interval.

    :func:`rescue.stats.ppi_mean` (Angelopoulos et al., 2023, Science; PPI++ tuning, Angelopoulos, Duchi and
    Zrnic, 2023) with design weights: ``weights`` on the labelled items, ``weights_unlabeled`` on the
    judge-only items, each normalised to mean 1 as ``ppi-python`` does. The estimate is
    lambda·Hájek mean(yhat_unlabeled) + Hájek mean(y − lambda·yhat), and lambda is tuned (``lam=None``) as
    ``ppi_py.ppi_mean_ci(..., w=, w_unlabeled=)`` tunes it: :func:`rescue.stats.ppi_lambda` on the weighted
    gradients w·(y − θ), w·(yhat − θ) at the lambda-1 estimate θ. The variance of each Hájek mean is its
    linearisation Σ w² (r − r̄_w)² / (Σ w)² (1/n, as ppi-python's unweighted one). **This differs from
    ppi-python's weighted interval**, whose std(w·r) centres w·r at r̄_w rather than w·r̄_w — the
    Hansen–Hurwitz variance of the unnormalised estimator, into which the spread of the weights times r̄
    enters. With all weights equal
    this is :func:`rescue.stats.ppi_mean` exactly. Same dict, same rounding (6 places), same edge cases.
    """
    if len(y_labeled) != len(yhat_labeled):
        raise ValueError(f"{len(y_labeled)} human labels against {len(yhat_labeled)} judge labels")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
    y = np.asarray(y_labeled, dtype=float)
    yhat = np.asarray(yhat_labeled, dtype=float)
    unlabeled = np.asarray(yhat_unlabeled, dtype=float)
    n, big_n = len(y), len(unlabeled)
    for name, arr in (("y_labeled", y), ("yhat_labeled", yhat), ("yhat_unlabeled", unlabeled)):
        if len(arr):
            _values(arr, name)
    w = _weights(weights, n)
    v = _weights(weights_unlabeled, big_n)
    result: dict[str, Any] = {
        "value": None,
        "low": None,
        "high": None,
        "n_labeled": n,
        "n_unlabeled": big_n,
        "lambda": None,
    }
    if n == 0:
        return result
    w = w * n / w.sum()
    v = v * big_n / v.sum() if big_n else v
    if big_n == 0:
        lam = 0.0
    elif lam is None:
        theta = float(np.mean(v * unlabeled) + np.mean(w * (y - yhat)))
        lam = ppi_lambda(w * (y - theta), w * (yhat - theta), v * (unlabeled - theta))
    imputed = float(np.mean(v * lam * unlabeled)) if big_n else 0.0
    rectifier = y - lam * yhat
    rectified = float(np.mean(w * rectifier))
    value = imputed + rectified
    result["value"] = round(value, 6)
    result["lambda"] = round(float(lam), 6)
    if n < 2:
        return result
    imputed_var = float(np.mean((v * (lam * unlabeled - imputed)) ** 2)) / big_n if big_n else 0.0
    rectifier_var = float(np.mean((w * (rectifier - rectified)) ** 2)) / n
    half = float(scipy_stats.norm.ppf(1 - alpha / 2) * math.sqrt(imputed_var + rectifier_var))
    result.update(low=round(value - half, 6), high=round(value + half, 6))
    return result
