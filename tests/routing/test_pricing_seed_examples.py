"""The calculator against the seed articles' worked examples (shared/seeds/).

Each test cites the article and figure. Where the article's own arithmetic is consistent the
test asserts the article's number; where it is not, the test asserts the consistent number
and says what the article printed (docs/COST_MATH.md lists those cases with the arithmetic).
"""

import math
from decimal import ROUND_DOWN, Decimal

import pytest

from routing.pricing import (
    DAYS_PER_MONTH,
    HYBRID,
    SELF_HOST,
    STAY_ON_CLOUD,
    breakeven,
    cloud_cost,
    cost_per_million_tokens,
    energy_monthly_usd,
    local_answer_cost,
    local_cost,
)

M = 1_000_000


def usd(text):
    return Decimal(text)


def truncate_to(value, places):
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def test_month_is_thirty_days():
    # The convention that reproduces seed 003's $450/$1,500/$2,700 and $0.079 and seed 002's
    # $7,200 exactly (see the tests below); 30.4 days would miss each by 1.3%.
    assert DAYS_PER_MONTH == 30


# ------------------------------------------------------------ seed 001 (undated, 2026)

# Scenario 1, "Replacing GPT-5 nano with local Llama 8B": RTX 4060 Ti $400 + $5/month.
# (input, output, GPT-5 nano cost, break-even months or None for "Never", verdict)
SCENARIO_1 = [
    (1 * M, 200_000, "0.13", None, STAY_ON_CLOUD),
    (10 * M, 2 * M, "1.30", None, STAY_ON_CLOUD),
    # The article prints "~36 months"; $400 / ($13.00 - $5.00) is 50 months.
    (100 * M, 20 * M, "13.00", "50", STAY_ON_CLOUD),
    # "~3 months": $400 / ($130 - $5) = 3.2.
    (1000 * M, 200 * M, "130.00", "3.2", SELF_HOST),
]


@pytest.mark.parametrize(("inp", "out", "cloud", "months", "verdict"), SCENARIO_1)
def test_seed001_scenario1_gpt5_nano_vs_rtx_4060_ti(inp, out, cloud, months, verdict):
    result = breakeven("gpt-5-nano", inp, out, hardware_usd=400, local_monthly_usd=5)
    assert result.cloud_monthly_usd.usd == usd(cloud)
    if months is None:
        assert result.breakeven_months is None and result.local_is_cheaper is False
    else:
        assert result.breakeven_months == usd(months)
    assert result.verdict == verdict


# Scenario 2, "Replacing Claude Sonnet 4.5 with local Llama 70B": RTX 4090 $2,000 + $10/month.
SCENARIO_2 = [
    # The article prints "~200 months", which is $2,000 / $10.50 with the $10 of electricity
    # left out; with it, $2,000 / $0.50 = 4,000 months.
    (1 * M, 500_000, "10.50", "4000", STAY_ON_CLOUD),
    (10 * M, 5 * M, "105", "21.05", HYBRID),  # "~20 months"
    (50 * M, 25 * M, "525", "3.88", SELF_HOST),  # "~4 months"
    (100 * M, 50 * M, "1050", "1.92", SELF_HOST),  # "~2 months", "under 2 months"
]


@pytest.mark.parametrize(("inp", "out", "cloud", "months", "verdict"), SCENARIO_2)
def test_seed001_scenario2_sonnet_45_vs_rtx_4090(inp, out, cloud, months, verdict):
    result = breakeven("claude-sonnet-4-5", inp, out, hardware_usd=2000, local_monthly_usd=10)
    assert result.cloud_monthly_usd.usd == usd(cloud)
    assert round(result.breakeven_months, 2) == usd(months)
    assert result.verdict == verdict


def test_seed001_scenario3_rented_a100_at_950_a_month():
    # "10M/5M: $105 vs $950 -> Cloud API"
    small = breakeven("claude-sonnet-4-5", 10 * M, 5 * M, hardware_usd=0, local_monthly_usd=950)
    assert small.verdict == STAY_ON_CLOUD and small.breakeven_months is None
    # "500M/250M: $5,250 vs $950 -> Rented GPU (5.5x cheaper)"; "saving $4,300 per month"
    large = breakeven("claude-sonnet-4-5", 500 * M, 250 * M, hardware_usd=0, local_monthly_usd=950)
    assert large.cloud_monthly_usd.usd == usd("5250")
    assert large.savings_monthly_usd.usd == usd("4300")
    assert round(large.cloud_monthly_usd.usd / 950, 1) == usd("5.5")
    assert large.verdict == SELF_HOST


def test_seed001_rented_gpu_crossover_near_90m_input_tokens():
    # "Rented GPU infrastructure beats Claude Sonnet at roughly 90M tokens/month" holds for
    # 90M *input* tokens with half as many output tokens: $945 vs $950, then $955.50.
    below = breakeven("claude-sonnet-4-5", 90 * M, 45 * M, hardware_usd=0, local_monthly_usd=950)
    above = breakeven("claude-sonnet-4-5", 91 * M, 45_500_000, 0, 950)
    assert below.local_is_cheaper is False
    assert above.local_is_cheaper is True


