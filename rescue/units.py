"""Numbers as a reader reads them: milliseconds, euros, shares, scores and counts, each in one way on every page."""

from __future__ import annotations

import math


def significant(value: float, digits: int, min_decimals: int = 0) -> str:
    """``value`` rounded to ``digits`` significant digits (at least ``min_decimals`` decimals), never in
    exponent notation."""
    if value == 0:
        return "0"
    decimals = max(min_decimals, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def quantity(value: float, unit: str) -> str:
    """A measured value as a reader reads it, in its unit (the ``unit`` of a catalogue check's rule).

    ``ms``: ``"2,000 ms"``, ``"124 ms"``, ``"9.1 ms"``, ``"0.078 ms"``; ``eur``: ``"€1,234"``, ``"€48"``,
    ``"€12.50"``, ``"€0.10"``, ``"€0.0031"``; ``share`` (a rate of 0–1): ``"62%"``, ``"99.5%"``; ``score``
    (0–1): ``"0.41"``; ``count``: ``"974"``; any other unit counts that thing: ``"40,000 calls"``.
    """
    if unit == "ms":
        return f"{value:,.0f} ms" if abs(value) >= 100 else f"{significant(value, 2)} ms"
    if unit == "eur":
        if abs(value) >= 1000:
            return f"€{value:,.0f}"
        if abs(value) >= 1:
            return f"€{value:,.2f}".removesuffix(".00")
        shown = significant(value, 2, min_decimals=2)
        while shown.endswith("0") and len(shown.split(".")[1]) > 2:  # €0.01, not €0.010; €0.10 stays
            shown = shown[:-1]
        return f"€{shown}"
    if unit == "share":
        return f"{value * 100:.1f}".removesuffix(".0") + "%"
    if unit == "score":
        return f"{value:.2f}"
    count = f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"
    return count if unit == "count" else f"{count} {unit}"
