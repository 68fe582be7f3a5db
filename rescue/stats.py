"""Every statistic the package reports, in one place, on well-kept libraries where one exists.

One seed and one draw count for every resampled interval: ``SEED = 20261125``, ``DRAWS = 2000``. Functions
that take a ``seed`` default to it; no other module of the package draws a bootstrap of its own.

What wraps what:

- :func:`bootstrap_distribution` / :func:`bootstrap_interval` — the one percentile bootstrap over items, on
  ``scipy.stats.bootstrap`` (``method="percentile"``, ``paired=True`` over the item indices,
  ``rng=np.random.default_rng(seed)``). scipy draws ``rng.integers(0, n, (DRAWS, n))`` in one batch, so the
  bootstrap distribution is the one a hand-written loop over those draws gives, bit for bit. Three cases are
  handled here rather than by scipy, each documented where it is: the interval is read off scipy's
  bootstrap distribution with ``np.percentile`` (scipy's own ``scipy.stats.quantile`` interpolates as
  ``(1-g)·a + g·b`` where numpy uses ``a + g·(b-a)``, which differs in the last bits); a single item (scipy
  refuses samples of fewer than two); and draws whose statistic is undefined (nan), which
  ``drop_nan=True`` leaves out before the percentiles (scipy would return nan). :func:`bootstrap_mean`,
  :func:`paired_difference` and :func:`percentile_with_interval` are built on it.
- :func:`wilson` — ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``.
- :func:`mcnemar` — ``statsmodels.stats.contingency_tables.mcnemar``: the exact binomial test below 25
  discordant pairs, the chi-square with continuity correction otherwise.
- :func:`holm` — ``statsmodels.stats.multitest.multipletests(method="holm")``.
- :func:`labels_needed` / :func:`detectable_difference` — ``statsmodels.stats.power.normal_sample_size_one_tail``
  at alpha/2 (the closed form n = 2p(1-p)·((z_{1-alpha/2} + z_power) / difference)²), and its inverse.
  ``NormalIndPower().solve_power`` gives the same answer only to its root finder's tolerance (a relative
  error up to 3e-5 for the effect size, enough to move the 4th decimal) and counts the far tail of the
  two-sided test, so the closed form is used and the tests check it against ``NormalIndPower``.
- :func:`half_width` / :func:`items_for_half_width` — the normal-approximation half-width of a rate's 95%
  interval at n items, and ``statsmodels.stats.proportion.samplesize_confint_proportion`` for its inverse.
- :func:`normal_interval` / :func:`rate_or_mean` — mean ± z·s/√n (as statsmodels' ``DescrStatsW.zconfint_mean``),
  or Wilson for 0/1 data.
- :func:`cohen_kappa` — ``statsmodels.stats.inter_rater.cohens_kappa`` on the two labelers' contingency table
  (held to ``sklearn.metrics.cohen_kappa_score`` by the tests; 30 times faster inside a bootstrap).
- :func:`krippendorff_alpha` — the ``krippendorff`` package's ``alpha(level_of_measurement="nominal")``.
- :func:`ppi_mean` / :func:`ppi_lambda` / :func:`naive_intervals` — prediction-powered inference for a mean
  (Angelopoulos et al., 2023, Science; PPI++ power tuning, Angelopoulos, Duchi and Zrnic, 2023), computed as
  ``ppi-python`` does and tested against it (ppi-python is a test dependency, not a runtime one).

Returned dicts keep one shape, ``{"value", "low", "high", "n"}``, with None where there is nothing to report.
statsmodels is imported by the functions that use it: it takes a second or two to import, and most callers
of this module (everything that reports a rate) do not need it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import krippendorff
import numpy as np
from scipy import stats

SEED = 20261125
DRAWS = 2000


def _empty(n: int = 0) -> dict[str, Any]:
    return {"value": None, "low": None, "high": None, "n": n}


# --- the bootstrap ------------------------------------------------------------------------------------------


def bootstrap_distribution(
    statistic: Callable[[np.ndarray], Any],
    n: int,
    *,
    vectorized: bool = False,
    seed: int = SEED,
    draws: int = DRAWS,
) -> np.ndarray:
    """The statistic on ``draws`` resamples of ``n`` items, drawn with replacement, as scipy draws them.

    ``statistic`` takes the item indices of one resample (a 1-d integer array of length ``n``) and returns a
    number; with ``vectorized=True`` it takes all of them at once (a ``(draws, n)`` array) and returns one
    number per row. The indices are ``np.random.default_rng(seed).integers(0, n, (draws, n))``: what
    ``scipy.stats.bootstrap`` draws, and what this package drew before it used scipy.
    """
    if n < 1:
        raise ValueError("nothing to resample: no items")
    rng = np.random.default_rng(seed)
    if n == 1:
        # scipy.stats.bootstrap refuses a sample of one; every resample is the one item, drawn the same way
        idx = rng.integers(0, n, size=(draws, n))
        values = statistic(idx) if vectorized else [statistic(row) for row in idx]
        return np.asarray(values, dtype=float)

    if vectorized:

        def resampled(i: np.ndarray, axis: int = -1) -> Any:
            return statistic(i)

    else:

        def resampled(i: np.ndarray) -> Any:  # type: ignore[misc]
            return float(statistic(i))

    with warnings.catch_warnings():
        # scipy warns when its own interval is nan (a draw was nan); the interval is not read from it
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (np.arange(n),),
            resampled,
            n_resamples=draws,
            vectorized=vectorized,
            paired=True,
            method="percentile",
            rng=rng,
        )
    return np.asarray(result.bootstrap_distribution, dtype=float)


def bootstrap_interval(
    statistic: Callable[[np.ndarray], Any],
    n: int,
    *,
    vectorized: bool = False,
    confidence: float = 0.95,
    drop_nan: bool = False,
    seed: int = SEED,
    draws: int = DRAWS,
) -> tuple[float, float]:
    """Percentile bootstrap interval (low, high) of a statistic of item indices (see :func:`bootstrap_distribution`).

    The percentiles are numpy's (linear interpolation) on scipy's bootstrap distribution: scipy's own interval
    uses ``scipy.stats.quantile``, equal but for the last bits. With ``drop_nan=True`` the draws where the
    statistic is undefined (nan: e.g. an agreement coefficient on a resample where nothing is labelled
    twice) are left out; if none is left the interval is (nan, nan). Without it a nan draw makes the
    interval nan.
    """
    boot = bootstrap_distribution(statistic, n, vectorized=vectorized, seed=seed, draws=draws)
    if drop_nan:
        boot = boot[~np.isnan(boot)]
        if not len(boot):
            return float("nan"), float("nan")
    tail = round(50 * (1 - confidence), 10)  # 2.5 for 95%, not 2.5000000000000022
    low, high = np.percentile(boot, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_mean(values: Any, seed: int = SEED) -> dict[str, Any]:
    """The mean over items with a percentile bootstrap 95% interval (rounded to 4 places)."""
    arr = np.asarray(values, dtype=float)
    n = len(arr)
    if n == 0:
        return _empty()
    low, high = bootstrap_interval(lambda idx: arr[idx].mean(axis=-1), n, vectorized=True, seed=seed)
    return {"value": round(float(arr.mean()), 4), "low": round(low, 4), "high": round(high, 4), "n": n}


def paired_difference(
    a: Sequence[bool] | Sequence[float], b: Sequence[bool] | Sequence[float], seed: int = SEED
) -> dict[str, Any]:
    """Mean of A minus mean of B on the same items (e.g. two accuracies), with a paired bootstrap 95% interval."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} values against {len(b)}: pairs must match item for item")
    return bootstrap_mean(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), seed)


