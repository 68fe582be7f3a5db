"""Latency probing: stops early only when the probes agree, and says how many ran."""

from __future__ import annotations

from rescue.data.latency import MIN_PROBES, _p95, _repeat


def test_stable_probes_stop_after_the_minimum() -> None:
    assert len(_repeat(lambda i: 10.0 + (i % 2), 15, MIN_PROBES)) == MIN_PROBES


def test_one_slow_probe_keeps_the_probing_going_until_it_has_stood() -> None:
    timings = _repeat(lambda i: 80.0 if i == 2 else 10.0, 15, MIN_PROBES)
    assert len(timings) == 3 + MIN_PROBES  # five more probes after it, none slower
    assert _p95(timings) == 80.0  # the outlier is the p95, never averaged away


def test_ever_slower_probes_get_every_probe_but_never_more_than_the_limit() -> None:
    assert len(_repeat(lambda i: float(i + 1) ** 3, 15, MIN_PROBES)) == 15
    assert len(_repeat(lambda i: [10.0, 40.0][i % 2] + i, 15, MIN_PROBES)) == 15
    assert len(_repeat(lambda i: 1.0, 3, 3)) == 3
