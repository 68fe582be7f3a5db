"""How fast a source can be read: connect, first row, point lookup and a small aggregate."""

from __future__ import annotations

import statistics
import time
from typing import Any

import ibis

from .connect import OpenSource, time_limit

PROBES = 15


def _ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    # nearest-rank percentile: honest with few probes (no interpolation below the worst seen)
    return ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))]


def probe_latency(
    opened: OpenSource, id_column: str | None, ids: list[Any], probes: int = PROBES
) -> dict[str, Any]:
    """Measure the source where it lives; every probe is a read. Milliseconds, rounded to 0.1."""
    t = opened.table
    out: dict[str, Any] = {"connect_ms": round(opened.connect_ms, 1), "probes": probes}
    with time_limit(opened):
        out["first_row_ms"] = round(_ms(lambda: t.limit(1).to_pyarrow()), 1)
        if id_column and ids:
            col = t[id_column]

            def lookup(value: Any) -> float:
                return _ms(lambda: t.filter(col == ibis.literal(value)).limit(1).to_pyarrow())

            lookups = [lookup(ids[i % len(ids)]) for i in range(probes)]
            out["point_lookup_p50_ms"] = round(statistics.median(lookups), 1)
            out["point_lookup_p95_ms"] = round(_p95(lookups), 1)
        else:
            out["point_lookup_p50_ms"] = out["point_lookup_p95_ms"] = None
        aggregates = [_ms(lambda: t.count().execute()) for _ in range(max(3, probes // 3))]
        out["aggregate_p50_ms"] = round(statistics.median(aggregates), 1)
        out["aggregate_p95_ms"] = round(_p95(aggregates), 1)
    return out
