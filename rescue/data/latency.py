"""How fast a source can be read: connect, first row, point lookup and a small aggregate."""

from __future__ import annotations

import statistics
import time
from typing import Any

import ibis

from .connect import OpenSource, time_limit

PROBES = 15
MIN_PROBES = 5  # point lookups made before the probing may stop
STABLE_SPREAD = 1.5  # stop once the slowest probe is within this factor of the median


def _ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    # nearest-rank percentile: honest with few probes (no interpolation below the worst seen)
    return ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))]


def _repeat(measure: Any, limit: int, at_least: int) -> list[float]:
    """Up to ``limit`` timings of ``measure(i)``, stopping early once more would not change the p95.

    With up to 20 timings the (nearest-rank) p95 is the slowest one. The probing stops after ``at_least``
    timings when they agree (the slowest within STABLE_SPREAD of the median), or when the slowest has
    stood for ``at_least`` further timings; a slow probe is never dropped, and timings that keep
    getting slower get every probe.
    """
    timings: list[float] = []
    slowest = 0  # index of the slowest timing so far
    for i in range(limit):
        timings.append(measure(i))
        if timings[-1] > timings[slowest]:
            slowest = len(timings) - 1
        if len(timings) >= at_least and (
            timings[slowest] <= STABLE_SPREAD * statistics.median(timings)
            or len(timings) - 1 - slowest >= at_least
        ):
            break
    return timings


def probe_latency(
    opened: OpenSource, id_column: str | None, ids: list[Any], probes: int = PROBES
) -> dict[str, Any]:
    """Measure the source where it lives; every probe is a read. Milliseconds, rounded to 0.1.

    ``probes`` is the most point lookups made; they stop after MIN_PROBES when stable (see
    :func:`_repeat`), and ``probes`` in the result says how many ran (``aggregate_probes`` for the
    ``count(*)``, at least 3). With few probes the p95 is the slowest one seen (nearest rank), never an
    interpolation below it.
    """
    t = opened.table
    out: dict[str, Any] = {"connect_ms": round(opened.connect_ms, 1), "probes": 0, "probe_limit": probes}
    with time_limit(opened):
        out["first_row_ms"] = round(_ms(lambda: t.limit(1).to_pyarrow()), 1)
        if id_column and ids and probes > 0:
            col = t[id_column]

            def lookup(i: int) -> float:
                value = ids[i % len(ids)]
                return _ms(lambda: t.filter(col == ibis.literal(value)).limit(1).to_pyarrow())

            lookups = _repeat(lookup, probes, min(MIN_PROBES, probes))
            out["probes"] = len(lookups)
            out["point_lookup_p50_ms"] = round(statistics.median(lookups), 1)
            out["point_lookup_p95_ms"] = round(_p95(lookups), 1)
        else:
            out["point_lookup_p50_ms"] = out["point_lookup_p95_ms"] = None
        aggregates = _repeat(lambda _: _ms(lambda: t.count().execute()), max(3, probes // 3), 3)
        out["aggregate_probes"] = len(aggregates)
        out["aggregate_p50_ms"] = round(statistics.median(aggregates), 1)
        out["aggregate_p95_ms"] = round(_p95(aggregates), 1)
    return out
