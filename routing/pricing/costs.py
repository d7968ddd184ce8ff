"""Cloud cost, local cost, cost of one local answer, and break-even: the one implementation
that the CLI calculator, the ledger and the savings report all call.

Conventions (docs/COST_MATH.md shows each against the seed articles):
- A month is 30 days. It is the convention that reproduces the seeds' own worked figures
  (seed 003's $450/$1,500/$2,700 monthly bills and $0.079 per 1M tokens, seed 002's $7,200
  per month); 30.4 days would put each of them 1.3% off.
- Break-even pays the hardware back from the monthly saving *after running costs*:
  ``months = hardware_usd / (cloud_monthly - local_running_monthly)``. Running costs exclude
  the hardware's own amortization, which would count the hardware twice (seed 003's
  "Month N" column is reproduced only this way).
- Unknown stays unknown: any missing price makes the total unknown, with the reason kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from routing.pricing.catalog import ModelPrice, PriceCatalog, load_default_catalog
from routing.pricing.errors import PricingInputError
from routing.pricing.money import TOKENS_PER_MILLION, Money, to_decimal
from routing.pricing.tokens import TokenUsage

DAYS_PER_MONTH = Decimal(30)
HOURS_PER_DAY = Decimal(24)
SECONDS_PER_HOUR = Decimal(3600)
JOULES_PER_KWH = Decimal(3_600_000)
WATTS_PER_KILOWATT = Decimal(1000)

# Verdicts of seed 001's "TL;DR decision table".
STAY_ON_CLOUD = "stay on cloud"
HYBRID = "hybrid"
SELF_HOST = "self-host"
VERDICT_UNKNOWN = "unknown"

# Seed 001's volume rows, in tokens per month (input + output).
LOW_VOLUME_TOKENS = 10_000_000
HIGH_VOLUME_TOKENS = 50_000_000
# Seed 001: "models in the sub-$1/M tier where self-hosting ROI is poor", and for GPT-5 nano
# "you'd need over 1 billion tokens/month before self-hosting makes financial sense".
CHEAP_TIER_USD_PER_MTOK = Decimal(1)
CHEAP_TIER_SELF_HOST_TOKENS = 1_000_000_000


def _catalog(catalog: PriceCatalog | None) -> PriceCatalog:
    return catalog if catalog is not None else load_default_catalog()


# ------------------------------------------------------------------------------- cloud


@dataclass(frozen=True)
class CloudCost:
    """A cloud bill split into its parts; ``cloud_usd`` is unknown if any part is."""

    price: ModelPrice
    usage: TokenUsage
    batch: bool
    uncached_input_usd: Money
    cached_input_usd: Money
    output_usd: Money

    @property
    def cloud_usd(self) -> Money:
        return self.uncached_input_usd + self.cached_input_usd + self.output_usd

    @property
    def model_id(self) -> str:
        return self.price.model_id


def cloud_cost(
    model_id: str,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    batch: bool = False,
    *,
    catalog: PriceCatalog | None = None,
) -> CloudCost:
    """What ``model_id`` would charge at list price for this many tokens.

    ``cached_input_tokens`` is the part of ``input_tokens`` read from the prompt cache.
    ``batch`` applies the provider's batch discount to every part.
    """
    price = _catalog(catalog).get(model_id)
    usage = TokenUsage(input_tokens, output_tokens, cached_input_tokens)
    name = price.model_id
    uncached = price.input.cost_of(
        usage.input_tokens - usage.cached_input_tokens, f"input price of {name} is unknown"
    )
    cached = price.cached_input.cost_of(
        usage.cached_input_tokens, f"cached-input price of {name} is unknown"
    )
    output = price.output.cost_of(usage.output_tokens, f"output price of {name} is unknown")
    if batch:
        if price.batch_discount is None:
            reason = f"batch discount of {name} is unknown"
            uncached, cached, output = (Money.unknown(reason),) * 3
        else:
            factor = 1 - price.batch_discount
            uncached, cached, output = (m.scaled(factor) for m in (uncached, cached, output))
    return CloudCost(price, usage, batch, uncached, cached, output)


@dataclass(frozen=True)
class CloudAnswerCost:
    """The cost of one cloud answer: what was billed, and the catalog's estimate beside it."""

    billed_usd: Money
    catalog_estimate_usd: Money
    basis: str