def percentile_with_interval(values: Sequence[float], q: float, seed: int = SEED) -> dict[str, Any]:
    """A percentile (e.g. of latencies) with a percentile bootstrap 95% interval (rounded to 3 places)."""
    if not len(values):
        return _empty()
    arr = np.asarray(values, dtype=float)
    low, high = bootstrap_interval(
        lambda idx: np.percentile(arr[idx], q, axis=-1), len(arr), vectorized=True, seed=seed
    )
    return {
        "value": round(float(np.percentile(arr, q)), 3),
        "low": round(low, 3),
        "high": round(high, 3),
        "n": len(arr),
    }


# --- rates, tests and sample sizes --------------------------------------------------------------------------


def wilson(successes: int, n: int, confidence: float = 0.95) -> dict[str, Any]:
    """A rate with its Wilson score interval (scipy's binomtest), rounded to 4 places."""
    if n == 0:
        return _empty()
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return {
        "value": round(successes / n, 4),
        "low": round(float(ci.low), 4),
        "high": round(float(ci.high), 4),
        "n": n,
    }


def mcnemar(a_correct: Sequence[bool], b_correct: Sequence[bool], exact_below: int = 25) -> dict[str, Any]:
    """McNemar's test on paired outcomes (statsmodels): exact binomial when discordant pairs are few.

    Below ``exact_below`` discordant pairs the exact binomial test, otherwise the chi-square with continuity
    correction. ``a_only``/``b_only`` count the items only A (only B) got right; the p-value is rounded to 6.
    """
    pairs = list(zip(a_correct, b_correct, strict=True))
    both = sum(1 for a, b in pairs if a and b)
    a_only = sum(1 for a, b in pairs if a and not b)
    b_only = sum(1 for a, b in pairs if b and not a)
    neither = len(pairs) - both - a_only - b_only
    discordant = a_only + b_only
    if discordant == 0:
        return {"a_only": 0, "b_only": 0, "p_value": 1.0, "method": "no discordant pairs"}
    from statsmodels.stats import contingency_tables

    exact = discordant < exact_below
    result = contingency_tables.mcnemar([[both, a_only], [b_only, neither]], exact=exact, correction=True)
    method = "exact binomial" if exact else "chi-square with continuity correction"
    return {"a_only": a_only, "b_only": b_only, "p_value": round(float(result.pvalue), 6), "method": method}


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (statsmodels), in the order given, rounded to 6 places."""
    if not len(p_values):
        return []
    from statsmodels.stats import multitest

    adjusted = multitest.multipletests(list(p_values), method="holm")[1]
    return [round(float(p), 6) for p in adjusted]


def _std_difference(p: float) -> float:
    # standard deviation of a difference between two rates p, one observation per group
    return math.sqrt(2 * p * (1 - p))


def labels_needed(difference: float, p: float = 0.5, alpha: float = 0.05, power: float = 0.8) -> int:
    """Items needed to detect ``difference`` in a rate (two-sided, normal approximation).

    n = 2p(1-p)·((z_{1-alpha/2} + z_power) / difference)², statsmodels' ``normal_sample_size_one_tail`` at
    alpha/2, rounded up.
    """
    from statsmodels.stats.power import normal_sample_size_one_tail

    n = normal_sample_size_one_tail(difference, power, alpha / 2, std_null=_std_difference(p))
    return math.ceil(float(n))


def detectable_difference(n: int, p: float = 0.5, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest difference in a rate detectable at this n (two-sided, normal approximation), rounded to 4.

    The inverse of :func:`labels_needed`: n·difference² is constant, so the difference is the square root of
    (items needed for a difference of 1) / n.
    """
    if n <= 0:
        return None
    from statsmodels.stats.power import normal_sample_size_one_tail

    unit = normal_sample_size_one_tail(1.0, power, alpha / 2, std_null=_std_difference(p))
    return round(math.sqrt(float(unit) / n), 4)


