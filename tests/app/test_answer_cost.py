"""The hardware share of one local answer: the purchase price amortised over the machine's
expected life and use (docs/COST_MATH.md), the same on the first day as on the thousandth."""

from decimal import Decimal

from app.config import Settings
from app.metering.answer_cost import AnswerPricer
from app.store.ledger import usd_to_nanos
from routing.pricing import load_default_catalog


def _price(settings: Settings, seconds: float):
    pricer = AnswerPricer(settings, catalog=load_default_catalog)
    return pricer.price_local(joules=None, seconds=seconds, prompt_tokens=20,
                              completion_tokens=67)


def test_day_one_answer_carries_its_share_of_the_machines_life_not_of_one_day() -> None:
    # The case: a 67-token answer of about 2 s on a fresh install was billed
    # $0.9153 of hardware. Over 3 years at the default 30% use it is a small fraction of
    # a cent: $2,000 / (36 months x 30 days x 7.2 h x 3,600 s) x 2 s.
    cost = _price(Settings(hardware_usd=2000), seconds=2.0)
    expected = Decimal(2000) / (36 * 30 * Decimal("7.2") * 3600) * 2
    assert usd_to_nanos(cost.hardware_usd.usd) == usd_to_nanos(expected)
    assert cost.hardware_usd.usd < Decimal("0.001")
    assert cost.notes["hardware"] == (
        "$2,000.00 over 36 months (3 years) at 7.2 busy h/day (30% use, default) = "
        "7,776 busy hours; this answer 2.00 s")


def test_the_life_and_use_settings_change_the_share_in_proportion() -> None:
    base = _price(Settings(hardware_usd=1500), seconds=3.0).hardware_usd.usd
    # Half the life, or half the hours of use a day, doubles each answer's share.
    shorter = _price(Settings(hardware_usd=1500, amortize_months=18), seconds=3.0)
    fewer = _price(Settings(hardware_usd=1500, busy_hours_per_day=3.6), seconds=3.0)
    assert usd_to_nanos(shorter.hardware_usd.usd) == usd_to_nanos(base * 2)
    assert usd_to_nanos(fewer.hardware_usd.usd) == usd_to_nanos(base * 2)
    assert "3.6 busy h/day (15% use, settings)" in fewer.notes["hardware"]
    assert "18 months (1.5 years)" in shorter.notes["hardware"]


def test_without_a_hardware_price_the_share_is_unknown_never_zero() -> None:
    cost = _price(Settings(), seconds=2.0)
    assert cost.hardware_usd.usd is None
    assert cost.notes["hardware"] == "unknown: hardware price not set"
