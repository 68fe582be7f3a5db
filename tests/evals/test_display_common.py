"""What both kinds of eval position show: p-values in one format, latency and cost in their units."""

from __future__ import annotations

import pytest

from rescue.evals.display.common import operations_lines, p_text, replay_lines
from rescue.evals.operations import comparison_sentence


@pytest.mark.parametrize(
    ("p", "shown", "named"),
    [
        (0.0004, "< 0.001", "p < 0.001"), (0.001, "0.0010", "p = 0.0010"), (0.01293, "0.013", "p = 0.013"),
        (0.0499, "0.050", "p = 0.050"), (0.239, "0.24", "p = 0.24"), (0.7, "0.70", "p = 0.70"),
        (0.123456, "0.12", "p = 0.12"), (1.0, "1.0", "p = 1.0"), (None, "n/a", "p n/a"),
    ],
)  # fmt: skip
def test_p_values_have_two_significant_digits(p, shown, named) -> None:
    assert p_text(p) == shown and p_text(p, named=True) == named


def test_the_comparison_sentence_uses_the_same_p_value_format() -> None:
    difference = {"low": -0.162, "high": -0.078}
    sentence = comparison_sentence(
        974, "items", "the PoC is right less often", difference, "McNemar", 0.012345
    )
    assert "McNemar p = 0.012)" in sentence and "0.0123" not in sentence
    assert "McNemar p < 0.001)" in comparison_sentence(9, "items", "x", difference, "McNemar", 0.00002)
    assert "McNemar p n/a)" in comparison_sentence(9, "items", "x", difference, "McNemar", None)


def test_latency_and_cost_read_in_their_units() -> None:
    pos = {
        "latency": {"p95_ms": 124.3, "p50": {"value": 41.2}, "target_p95_ms": 2000.0},
        "cost": {
            "per_call_eur": 0.0031,
            "per_month_eur": 124.0,
            "monthly_volume": 40000,
            "basis": "fixed price",
        },
        "contract": None,
    }
    latency, cost = operations_lines(pos)
    assert latency == "- Latency of live calls: p50 41 ms, p95 124 ms against a target of 2,000 ms."
    assert cost == "- Cost: €0.0031 a call, €124 a month at 40,000 calls (fixed price)."


@pytest.mark.parametrize(
    ("task", "said"),
    [
        ("classification", "agrees with what production answered"),
        ("generation", "gives production's answer word for word"),
    ],
)
def test_the_replay_line_says_what_agreement_means_for_the_task(task: str, said: str) -> None:
    share = {"value": 0.25, "low": 0.1, "high": 0.5, "n": 8}
    p = {"value": None, "low": None, "high": None}
    replay = {"items": 8, "both_answered": 8, "recorded_missing": 0, "agreement": share,
              "latency_ms": {"production": {"p95": p}, "replay": {"p95": p}},
              "tokens_per_call": {"production": {"input": None}, "replay": {"input": None}}}  # fmt: skip
    (line,) = replay_lines({"task": task, "production_vs_replay": replay})
    assert f"the replay {said} on 25%" in line and "of the 8 inputs both answered" in line
