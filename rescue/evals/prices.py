"""Moved to :mod:`rescue.prices` (plumbing: Day 2 prices production traces too); re-exported for old imports."""

from __future__ import annotations

from ..prices import PRICES, Price, lookup, price_table, unknown_model

__all__ = ["PRICES", "Price", "lookup", "price_table", "unknown_model"]