def test_seed001_gpt52_batch_is_half_price():
    # "GPT-5.2 drops to $0.875/$7.00 per million tokens"
    result = cloud_cost("gpt-5.2", 1 * M, 1 * M, batch=True)
    assert result.uncached_input_usd.usd == usd("0.875")
    assert result.output_usd.usd == usd("7.00")


def test_seed001_payback_of_2000_gpu_saving_1000_a_month():
    # "A $2,000 GPU investment that saves $1,000/month in API costs pays for itself in 2
    # months." GPT-4.1 at 100M input + 100M output is exactly $1,000 a month.
    result = breakeven("gpt-4.1", 100 * M, 100 * M, hardware_usd=2000, local_monthly_usd=0)
    assert result.savings_monthly_usd.usd == usd("1000")
    assert result.breakeven_months == usd("2")


def test_seed001_rtx_4090_electricity_at_12_cents():
    # "RTX 4090 running 24/7: $30/month", "at 30% utilization: ~$9/month",
    # "A100 running 24/7: $35/month" (350 W and 400 W at $0.12/kWh).
    assert energy_monthly_usd(350, 24, "0.12") == usd("30.24")
    assert energy_monthly_usd(350, "7.2", "0.12") == usd("9.072")
    assert energy_monthly_usd(400, 24, "0.12") == usd("34.56")


def test_seed001_maverick_is_not_cheaper_than_its_own_table_says():
    # "$1.12 per 1M in+out — cheaper than every cloud model except GPT-5 nano and Gemini
    # Flash-Lite": the article's own table has three more models below $1.12.
    maverick = cloud_cost("llama-4-maverick", M, M).cloud_usd.usd
    assert maverick == usd("1.12")
    cheaper = [
        model
        for model in ("gemini-2.0-flash", "deepseek-v3.2", "gemini-2.5-flash", "gpt-5-nano")
        if cloud_cost(model, M, M).cloud_usd.usd < maverick
    ]
    assert cheaper == ["gemini-2.0-flash", "deepseek-v3.2", "gemini-2.5-flash", "gpt-5-nano"]


# ---------------------------------------------------------- seed 002 (February 2026)


def test_seed002_customer_service_interaction_on_claude_sonnet():
    # "5,600 input + 500 output ... $0.017 + $0.0075 = $0.024 per interaction"
    result = cloud_cost("claude-3-5-sonnet", 5600, 500)
    assert result.uncached_input_usd.usd == usd("0.0168")
    assert result.output_usd.usd == usd("0.0075")
    assert result.cloud_usd.usd == usd("0.0243")
    # "10,000 interactions per day: $240/day = $7,200/month" uses the rounded $0.024;
    # unrounded it is $7,290.
    per_interaction = round(result.cloud_usd.usd, 3)
    assert per_interaction * 10_000 * DAYS_PER_MONTH == usd("7200")
    assert result.cloud_usd.usd * 10_000 * DAYS_PER_MONTH == usd("7290")


def test_seed002_self_hosted_llama_70b_cost_per_1k_tokens():
    # "$8,900/month ... 50-100 tokens/second ... ~130-260 million tokens per month.
    # Effective cost: ~$0.03-0.07 per 1,000 tokens"
    seconds_per_day = 86_400
    slow = cost_per_million_tokens(8900, 50 * seconds_per_day).usd / 1000
    fast = cost_per_million_tokens(8900, 100 * seconds_per_day).usd / 1000
    assert 50 * seconds_per_day * DAYS_PER_MONTH == 129_600_000
    assert round(slow, 2) == usd("0.07")
    assert round(fast, 2) == usd("0.03")


def test_seed002_thirty_percent_utilisation_roughly_triples_hardware_cost_per_answer():
    # "At 30% utilization, your effective per-token cost triples": the same answer carries
    # 1/0.3 = 3.33x the amortization when the machine is busy 7.2 h instead of 24 h a day.
    def share(busy_hours):
        return local_answer_cost(
            energy_joules=None,
            kwh_usd="0.12",
            busy_seconds=10,
            hardware_usd=2000,
            amortize_months=36,
            busy_hours_per_day=busy_hours,
        ).amortization_usd.usd

    assert round(share("7.2") / share(24), 20) == round(Decimal(10) / Decimal(3), 20)


# ------------------------------------------------------------- seed 003 (April 2026)


def test_seed003_rtx_4090_electricity_at_16_cents():
    # "350-450W ... $0.16/kWh: 24/7 operation ~$40-$55; 8 hours/day ~$13-$18"
    assert energy_monthly_usd(350, 24, "0.16") == usd("40.32")
    assert energy_monthly_usd(450, 24, "0.16") == usd("51.84")  # the "$55" is rounded up
    assert energy_monthly_usd(350, 8, "0.16") == usd("13.44")
    assert energy_monthly_usd(450, 8, "0.16") == usd("17.28")


