"""What one local answer cost, and what the reference cloud model would have charged.

The formulas are routing.pricing's (docs/COST_MATH.md); this module feeds them the user's
settings, the ledger's recent busy time and the price catalog, and keeps every unknown part
unknown with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.config import Settings
from routing.pricing import (
    Money,
    PriceCatalog,
    PricingError,
    TokenUsage,
    cloud_answer_cost,
    cloud_cost,
    format_usd,
    local_answer_cost,
)

# The hardware's monthly amortization is shared over the hours the machine actually
# generated in this many recent days.
BUSY_WINDOW_DAYS = 30
_SECONDS_PER_DAY = Decimal(86_400)
_SECONDS_PER_HOUR = Decimal(3_600)
_MAX_BUSY_HOURS = Decimal(24)

UNKNOWN_PREFIX = "unknown: "
# Before a prompt is tokenized by the provider, its size can only be estimated; four
# characters a token is the usual rule for English BPE vocabularies.
ESTIMATED_CHARS_PER_TOKEN = 4
COST_PARTS = ("electricity", "hardware", "cloud_equivalent")

CatalogLoader = Callable[[], PriceCatalog]
# (seconds generated since a moment, when the first of those answers came)
BusySecondsSince = Callable[[datetime], tuple[float, datetime | None]]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AnswerCost:
    energy_usd: Money
    hardware_usd: Money
    cloud_equivalent_usd: Money
    cloud_equivalent_model: str | None
    price_as_of: date | None
    # Per part ("electricity", "hardware", "cloud_equivalent"): how it was priced, or
    # "unknown: <why>". The ledger keeps these beside the amounts.
    notes: dict[str, str]
    # What a cloud or on-prem answer was billed; None for answers from this machine.
    cloud_actual_usd: Money | None = None

    @property
    def local_usd(self) -> Money:
        return self.energy_usd + self.hardware_usd


def _decimal(value: float) -> Decimal:
    # Through repr, so a float setting such as 0.15 becomes exactly Decimal('0.15').
    return Decimal(repr(value))


class AnswerPricer:
    """Prices answers for the ledger with the settings the app started with."""

    def __init__(self, settings: Settings, *, catalog: CatalogLoader,
                 busy_seconds_since: BusySecondsSince,
                 clock: Clock = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self._load_catalog = catalog
        self._catalog: PriceCatalog | None = None
        self._catalog_error: str | None = None
        self._busy_seconds_since = busy_seconds_since
        self._clock = clock

    def price_local(self, *, joules: float | None, seconds: float, prompt_tokens: int,
                    completion_tokens: int) -> AnswerCost:
        settings = self.settings
        busy_hours, busy_basis = self._busy_hours_per_day(seconds)
        local = local_answer_cost(
            energy_joules=None if joules is None else _decimal(joules),
            kwh_usd=None if settings.kwh_usd is None else _decimal(settings.kwh_usd),
            busy_seconds=_decimal(seconds),
            hardware_usd=None if settings.hardware_usd is None
            else _decimal(settings.hardware_usd),
            amortize_months=_decimal(settings.amortize_months),
            busy_hours_per_day=busy_hours)
        cloud, model, as_of, cloud_basis = self._cloud_equivalent(prompt_tokens,
                                                                  completion_tokens)
        notes = {"electricity": _describe(local.energy_usd, self._energy_basis()),
                 "hardware": _describe(local.amortization_usd, self._hardware_basis(busy_basis)),
                 "cloud_equivalent": _describe(cloud, cloud_basis)}
        return AnswerCost(local.energy_usd, local.amortization_usd, cloud, model, as_of, notes)

    def price_cloud(self, model: str, *, prompt_tokens: int, completion_tokens: int,
                    cached_prompt_tokens: int = 0, reported: bool, provider: str
                    ) -> AnswerCost:
        """A cloud answer's bill: the catalog price of the tokens the provider reported (or
        of our estimate, labelled so). Nothing of this machine's energy or hardware."""
        elsewhere = Money.unknown(f"answered by {provider}, not on this machine")
        catalog = self._catalog_or_error()
        if catalog is None:
            billed, basis = Money.unknown(self._catalog_error or "no price catalog"), ""
        else:
            usage = TokenUsage(prompt_tokens, completion_tokens, cached_prompt_tokens)
            try:
                bill = cloud_answer_cost(model, reported_usage=usage if reported else None,
                                         estimated_usage=None if reported else usage,
                                         catalog=catalog)
            except PricingError as exc:
                billed, basis = Money.unknown(str(exc)), ""
            else:
                billed, basis = bill.billed_usd, bill.basis
        notes = {"electricity": _describe(elsewhere, ""), "hardware": _describe(elsewhere, ""),
                 "cloud_actual": _describe(billed, basis)}
        return AnswerCost(elsewhere, elsewhere, Money.unknown("a cloud answer"), None, None,
                          notes, cloud_actual_usd=billed)

    def cloud_ceiling_usd(self, model: str | None, *, prompt_chars: int,
                          max_output_tokens: int) -> Decimal | None:
        """The most a cloud answer could cost before it is asked, for budget caps: the prompt
        at ESTIMATED_CHARS_PER_TOKEN plus the longest answer allowed, at list price. None
        when the model or a price is unknown (never $0)."""
        catalog = self._catalog_or_error()
        if catalog is None or not model:
            return None
        prompt_tokens = -(-prompt_chars // ESTIMATED_CHARS_PER_TOKEN)
        try:
            bill = cloud_cost(model, prompt_tokens, max_output_tokens, catalog=catalog)
        except PricingError:
            return None
        return bill.cloud_usd.usd

    # -- parts -------------------------------------------------------------------------
    def _energy_basis(self) -> str:
        if self.settings.kwh_usd is None:
            return ""
        return f"energy x {format_usd(_decimal(self.settings.kwh_usd))}/kWh"

    def _hardware_basis(self, busy_basis: str) -> str:
        settings = self.settings
        if settings.hardware_usd is None:
            return ""
        return (f"{format_usd(_decimal(settings.hardware_usd))} over "
                f"{settings.amortize_months:g} months, shared over {busy_basis}")

    def _busy_hours_per_day(self, this_answer_s: float) -> tuple[Decimal | None, str]:
        """The setting, or the ledger's recent generating hours a day, this answer included.

        Days are counted from the first answer in the window (at least one), so a new
        install is not treated as idle for the days before it existed.
        """
        if self.settings.hardware_usd is None:
            return None, ""  # nothing to share, so the ledger need not be read
        if self.settings.busy_hours_per_day is not None:
            hours = _decimal(self.settings.busy_hours_per_day)
            return hours, f"{hours:g} busy h/day (settings)"
        now = self._clock()
        seconds, first = self._busy_seconds_since(now - timedelta(days=BUSY_WINDOW_DAYS))
        total = _decimal(seconds) + _decimal(this_answer_s)
        elapsed = _decimal((now - first).total_seconds()) if first else Decimal(0)
        days = max(elapsed / _SECONDS_PER_DAY, Decimal(1))
        hours = min(total / days / _SECONDS_PER_HOUR, _MAX_BUSY_HOURS)
        return hours, (f"{hours:.3f} busy h/day (ledger, last "
                       f"{min(days, Decimal(BUSY_WINDOW_DAYS)):.1f} days)")

    def _catalog_or_error(self) -> PriceCatalog | None:
        if self._catalog is None and self._catalog_error is None:
            try:
                self._catalog = self._load_catalog()
            except PricingError as exc:  # a broken overrides file must not break the chat
                self._catalog_error = str(exc)
        return self._catalog

    def _cloud_equivalent(self, prompt_tokens: int, completion_tokens: int
                          ) -> tuple[Money, str | None, date | None, str]:
        model = self.settings.reference_cloud_model
        if model is None:
            return Money.unknown("no reference cloud model set"), None, None, ""
        catalog = self._catalog_or_error()
        if catalog is None:
            return Money.unknown(self._catalog_error or "no price catalog"), model, None, ""
        try:
            # The whole prompt at the uncached input rate: a cloud API is sent the whole
            # conversation every turn. Its prompt cache discount is not modelled.
            bill = cloud_cost(model, prompt_tokens, completion_tokens, catalog=catalog)
        except PricingError as exc:
            return Money.unknown(str(exc)), model, None, ""
        price = bill.price
        return (bill.cloud_usd, price.model_id, price.as_of,
                f"{price.model_id} list price as of {price.as_of}")


def _describe(amount: Money, basis: str) -> str:
    if amount.usd is None:
        return f"{UNKNOWN_PREFIX}{amount.unknown_reason}"
    return basis