def cloud_answer_cost(
    model_id: str,
    *,
    reported_usage: TokenUsage | None,
    estimated_usage: TokenUsage | None = None,
    reported_cost_usd: Decimal | int | str | None = None,
    batch: bool = False,
    catalog: PriceCatalog | None = None,
) -> CloudAnswerCost:
    """Prefer what the provider reported (its cost, else its token usage) over our estimate."""
    usage = reported_usage if reported_usage is not None else estimated_usage
    if usage is None:
        raise PricingInputError("a cloud answer needs reported or estimated token usage")
    estimate = cloud_cost(
        model_id,
        usage.input_tokens,
        usage.output_tokens,
        usage.cached_input_tokens,
        batch,
        catalog=catalog,
    ).cloud_usd
    if reported_cost_usd is not None:
        reported = Money(to_decimal(reported_cost_usd, "reported cost"))
        return CloudAnswerCost(reported, estimate, "provider-reported cost")
    if reported_usage is not None:
        return CloudAnswerCost(estimate, estimate, "catalog price x provider-reported usage")
    return CloudAnswerCost(estimate, estimate, "catalog price x estimated tokens")


# ------------------------------------------------------------------------------- local


def _hours_per_day(value: Decimal | int | float | str, what: str = "hours per day") -> Decimal:
    hours = to_decimal(value, what)
    if hours > HOURS_PER_DAY:
        raise PricingInputError(f"{what} cannot exceed 24, got {value}")
    return hours


def energy_monthly_usd(
    watts: Decimal | int | float | str,
    hours_per_day: Decimal | int | float | str,
    kwh_usd: Decimal | int | float | str,
) -> Decimal:
    """Electricity for a month: kW x hours/day x 30 days x tariff."""
    kilowatts = to_decimal(watts, "watts") / WATTS_PER_KILOWATT
    hours = _hours_per_day(hours_per_day)
    tariff = to_decimal(kwh_usd, "electricity price per kWh")
    return kilowatts * hours * DAYS_PER_MONTH * tariff


def cost_per_million_tokens(monthly_usd: Decimal | int | str, tokens_per_day: int) -> Money:
    """A monthly cost spread over a month of tokens (30 x tokens_per_day), per 1M tokens."""
    monthly = to_decimal(monthly_usd, "monthly cost")
    if isinstance(tokens_per_day, bool) or not isinstance(tokens_per_day, int):
        raise PricingInputError(f"tokens per day must be a whole number, got {tokens_per_day!r}")
    if tokens_per_day < 0:
        raise PricingInputError(f"tokens per day must not be negative, got {tokens_per_day}")
    if tokens_per_day == 0:
        return Money.unknown("no tokens per day, so no cost per token")
    return Money(monthly * TOKENS_PER_MILLION / (tokens_per_day * DAYS_PER_MONTH))


@dataclass(frozen=True)
class LocalCost:
    """A month of running local hardware: its amortization, its electricity, and per 1M tokens."""

    amortization_monthly_usd: Decimal
    energy_monthly_usd: Decimal
    usd_per_million_tokens: Money
    tokens_per_month: int | None

    @property
    def monthly_usd(self) -> Decimal:
        return self.amortization_monthly_usd + self.energy_monthly_usd


