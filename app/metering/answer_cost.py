"""What one local answer cost, and what the reference cloud model would have charged.

The formulas are routing.pricing's (docs/COST_MATH.md); this module feeds them the user's
settings and the price catalog, and keeps every unknown part unknown with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.config import Settings
from routing.pricing import (
    DAYS_PER_MONTH,
    Money,
    PriceCatalog,
    PricingError,
    TokenUsage,
    cloud_answer_cost,
    cloud_cost,
    format_usd,
    local_answer_cost,
)

# The hardware is amortised over its expected life (amortize_months) at the hours a day it
# is expected to generate. Without a busy_hours_per_day setting: seed 001's "realistic 30%
# utilization" (7.2 h a day). The ledger's usage so far is no guide: on the first day it is
# a few seconds, and sharing a whole day's amortisation over them billed a 67-token answer
# $0.92 of hardware (issue 17).
DEFAULT_BUSY_HOURS_PER_DAY = Decimal("7.2")
_HOURS_PER_DAY = Decimal(24)

UNKNOWN_PREFIX = "unknown: "
# Before a prompt is tokenized by the provider, its size can only be estimated; four
# characters a token is the usual rule for English BPE vocabularies.
ESTIMATED_CHARS_PER_TOKEN = 4
COST_PARTS = ("electricity", "hardware", "cloud_equivalent")

CatalogLoader = Callable[[], PriceCatalog]


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
    """Prices answers for the ledger with the current settings (the object is shared with
    the settings dialog, so an edit applies to the next answer)."""

    def __init__(self, settings: Settings, *, catalog: CatalogLoader) -> None:
        self.settings = settings
        self._load_catalog = catalog
        self._catalog: PriceCatalog | None = None
        self._catalog_error: str | None = None

    def price_local(self, *, joules: float | None, seconds: float, prompt_tokens: int,
                    completion_tokens: int) -> AnswerCost:
        settings = self.settings
        busy_hours, busy_basis = self._busy_hours_per_day()
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
                 "hardware": _describe(local.amortization_usd,
                                       self._hardware_basis(busy_hours, busy_basis, seconds)),
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

    def _hardware_basis(self, busy_hours: Decimal, busy_basis: str, seconds: float) -> str:
        """The method in one line (the meters' tooltip, the ledger's note): price over the
        life's busy hours, times this answer's busy time."""
        settings = self.settings
        if settings.hardware_usd is None:
            return ""
        months = _decimal(settings.amortize_months)
        life_hours = months * DAYS_PER_MONTH * busy_hours
        return (f"{format_usd(_decimal(settings.hardware_usd))} over {months:g} months "
                f"({months / 12:g} years) at {busy_basis} = {life_hours:,.0f} busy hours; "
                f"this answer {seconds:.2f} s")

    def _busy_hours_per_day(self) -> tuple[Decimal, str]:
        """The expected generating hours a day, and how to say where they came from."""
        setting = self.settings.busy_hours_per_day
        hours = DEFAULT_BUSY_HOURS_PER_DAY if setting is None else _decimal(setting)
        share = hours / _HOURS_PER_DAY * 100
        origin = "default" if setting is None else "settings"
        return hours, f"{hours:g} busy h/day ({share:.0f}% use, {origin})"

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
