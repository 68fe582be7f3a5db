"""Numbers read one way on every page: ms, EUR, shares, scores, counts."""

from __future__ import annotations

import pytest

from rescue.units import quantity


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (2000, "ms", "2,000 ms"), (124.3, "ms", "124 ms"), (9.1, "ms", "9.1 ms"), (0.078, "ms", "0.078 ms"),
        (0.0031, "eur", "€0.0031"), (0.000501, "eur", "€0.0005"), (0.01, "eur", "€0.01"), (0.1, "eur", "€0.10"),
        (12.5, "eur", "€12.50"), (48.0, "eur", "€48"), (1234.4, "eur", "€1,234"), (0.62, "share", "62%"), (0.995, "share", "99.5%"),
        (0.4081, "score", "0.41"), (974, "count", "974"), (40000, "calls", "40,000 calls"),
    ],
)  # fmt: skip
def test_quantities_read_in_their_unit(value, unit, shown) -> None:
    assert quantity(value, unit) == shown