def local_cost(
    hardware_usd: Decimal | int | float | str,
    amortize_months: Decimal | int | float | str,
    watts: Decimal | int | float | str,
    hours_per_day: Decimal | int | float | str,
    kwh_usd: Decimal | int | float | str,
    tokens_per_day: int | None = None,
) -> LocalCost:
    """Monthly cost of owned hardware; $/1M tokens is unknown without a daily token volume."""
    hardware = to_decimal(hardware_usd, "hardware price")
    months = to_decimal(amortize_months, "amortization months")
    if months == 0:
        raise PricingInputError("amortization months must be more than 0")
    amortization = hardware / months
    energy = energy_monthly_usd(watts, hours_per_day, kwh_usd)
    monthly = amortization + energy
    if tokens_per_day is None:
        return LocalCost(amortization, energy, Money.unknown("tokens per day not given"), None)
    per_million = cost_per_million_tokens(monthly, tokens_per_day)
    tokens_per_month = int(tokens_per_day * DAYS_PER_MONTH)
    return LocalCost(amortization, energy, per_million, tokens_per_month)


@dataclass(frozen=True)
class LocalAnswerCost:
    """One local answer: the electricity it used and its share of the hardware."""

    energy_usd: Money
    amortization_usd: Money

    @property
    def total_usd(self) -> Money:
        return self.energy_usd + self.amortization_usd


def local_answer_cost(
    *,
    energy_joules: Decimal | int | float | None,
    kwh_usd: Decimal | int | float | str | None,
    busy_seconds: Decimal | int | float,
    hardware_usd: Decimal | int | float | str | None,
    amortize_months: Decimal | int | float | str,
    busy_hours_per_day: Decimal | int | float | str | None,
) -> LocalAnswerCost:
    """Energy x tariff, plus the hardware's monthly amortization shared by busy time.

    ``busy_hours_per_day`` is how long the machine is expected to generate per day over its
    life: the month's amortization is spread over only those hours, so an idle
    machine makes each answer dearer ("an idle GPU is the most expensive hardware", seed 000;
    "at 30% utilization, your effective per-token cost triples", seed 002).
    ``energy_joules=None`` (no sensor, estimates off) or ``kwh_usd=None`` (tariff not set)
    leaves the energy part unknown; ``hardware_usd=None`` or ``busy_hours_per_day=None``
    leaves the hardware part unknown. The other part is still computed.
    """
    if energy_joules is not None and kwh_usd is not None:
        tariff = to_decimal(kwh_usd, "electricity price per kWh")
        energy = Money(to_decimal(energy_joules, "energy (joules)") / JOULES_PER_KWH * tariff)
    else:
        reasons = []
        if energy_joules is None:
            reasons.append("energy not measured")
        if kwh_usd is None:
            reasons.append("electricity price per kWh not set")
        energy = Money.unknown("; ".join(reasons))
    seconds = to_decimal(busy_seconds, "answer seconds")
    months = to_decimal(amortize_months, "amortization months")
    if months == 0:
        raise PricingInputError("amortization months must be more than 0")
    if hardware_usd is None:
        return LocalAnswerCost(energy, Money.unknown("hardware price not set"))
    hardware = to_decimal(hardware_usd, "hardware price")
    if busy_hours_per_day is None:
        return LocalAnswerCost(energy, Money.unknown("busy hours per day unknown"))
    busy_hours = _hours_per_day(busy_hours_per_day, "busy hours per day")
    busy_seconds_per_month = busy_hours * SECONDS_PER_HOUR * DAYS_PER_MONTH
    if busy_seconds_per_month == 0:
        amortization = Money.unknown("no busy hours recorded to share the hardware over")
    else:
        amortization = Money(hardware / months * seconds / busy_seconds_per_month)
    return LocalAnswerCost(energy, amortization)


# --------------------------------------------------------------------------- break-even


@dataclass(frozen=True)
class Breakeven:
    """Cloud bill vs local running cost for one monthly volume, and when the hardware pays back."""

    cloud: CloudCost
    hardware_usd: Decimal
    local_monthly_usd: Decimal
    breakeven_months: Decimal | None
    verdict: str
    verdict_reason: str

    @property
    def cloud_monthly_usd(self) -> Money:
        return self.cloud.cloud_usd

    @property
    def savings_monthly_usd(self) -> Money:
        return self.cloud_monthly_usd + Money(-self.local_monthly_usd)

    @property
    def local_is_cheaper(self) -> bool | None:
        savings = self.savings_monthly_usd.usd
        return None if savings is None else savings > 0


