"""Day 4's headline as the sample was drawn: Day 3's weights and strata, the clusters eval.cluster names, and the
sentence the page shows."""

from __future__ import annotations

import pytest

from rescue.errors import RescueError
from rescue.evals.display.common import design_lines
from rescue.evals.weighting import design_summary
from rescue.spec import load_spec
from tests.conftest import copy_sample


@pytest.fixture
def spec(tmp_path):
    return load_spec(copy_sample(tmp_path / "p"))


def _clustered(spec, field: str | None):
    """The spec with eval.cluster set to ``field`` (specs are frozen)."""
    return spec.model_copy(update={"eval": spec.eval.model_copy(update={"cluster": field})})


def _items(n_a: int, n_b: int, w_a: float, w_b: float) -> list[dict]:
    return [
        {"item_id": f"a{i}", "stratum": "crm", "weight": w_a, "doc": f"d{i // 4}"} for i in range(n_a)
    ] + [{"item_id": f"b{i}", "stratum": "web", "weight": w_b, "doc": f"e{i // 4}"} for i in range(n_b)]


def test_day3_weights_move_the_estimate_to_productions_mix(spec) -> None:
    # 20 items from a stratum of 900 (right 18 times), 20 from a stratum of 100 (right 4 times)
    items = _items(20, 20, 900 / 20, 100 / 20)
    right = [1.0] * 18 + [0.0] * 2 + [1.0] * 4 + [0.0] * 16
    d = design_summary(spec, items, "accuracy", right)
    # by hand: (900 * 18/20 + 100 * 4/20) / 1000 = (810 + 20) / 1000
    assert d["estimate"]["estimate"] == pytest.approx(0.83)
    assert d["estimate"]["unweighted"] == pytest.approx(22 / 40)
    assert d["weighted"] and d["strata"] == 2 and d["differs"]
    line = design_lines({"design": d})[0]
    assert "accuracy 0.83" in line and "weighted by Day 3's 2 strata" in line and "unweighted 0.55" in line


def test_clusters_widen_the_interval_and_say_what_they_cost(spec) -> None:
    items = _items(40, 0, 1.0, 1.0)
    right = [float(i // 4 % 2) for i in range(40)]  # whole documents right or wrong: the strongest clustering
    clustered = design_summary(_clustered(spec, "doc"), items, "accuracy", right, baseline=[0.5] * 40)
    plain = design_summary(spec, items, "accuracy", right)
    c, p = clustered["estimate"], plain["estimate"]
    assert c["clusters"] == 10 and p["clusters"] is None and not clustered["weighted"]
    assert (
        c["high"] - c["low"] > 1.5 * (p["high"] - p["low"]) > 0
        and c["design_effect"] > 3
        and p["design_effect"] == 1
    )
    assert clustered["difference"]["clusters"] == 10
    line = design_lines({"design": clustered})[0]
    assert "10 clusters of `doc`" in line and "cluster bootstrap" in line
    assert design_lines({"design": plain}) == [
        "- **As sampled**: every item stands for itself (no weights, no clusters: a simple random sample, so the "
        "intervals above are the design's; set `eval.cluster` when items come in groups)."
    ]


def test_a_cluster_field_the_items_lack_is_named(spec) -> None:
    with pytest.raises(RescueError, match="eval.cluster names 'session', which 40 of 40 eval items lack"):
        design_summary(_clustered(spec, "session"), _items(40, 0, 1.0, 1.0), "accuracy", [1.0] * 40)