def half_width(n: int, p: float = 0.5, confidence: float = 0.95) -> float:
    """Half-width of the normal-approximation interval on a rate p measured on n items: z·√(p(1-p)/n)."""
    return float(stats.norm.ppf(0.5 + confidence / 2) * math.sqrt(p * (1 - p) / n))


def items_for_half_width(width: float, p: float = 0.5, confidence: float = 0.95) -> int:
    """Items needed for an interval of ± ``width`` on a rate (statsmodels' samplesize_confint_proportion)."""
    from statsmodels.stats.proportion import samplesize_confint_proportion

    return math.ceil(float(samplesize_confint_proportion(p, width, alpha=1 - confidence)))


def normal_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> dict[str, Any]:
    """Mean ± z·s/√n (s with ddof 1), rounded to 4 places; no interval below two values."""
    arr = np.asarray(values, dtype=float)
    n = len(arr)
    if n == 0:
        return _empty()
    mean = float(arr.mean())
    if n < 2:
        return {"value": round(mean, 4), "low": None, "high": None, "n": n}
    half = float(stats.norm.ppf(0.5 + confidence / 2) * arr.std(ddof=1) / math.sqrt(n))
    return {"value": round(mean, 4), "low": round(mean - half, 4), "high": round(mean + half, 4), "n": n}


