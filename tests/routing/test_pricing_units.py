"""Token-count parsing, money formatting, verdict rows, per-answer costs, input validation."""

from decimal import Decimal

import pytest

from routing.pricing import (
    HYBRID,
    SELF_HOST,
    STAY_ON_CLOUD,
    Money,
    PricingInputError,
    TokenUsage,
    cloud_answer_cost,
    cloud_cost,
    decide_verdict,
    format_usd,
    local_answer_cost,
    local_cost,
    parse_token_count,
)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("1200", 1200),
        ("500k", 500_000),
        ("500K", 500_000),
        ("2.5M", 2_500_000),
        ("2.5m", 2_500_000),
        ("1B", 1_000_000_000),
        ("0.5b", 500_000_000),
        (" 3 M ", 3_000_000),
        ("1,000,000", 1_000_000),
        ("1_000", 1000),
        ("0", 0),
        (42, 42),
    ],
)
def test_token_counts_accept_k_m_b_suffixes(text, tokens):
    assert parse_token_count(text) == tokens


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", r"--input-tokens must not be negative, got '-5'"),
        (-5, r"--input-tokens must not be negative, got -5"),
        ("2.5X", r"--input-tokens: unknown suffix 'X' in '2.5X'; use K, M or B"),
        ("3kb", r"unknown suffix 'kb'"),
        ("1.2345k", r"'1.2345k' is not a whole number of tokens"),
        ("2,5M", r"commas that are not thousands separators"),
        ("", r"--input-tokens is empty"),
        ("lots", r"'lots' is not a token count"),
        ("1e6", r"'1e6' is not a token count"),
        (True, r"expected a token count"),
    ],
)
def test_bad_token_counts_say_what_is_wrong(text, message):
    with pytest.raises(PricingInputError, match=message):
        parse_token_count(text, "--input-tokens")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("0.0243"), "$0.0243"),
        (Decimal("0.13"), "$0.13"),
        (Decimal("0.5"), "$0.50"),
        (Decimal("0.000005"), "$0.000005"),
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("-845"), "-$845.00"),
        (Decimal(0), "$0.00"),
        (Money.of(7), "$7.00"),
        (None, "unknown"),
        (Money.unknown("no price"), "unknown"),
    ],
)
def test_format_usd(amount, text):
    assert format_usd(amount) == text


@pytest.mark.parametrize(
    ("tokens", "cloud", "savings", "private", "verdict"),
    [
        (5_000_000, "100", "50", False, STAY_ON_CLOUD),  # <10M: cloud always
        (10_000_000, "100", "50", False, HYBRID),  # 10-50M, $10/1M blended
        (50_000_000, "500", "50", False, HYBRID),  # 50M is still the 10-50M row
        (50_000_001, "500", "50", False, SELF_HOST),  # >50M, mid-tier or higher
        (40_000_000, "20", "5", False, STAY_ON_CLOUD),  # 10-50M, $0.50/1M: cheap model
        (999_999_999, "100", "50", False, STAY_ON_CLOUD),  # cheap model below 1B
        (1_000_000_000, "100", "50", False, SELF_HOST),  # cheap model from 1B
        (900_000_000, "9000", "0", False, STAY_ON_CLOUD),  # local no cheaper: never pays
        (1_000, "1", "-5", True, SELF_HOST),  # privacy: self-host regardless of volume
    ],
)
def test_verdict_follows_seed_001_decision_table(tokens, cloud, savings, private, verdict):
    decided, reason = decide_verdict(
        tokens, Money.of(Decimal(cloud)), Money.of(Decimal(savings)), data_must_stay_local=private
    )
    assert decided == verdict
    assert reason


def test_local_answer_cost_returns_energy_and_amortization_parts():
    # 1,000 J at $0.12/kWh; a $2,000 box over 36 months, busy 2 h/day, answer took 30 s.
    cost = local_answer_cost(
        energy_joules=1000,
        kwh_usd="0.12",
        busy_seconds=30,
        hardware_usd=2000,
        amortize_months=36,
        busy_hours_per_day=2,
    )
    assert cost.energy_usd.usd == Decimal(1000) / Decimal(3_600_000) * Decimal("0.12")
    expected_share = Decimal(2000) / 36 * 30 / (2 * 3600 * 30)
    assert cost.amortization_usd.usd == expected_share
    assert cost.total_usd.usd == cost.energy_usd.usd + cost.amortization_usd.usd


def test_provider_reported_cost_is_preferred_and_the_estimate_kept():
    usage = TokenUsage(input_tokens=5600, output_tokens=500)
    answer = cloud_answer_cost(
        "claude-3-5-sonnet", reported_usage=usage, reported_cost_usd="0.0250"
    )
    assert answer.billed_usd.usd == Decimal("0.0250")
    assert answer.catalog_estimate_usd.usd == Decimal("0.0243")
    assert answer.basis == "provider-reported cost"


def test_provider_reported_usage_beats_our_token_estimate():
    answer = cloud_answer_cost(
        "gpt-4o",
        reported_usage=TokenUsage(1_000_000, 0),
        estimated_usage=TokenUsage(900_000, 0),
    )
    assert answer.billed_usd.usd == Decimal("2.50")
    assert answer.basis == "catalog price x provider-reported usage"


def test_openai_usage_objects_are_read_with_cached_tokens():
    chat = {
        "prompt_tokens": 1000,
        "completion_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 600},
    }
    responses = {
        "input_tokens": 1000,
        "output_tokens": 20,
        "input_tokens_details": {"cached_tokens": 600},
    }
    assert TokenUsage.from_openai_usage(chat) == TokenUsage(1000, 20, 600)
    assert TokenUsage.from_openai_usage(responses) == TokenUsage(1000, 20, 600)
    assert TokenUsage.from_openai_usage({"prompt_tokens": 5, "completion_tokens": 1}) == TokenUsage(
        5, 1
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cloud_cost("gpt-4o", 10, 10, cached_input_tokens=11), r"cannot exceed input"),
        (lambda: cloud_cost("gpt-4o", -1, 10), r"input_tokens must not be negative"),
        (lambda: local_cost(1000, 0, 100, 8, "0.1"), r"amortization months must be more than 0"),
        (lambda: local_cost(1000, 12, 100, 25, "0.1"), r"hours per day cannot exceed 24"),
        (lambda: local_cost(1000, 12, -100, 8, "0.1"), r"watts must not be negative"),
        (lambda: local_cost(1000, 12, "NaN", 8, "0.1"), r"watts must be a finite number"),
        (lambda: local_cost("lots", 12, 100, 8, "0.1"), r"hardware price must be a number"),
    ],
)
def test_bad_numbers_are_refused(call, message):
    with pytest.raises(PricingInputError, match=message):
        call()
