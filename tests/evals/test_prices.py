"""Prices: prices.yaml first (negotiated, fictional), then the genai-prices database, each naming its source."""

from __future__ import annotations

import pytest

from rescue.evals.prices import lookup, price_table, unknown_model


def test_a_model_in_prices_yaml_is_priced_there() -> None:
    price = lookup("example-llm")
    assert price is not None and (price.input_per_mtok, price.output_per_mtok) == (2.5, 10.0)
    assert price.source == "rescue/evals/prices.yaml" and price.as_of == "2026-11-01"
    assert price.cost_eur(1_000_000, 100_000) == pytest.approx(3.5)


def test_a_real_model_is_priced_from_the_database_in_eur_and_says_so() -> None:
    from genai_prices import Usage, calc_price

    price = lookup("gpt-4o-mini")
    assert price is not None and price.provider == "OpenAI"
    usd = calc_price(
        Usage(input_tokens=1_000_000, output_tokens=1_000_000), model_ref="gpt-4o-mini"
    ).total_price
    rate = price_table()["usd_to_eur"]["rate"]
    assert price.input_per_mtok + price.output_per_mtok == pytest.approx(float(usd) * rate)
    assert "genai-prices" in price.source and f"{rate:g} EUR per USD" in price.source
    assert "per million input / output tokens" in price.describe()


def test_an_unknown_model_says_how_to_add_it() -> None:
    assert lookup("no-such-model-xyz") is None and lookup(None) is None
    assert "add it to prices.yaml" in unknown_model("no-such-model-xyz")
    assert "set poc.model" in unknown_model(None)
