"""Prices: prices.yaml first (negotiated, fictional), then the genai-prices database, each naming its source."""

from __future__ import annotations

import pytest

from rescue.prices import lookup, price_table, unknown_model


def test_a_model_in_prices_yaml_is_priced_there() -> None:
    price = lookup("example-llm")
    assert price is not None and (price.input_per_mtok, price.output_per_mtok) == (2.5, 10.0)
    assert price.source == "rescue/prices.yaml" and price.as_of == "2026-11-01"
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


def test_the_cost_of_a_model_the_responses_name(sample_project) -> None:
    """A PoC that names no model in the spec, whose SDK responses say gpt-4o-mini: priced from the database."""
    from rescue.evals.operations import cost_summary
    from rescue.ledger import Call
    from rescue.spec import load_spec

    spec = load_spec(sample_project)
    spec = spec.model_copy(update={"poc": spec.poc.model_copy(update={"model": None})})
    raw = {"model": "gpt-4o-mini", "choices": []}
    calls = [
        Call("d", f"i{i}", "poc", "c", 0, "h", "positive", None, None, 1.0, 1, 1000, 100, raw=raw)
        for i in range(4)
    ]
    cost = cost_summary(spec, calls, [{"text": "x"}] * 4)
    price = lookup("gpt-4o-mini")
    assert cost["price"]["model"] == "gpt-4o-mini" and "genai-prices" in cost["price"]["source"]
    assert (
        cost["per_call_eur"] == round(price.cost_eur(1000, 100), 6)
        and "tokens reported by the PoC" in cost["basis"]
    )
    unknown = cost_summary(spec, [Call("d", "i", "poc", "c", 0, "h", "x", None, None, 1.0, 1, 9, 9,
                                       raw={"model": "no-such-model-xyz"})], [{"text": "x"}])  # fmt: skip
    assert unknown["per_call_eur"] is None and "'no-such-model-xyz' is neither in" in unknown["basis"]