def decide_verdict(
    tokens_per_month: int,
    cloud_monthly: Money,
    savings_monthly: Money,
    *,
    data_must_stay_local: bool = False,
) -> tuple[str, str]:
    """Seed 001's decision table, applied to the user's own volume and prices.

    Rows: privacy -> self-host regardless of volume; < 10M tokens/month -> cloud always;
    10-50M on cheap models -> cloud; 10-50M on Sonnet-class ("mid-tier or higher") ->
    evaluate local, reported as hybrid; > 50M on mid-tier or higher -> self-host. A model is
    cheap when its blended price at the user's own input/output mix is under $1 per 1M
    tokens; cheap models need over 1B tokens/month (seed 001's FAQ). Whatever the row, a
    local setup that does not cost less to run than the cloud bill keeps the user on cloud.
    """
    if data_must_stay_local:
        return SELF_HOST, "data must stay local: self-host regardless of volume"
    if cloud_monthly.usd is None or savings_monthly.usd is None:
        return VERDICT_UNKNOWN, f"cloud price unknown ({cloud_monthly.unknown_reason})"
    if savings_monthly.usd <= 0:
        return STAY_ON_CLOUD, "running locally costs at least as much as the cloud bill"
    if tokens_per_month < LOW_VOLUME_TOKENS:
        return STAY_ON_CLOUD, "under 10M tokens/month: cloud API"
    blended = cloud_monthly.usd * TOKENS_PER_MILLION / tokens_per_month
    if blended < CHEAP_TIER_USD_PER_MTOK:
        if tokens_per_month >= CHEAP_TIER_SELF_HOST_TOKENS:
            return SELF_HOST, "cheap model (under $1/1M blended) but over 1B tokens/month"
        return STAY_ON_CLOUD, "cheap model (under $1/1M blended): needs over 1B tokens/month"
    if tokens_per_month <= HIGH_VOLUME_TOKENS:
        return HYBRID, "10-50M tokens/month on a mid-tier or higher model: evaluate local"
    return SELF_HOST, "over 50M tokens/month on a mid-tier or higher model"


def breakeven(
    cloud_model: str,
    input_tokens_per_month: int,
    output_tokens_per_month: int,
    hardware_usd: Decimal | int | float | str,
    local_monthly_usd: Decimal | int | float | str,
    *,
    cached_input_tokens_per_month: int = 0,
    data_must_stay_local: bool = False,
    catalog: PriceCatalog | None = None,
) -> Breakeven:
    """Months until ``hardware_usd`` is repaid by (cloud bill - local running cost).

    ``local_monthly_usd`` is the local *running* cost (electricity, hosting, rent of a GPU):
    not the hardware's amortization, which is what the break-even pays back. With rented
    hardware pass ``hardware_usd=0``. ``breakeven_months`` is None when local is not cheaper
    (it never pays back) or when the cloud price is unknown; ``local_is_cheaper`` tells which.
    """
    cloud = cloud_cost(
        cloud_model,
        input_tokens_per_month,
        output_tokens_per_month,
        cached_input_tokens_per_month,
        catalog=catalog,
    )
    hardware = to_decimal(hardware_usd, "hardware price")
    running = to_decimal(local_monthly_usd, "local monthly cost")
    savings = cloud.cloud_usd + Money(-running)
    months = None
    if savings.usd is not None and savings.usd > 0:
        months = hardware / savings.usd
    verdict, reason = decide_verdict(
        input_tokens_per_month + output_tokens_per_month,
        cloud.cloud_usd,
        savings,
        data_must_stay_local=data_must_stay_local,
    )
    return Breakeven(cloud, hardware, running, months, verdict, reason)
