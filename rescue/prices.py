"""What a model's tokens cost: ``prices.yaml`` (negotiated rates, fictional models) first, then the price
database of ``genai-prices`` (a well-kept snapshot of providers' list prices, bundled with the package: nothing
is fetched at run time).

Every price says where it comes from and as of when; a price in USD is converted at the rate ``prices.yaml``
states (``usd_to_eur``), and the conversion is named too. An unknown model says so and how to add it.

Plumbing, not a day: Day 4 prices the calls it measures on replay, Day 2 the calls production traces record.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

PRICES = Path(__file__).parent / "prices.yaml"


@cache
def price_table() -> dict[str, Any]:
    """The price table (``prices.yaml``): EUR per million input and output tokens, per model, and the USD rate."""
    return yaml.safe_load(PRICES.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Price:
    """A model's price: EUR per million input and output tokens, and where that comes from."""

    model: str
    input_per_mtok: float
    output_per_mtok: float
    source: str
    as_of: str
    provider: str | None = None

    def cost_eur(self, tokens_in: float, tokens_out: float) -> float:
        """What ``tokens_in`` and ``tokens_out`` cost at this price, in EUR."""
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6

    def as_record(self) -> dict[str, Any]:
        """The price as an artifact records it (``PriceUsed``)."""
        return {"model": self.model, "source": self.source, "as_of": self.as_of,
                "input_per_mtok_eur": self.input_per_mtok, "output_per_mtok_eur": self.output_per_mtok}  # fmt: skip

    def describe(self) -> str:
        """The price as a reader needs it: per million tokens, its source and date."""
        where = f" ({self.provider})" if self.provider else ""
        return (f"{self.model}{where} at €{self.input_per_mtok:g} / €{self.output_per_mtok:g} per million input / "
                f"output tokens — {self.source}, as of {self.as_of}")  # fmt: skip


def unknown_model(model: str | None) -> str:
    """Why a cost is unknown, and how to make it known."""
    if not model:
        return (
            "unknown: the PoC names no model (set poc.model) and has no fixed price (poc.cost_per_call_eur)"
        )
    return (f"unknown: {model!r} is neither in rescue/prices.yaml nor in the genai-prices database; add it to "
            "prices.yaml (EUR per million input and output tokens) or set poc.cost_per_call_eur")  # fmt: skip


def _genai_prices_version() -> str:
    try:
        return version("genai-prices")
    except PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "?"


@cache
def lookup(model: str | None, provider_url: str | None = None) -> Price | None:
    """The price of ``model`` (as the responses name it): ``prices.yaml``'s when it lists the model, else the
    genai-prices database's list price (matched on the model name, and the provider's URL when known)."""
    if not model:
        return None
    table = price_table()
    own = table.get("models", {}).get(model)
    if own:
        return Price(model, float(own["input_per_mtok"]), float(own["output_per_mtok"]),
                     "rescue/prices.yaml", str(table.get("as_of", "?")))  # fmt: skip
    try:
        from genai_prices import Usage, data_snapshot

        snapshot = data_snapshot.get_snapshot()
        provider, _ = snapshot.find_provider_model(model, None, None, provider_url)
        per_in = snapshot.calc(
            Usage(input_tokens=1_000_000, output_tokens=0), model, provider.id, provider_url, None
        )
        per_out = snapshot.calc(
            Usage(input_tokens=0, output_tokens=1_000_000), model, provider.id, provider_url, None
        )
    except Exception:  # a model the database does not know (it raises LookupError, among others)
        return None
    rate = table.get("usd_to_eur") or {}
    usd_to_eur = float(rate.get("rate", 1.0))
    source = (f"genai-prices {_genai_prices_version()} list price in USD, at {usd_to_eur:g} EUR per USD "
              f"(prices.yaml usd_to_eur, {rate.get('source', 'no source given')})")  # fmt: skip
    return Price(model, float(per_in.total_price) * usd_to_eur, float(per_out.total_price) * usd_to_eur, source,
                 str(rate.get("as_of", "?")), provider.name)  # fmt: skip