def rate_or_mean(values: Sequence[float]) -> dict[str, Any]:
    """Wilson interval for 0/1 data, the normal-approximation interval of the mean otherwise (``method`` says)."""
    arr = np.asarray(values, dtype=float)
    if np.isin(arr, (0.0, 1.0)).all():
        return {**wilson(int(arr.sum()), len(arr)), "method": "wilson"}
    return {**normal_interval(arr), "method": "normal"}


# --- agreement ----------------------------------------------------------------------------------------------


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two labelers on the same items (statsmodels' ``cohens_kappa`` on their contingency table;
    the tests hold it to scikit-learn's ``cohen_kappa_score``, which is 30 times slower inside a bootstrap).

    No items: nan. Both labelers gave every item one and the same label: 1.0 (the expected agreement is 1,
    where the libraries return nan: the two agree perfectly, and there is nothing to discount).
    """
    if len(a) != len(b):
        raise ValueError(f"{len(a)} labels against {len(b)}: pairs must match item for item")
    if len(a) == 0:
        return float("nan")
    labels = {v: i for i, v in enumerate(dict.fromkeys([*a, *b]))}
    if len(labels) == 1:
        return 1.0
    from statsmodels.stats.inter_rater import cohens_kappa

    table = np.zeros((len(labels), len(labels)))
    np.add.at(table, ([labels[x] for x in a], [labels[y] for y in b]), 1)
    return float(cohens_kappa(table, return_results=False))


def krippendorff_alpha(units: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha for nominal data (the ``krippendorff`` package).

    ``units`` holds each item's labels, None where a labeler gave none. Labels are coded as integers and the
    items become the columns of the reliability matrix (missing values nan). Fewer than two pairable values
    (no item with two labels): nan. A single value among the pairable ones (no expected disagreement): 1.0.
    """
    codes: dict[Hashable, int] = {}
    pairable: set[int] = set()
    width = max((len(unit) for unit in units), default=0)
    data = np.full((width, len(units)), np.nan)
    for j, unit in enumerate(units):
        values = [codes.setdefault(v, len(codes)) for v in unit if v is not None]
        data[: len(values), j] = values
        if len(values) >= 2:
            pairable.update(values)
    if not pairable:
        return float("nan")
    if len(pairable) == 1:
        return 1.0
    return float(
        krippendorff.alpha(
            reliability_data=data, value_domain=list(range(len(codes))), level_of_measurement="nominal"
        )
    )


# --- prediction-powered inference ---------------------------------------------------------------------------


def ppi_lambda(y: np.ndarray, yhat: np.ndarray, yhat_unlabeled: np.ndarray) -> float:
    """PPI++ power tuning for a mean, as ``ppi_py._calc_lam_glm`` computes it, clipped to [0, 1].

    lambda = cov(Y, Yhat) / ((1 + n/N) var(Yhat over all items)), the covariance over the labelled items with
    1/n, the variance with 1/(n+N-1). A judge that gives every item the same score carries no information and
    gets lambda 0 (ppi-python would return nan).
    """
    n, big_n = len(y), len(yhat_unlabeled)
    covariance = float(np.mean((y - y.mean()) * (yhat - yhat.mean())))
    variance = float(np.var(np.concatenate([yhat, yhat_unlabeled]), ddof=1))
    if variance == 0 or not math.isfinite(variance):
        return 0.0
    return float(np.clip(covariance / ((1 + n / big_n) * variance), 0.0, 1.0))


def ppi_mean(
    y_labeled: Sequence[float],
    yhat_labeled: Sequence[float],
    yhat_unlabeled: Sequence[float],
    alpha: float = 0.05,
    lam: float | None = None,
) -> dict[str, Any]:
    """Prediction-powered estimate of a mean (e.g. a pass rate) with a two-sided 1 - alpha interval.

    ``y_labeled`` are people's scores on the labelled items, ``yhat_labeled`` the judge's scores on the same
    items, ``yhat_unlabeled`` the judge's scores on the items nobody labelled. The estimate is
    lambda·mean(yhat_unlabeled) + mean(y_labeled − lambda·yhat_labeled): the judge's mean corrected by its
    measured error, so the interval stays valid however the judge errs (Angelopoulos et al., 2023, Science).
    With ``lam=None`` lambda is power-tuned (PPI++, Angelopoulos, Duchi and Zrnic, 2023) and clipped to [0, 1],
    exactly as ``ppi_py.ppi_mean_ci(..., lam=None)``: lambda 0 is the human-only estimate, ``lam=1`` classic PPI.
    The interval is the normal approximation with the standard deviations ppi-python uses (1/n).

    Values are rounded to 6 places (so they can be checked against ppi-python). With fewer than two labelled
    items there is no interval (``low``/``high`` None); with none, no estimate.
    """
    if len(y_labeled) != len(yhat_labeled):
        raise ValueError(f"{len(y_labeled)} human labels against {len(yhat_labeled)} judge labels")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
    y = np.asarray(y_labeled, dtype=float)
    yhat = np.asarray(yhat_labeled, dtype=float)
    unlabeled = np.asarray(yhat_unlabeled, dtype=float)
    n, big_n = len(y), len(unlabeled)
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
    if big_n == 0:  # no judge-only items: nothing to add to the people's labels, whatever lam says
        lam = 0.0
    elif lam is None:
        lam = ppi_lambda(y, yhat, unlabeled)
    imputed = lam * unlabeled.mean() if big_n else 0.0
    rectifier = y - lam * yhat
    value = float(imputed + rectifier.mean())
    result["value"] = round(value, 6)
    result["lambda"] = round(float(lam), 6)
    if n < 2:
        return result
    imputed_var = (lam * unlabeled).var() / big_n if big_n else 0.0
    half = float(stats.norm.ppf(1 - alpha / 2) * math.sqrt(imputed_var + rectifier.var() / n))
    result.update(low=round(value - half, 6), high=round(value + half, 6))
    return result


def naive_intervals(y_labeled: Sequence[float], yhat_all: Sequence[float]) -> dict[str, Any]:
    """The two intervals PPI improves on, shown beside it (95%).

    - ``human_only``: the mean of people's labels over the labelled items alone;
    - ``judge_only``: the mean of the judge's scores over all items. **It ignores the judge's errors**: its
      interval only reflects sampling, so it is narrow and, when the judge is biased, wrong.

    0/1 data get Wilson intervals, anything else the normal approximation; ``method`` says which.
    """
    return {"human_only": rate_or_mean(y_labeled), "judge_only": rate_or_mean(yhat_all)}
