"""Day 4's headline weighted back to production, as the eval sample was drawn: Day 3's weights and strata, and the
clusters ``eval.cluster`` names (:mod:`rescue.evals.design` computes; this says what was computed, from what).

An item labeled in Day 3 carries its stratum and its weight (the production items it stands for); an item from
the labels file stands for itself (weight 1, one stratum). With ``eval.cluster`` set, items sharing that field's
value are one cluster (turns of one session, questions about one drug): the interval counts clusters, not items,
and the design effect says how much the clustering cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import RescueError
from ..ledger import Call
from ..spec import Spec
from ..stats import percentile_with_interval, wilson
from ..systems import output_field
from .design import differs, paired_difference, weighted_mean


def _design(
    spec: Spec, items: list[dict[str, Any]]
) -> tuple[list[float] | None, list[str] | None, list[str] | None]:
    """Each item's weight and the strata (both None when every item stands for itself) and the clusters (None
    without ``eval.cluster``); an item without the cluster field is an error naming it."""
    weights: list[float] | None = [float(it.get("weight") or 1.0) for it in items]
    if all(w == 1.0 for w in weights or []):
        weights = None
    strata = [str(it.get("stratum") or "all") for it in items] if weights is not None else None
    field = spec.eval.cluster
    if field is None:
        return weights, strata, None
    missing = [str(it["item_id"]) for it in items if it.get(field) in (None, "")]
    if missing:
        fields = sorted({k for it in items[:1] for k in it if k not in ("text", "label")})
        raise RescueError(
            f"eval.cluster names {field!r}, which {len(missing):,} of {len(items):,} eval items lack "
            f"(e.g. {missing[0]}): expected an item field such as {', '.join(fields)}"
        )
    return weights, strata, [str(it[field]) for it in items]


def design_summary(spec: Spec, items: list[dict[str, Any]], metric: str, poc: Sequence[float],
                   baseline: Sequence[float] | None = None) -> dict[str, Any]:  # fmt: skip
    """The PoC's per-item ``metric`` (1/0 for right/wrong, or a score) over production, and its difference from
    the baseline on the same items, each with the design-based interval, the design effect and the unweighted
    figure beside it (no finite population correction: see below)."""
    weights, strata, clusters = _design(spec, items)
    # no finite population correction: the question is how the PoC does on the production traffic to come, of
    # which today's population is itself a sample (a census of today's items would otherwise show no uncertainty)
    estimate = weighted_mean(poc, weights, strata, clusters, fpc=False)
    difference = None
    if baseline is not None:
        difference = paired_difference(poc, baseline, weights, strata, clusters).to_dict()
    return {
        "metric": metric,
        "weighted": strata is not None,
        "weights": "Day 3's sampling weights (each item stands for the production items of its stratum)"
        if strata is not None
        else "none: every item stands for itself (the labels file, or a census)",
        "strata": None if strata is None else len(set(strata)),
        "cluster": spec.eval.cluster,
        "estimate": estimate.to_dict(),
        "difference": difference,
        "differs": differs(estimate),
    }


def _floats(values: list[Any]) -> list[float]:
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if f == f:  # not NaN
            out.append(f)
    return out


def production_vs_replay(items: list[dict[str, Any]], replay: list[Call], recorded: list[Call],
                         field: str) -> dict[str, Any]:  # fmt: skip
    """The PoC replayed on production's inputs against what production recorded for them (``baseline:
    recorded``): how often the two answers agree (the label, or the answer's text), and latency and tokens per
    call on each side (production's from its traces, the replay's as measured)."""
    both = [(r, p) for r, p in zip(replay, recorded, strict=True) if r.ok and p.ok]
    agree = sum(1 for r, p in both if output_field(r.output, field) == output_field(p.output, field))
    live = [c.latency_ms for c in replay if c.ok and c.latency_ms is not None and not c.cached]
    traced = _floats([it.get("recorded_latency_ms") for it in items])
    tokens = {
        "production": {"input": _floats([it.get("recorded_tokens_in") for it in items]),
                       "output": _floats([it.get("recorded_tokens_out") for it in items])},
        "replay": {"input": [float(c.tokens_in) for c in replay if c.ok and c.tokens_in is not None],
                   "output": [float(c.tokens_out) for c in replay if c.ok and c.tokens_out is not None]},
    }  # fmt: skip
    return {
        "items": len(items),
        "both_answered": len(both),
        "recorded_missing": sum(1 for p in recorded if not p.ok),
        "agreement": wilson(agree, len(both)),
        "latency_ms": {
            "production": {"p50": percentile_with_interval(traced, 50), "p95": percentile_with_interval(traced, 95)},
            "replay": {"p50": percentile_with_interval(live, 50), "p95": percentile_with_interval(live, 95)},
        },
        "tokens_per_call": {side: {k: None if not v else round(sum(v) / len(v), 1) for k, v in t.items()}
                            for side, t in tokens.items()},
    }  # fmt: skip
