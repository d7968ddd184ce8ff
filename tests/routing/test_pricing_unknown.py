"""An unknown price stays unknown through every path: never $0, never silently dropped."""

from datetime import date

import pytest

from routing.pricing import (
    VERDICT_UNKNOWN,
    Money,
    PriceCatalog,
    breakeven,
    cloud_cost,
    format_price,
    format_usd,
    load_default_catalog,
    local_answer_cost,
    local_cost,
)
from routing.pricing.catalog import ModelPrice
from routing.pricing.money import Price


@pytest.fixture
def catalog_with_unknown_output():
    entries = load_default_catalog().entries()
    entries["mystery"] = ModelPrice(
        model_id="mystery",
        provider="acme",
        input=Price.unknown(),
        output=Price.unknown(),
        cached_input=Price.unknown(),
        batch_discount=None,
        as_of=date(2026, 11, 1),
        source="test",
    )
    return PriceCatalog(entries)


def test_unknown_cached_price_makes_the_total_unknown_only_when_cached_tokens_exist():
    # gemini-2.5-flash: no source in the catalog gives its cached-input price.
    with_cache = cloud_cost("gemini-2.5-flash", 1000, 100, cached_input_tokens=400)
    assert not with_cache.cloud_usd.is_known
    assert (
        "cached-input price of gemini-2.5-flash is unknown" in with_cache.cloud_usd.unknown_reason
    )
    assert with_cache.uncached_input_usd.is_known  # the known parts are still reported
    without_cache = cloud_cost("gemini-2.5-flash", 1000, 100)
    assert without_cache.cloud_usd.is_known


def test_unknown_batch_discount_makes_a_batch_estimate_unknown():
    result = cloud_cost("deepseek-v3.2", 1000, 100, batch=True)
    assert not result.cloud_usd.is_known
    assert "batch discount of deepseek-v3.2 is unknown" in result.cloud_usd.unknown_reason


def test_unknown_parts_are_named_once_in_the_reason(catalog_with_unknown_output):
    total = cloud_cost("mystery", 10, 10, catalog=catalog_with_unknown_output).cloud_usd
    assert total.unknown_reason == (
        "input price of mystery is unknown; output price of mystery is unknown"
    )


def test_unknown_prints_as_unknown_never_as_zero():
    assert format_usd(Money.unknown("x")) == "unknown"
    assert format_price(Price.unknown()) == "unknown"
    assert (Money.of(5) + Money.unknown("x")).usd is None


def test_breakeven_against_an_unknown_price_is_unknown_not_never(catalog_with_unknown_output):
    result = breakeven(
        "mystery", 60_000_000, 10_000_000, 2000, 10, catalog=catalog_with_unknown_output
    )
    assert result.cloud_monthly_usd.usd is None
    assert result.savings_monthly_usd.usd is None
    assert result.breakeven_months is None
    assert result.local_is_cheaper is None
    assert result.verdict == VERDICT_UNKNOWN


def test_local_cost_per_token_is_unknown_without_a_volume():
    assert not local_cost(1800, 36, 350, 8, "0.16").usd_per_million_tokens.is_known
    assert not local_cost(
        1800, 36, 350, 8, "0.16", tokens_per_day=0
    ).usd_per_million_tokens.is_known


def test_unmeasured_energy_leaves_the_answer_cost_unknown_but_keeps_the_hardware_share():
    cost = local_answer_cost(
        energy_joules=None,
        kwh_usd="0.16",
        busy_seconds=12,
        hardware_usd=3000,
        amortize_months=36,
        busy_hours_per_day=4,
    )
    assert not cost.energy_usd.is_known
    assert cost.amortization_usd.is_known
    assert not cost.total_usd.is_known
    assert format_usd(cost.total_usd) == "unknown"


def test_no_busy_hours_leaves_the_hardware_share_unknown():
    cost = local_answer_cost(
        energy_joules=500,
        kwh_usd="0.16",
        busy_seconds=12,
        hardware_usd=3000,
        amortize_months=36,
        busy_hours_per_day=0,
    )
    assert cost.energy_usd.is_known
    assert not cost.amortization_usd.is_known


def test_an_unset_tariff_or_hardware_price_leaves_only_that_part_unknown():
    no_tariff = local_answer_cost(
        energy_joules=500, kwh_usd=None, busy_seconds=12, hardware_usd=3000,
        amortize_months=36, busy_hours_per_day=4,
    )
    assert no_tariff.energy_usd.unknown_reason == "electricity price per kWh not set"
    assert no_tariff.amortization_usd.is_known
    no_hardware = local_answer_cost(
        energy_joules=500, kwh_usd="0.16", busy_seconds=12, hardware_usd=None,
        amortize_months=36, busy_hours_per_day=4,
    )
    assert no_hardware.energy_usd.is_known
    assert no_hardware.amortization_usd.unknown_reason == "hardware price not set"
    assert format_usd(no_hardware.total_usd) == "unknown"