def test_seed003_amortized_rtx_4090_8b_row():
    # "$1,800 | $50 | $45 | ~330M tokens/day | ~$0.009" with 3-year amortization. $45 of
    # electricity at $0.16/kWh around the clock is 390.625 W.
    result = local_cost(1800, 36, "390.625", 24, "0.16", tokens_per_day=330 * M)
    assert result.amortization_monthly_usd == 50
    assert result.energy_monthly_usd == 45
    assert result.monthly_usd == 95
    # $95 / 9,900M tokens = $0.0096/1M; the article truncates it to $0.009.
    assert truncate_to(result.usd_per_million_tokens.usd, 3) == usd("0.009")
    assert round(result.usd_per_million_tokens.usd, 4) == usd("0.0096")


@pytest.mark.parametrize(
    ("hardware", "electricity", "tokens_per_day", "printed"),
    [
        (3000, 55, 160 * M, "0.028"),  # RTX 5090 + 30B: $0.02882, truncated
        (3600, 90, 80 * M, "0.079"),  # 2x RTX 4090 + 70B: $0.07917
    ],
)
def test_seed003_amortized_cost_per_million_rows(hardware, electricity, tokens_per_day, printed):
    monthly = Decimal(hardware) / 36 + electricity
    per_million = cost_per_million_tokens(monthly, tokens_per_day).usd
    assert truncate_to(per_million, 3) == usd(printed)


# "Replace X with local Y | Daily Volume | Cloud Cost/Month | Self-Host Cost/Month | Break-Even"
# at a 50/50 input/output split; running cost is the electricity of the amortized table.
SEED_003_BREAKEVEN = [
    ("claude-haiku-4-5", 5 * M, 1800, 45, "450", 5),
    ("gpt-4.1", 10 * M, 3600, 90, "1500", 3),
    ("claude-sonnet-4-6", 10 * M, 3600, 90, "2700", 2),
]


@pytest.mark.parametrize(
    ("model", "per_day", "hardware", "electricity", "cloud", "month"), SEED_003_BREAKEVEN
)
def test_seed003_breakeven_table(model, per_day, hardware, electricity, cloud, month):
    half = per_day * int(DAYS_PER_MONTH) // 2
    result = breakeven(model, half, half, hardware_usd=hardware, local_monthly_usd=electricity)
    assert result.cloud_monthly_usd.usd == usd(cloud)
    # "Month N" is the month in which the hardware is paid back.
    assert math.ceil(result.breakeven_months) == month


def test_seed003_gpt41_mini_row_is_half_what_the_article_prints():
    # The article prints ~$300/month for GPT-4.1 mini at 5M tokens/day. At $0.40/$1.60 that
    # is $150 at 50/50, and even all-output tokens cost only $240.
    half = 5 * M * 30 // 2
    assert breakeven("gpt-4.1-mini", half, half, 1800, 45).cloud_monthly_usd.usd == usd("150")
    assert cloud_cost("gpt-4.1-mini", 0, 150 * M).cloud_usd.usd == usd("240")


def test_seed003_month_column_needs_running_cost_without_amortization():
    # Subtracting the table's $95 "Self-Host Cost" (which includes $50 amortization) from the
    # Haiku bill gives month 6, not the printed month 5: the article paid the hardware back
    # from (cloud - electricity), which is the convention breakeven() uses.
    half = 5 * M * 30 // 2
    with_amortization = breakeven("claude-haiku-4-5", half, half, 1800, 95)
    assert math.ceil(with_amortization.breakeven_months) == 6


# ------------------------------------------------------------ seed 000 (March 2026)


def test_seed000_cacheable_batch_haiku_output_is_not_25_cents():
    # "a cacheable batch workflow on Claude Haiku drops from $5.00 to roughly $0.25 per
    # million output tokens": caching discounts input reads, not output, so batch output is
    # $2.50; $0.25 is 5% of $5.00, i.e. both discounts applied to output.
    output_only = cloud_cost("claude-haiku-4-5", 0, M, batch=True)
    assert output_only.cloud_usd.usd == usd("2.50")
    cached_input = cloud_cost("claude-haiku-4-5", M, 0, cached_input_tokens=M, batch=True)
    assert cached_input.cloud_usd.usd == usd("0.05")


def test_seed000_gpt4o_and_sonnet_46_reference_prices():
    # "GPT-4o runs $2.50 input / $10.00 output per million tokens. Claude Sonnet 4.6 runs
    # $3.00 / $15.00."
    assert cloud_cost("gpt-4o", M, M).cloud_usd.usd == usd("12.50")
    assert cloud_cost("claude-sonnet-4-6", M, M).cloud_usd.usd == usd("18.00")
