"""USD amounts and per-token rates that can be explicitly unknown.

Money is held as ``decimal.Decimal``: catalog rates such as $0.075/1M and LiteLLM's per-token
floats (2.5e-06) are not exact in binary, and the usage report must show totals that equal
the ledger's sums exactly, which float addition cannot promise. An unknown amount is ``None``
inside a ``Money``/``Price`` and is printed as "unknown", never as $0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from routing.pricing.errors import PricingInputError

TOKENS_PER_MILLION = Decimal(1_000_000)
UNKNOWN_TEXT = "unknown"


def to_decimal(
    value: Decimal | int | float | str, what: str, *, allow_negative: bool = False
) -> Decimal:
    """Convert a caller's number to Decimal, refusing NaN, infinities, booleans and negatives.

    Floats go through ``str`` so 0.1 becomes Decimal('0.1'), not its binary approximation.
    """
    if isinstance(value, bool):
        raise PricingInputError(f"{what} must be a number, got {value!r}")
    try:
        if isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, Decimal | int):
            number = Decimal(value)
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            raise PricingInputError(f"{what} must be a number, got {type(value).__name__}")
    except InvalidOperation:
        raise PricingInputError(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise PricingInputError(f"{what} must be a finite number, got {value!r}")
    if number < 0 and not allow_negative:
        raise PricingInputError(f"{what} must not be negative, got {value}")
    return number


@dataclass(frozen=True)
class Money:
    """A USD amount, or an explicitly unknown one carrying the reason it is unknown."""

    usd: Decimal | None
    unknown_reason: str | None = None

    @classmethod
    def of(cls, usd: Decimal | int) -> Money:
        return cls(Decimal(usd))

    @classmethod
    def zero(cls) -> Money:
        return cls(Decimal(0))

    @classmethod
    def unknown(cls, reason: str) -> Money:
        return cls(None, reason)

    @property
    def is_known(self) -> bool:
        return self.usd is not None

    def __add__(self, other: Money) -> Money:
        if self.usd is None or other.usd is None:
            reasons = [r for r in (self.unknown_reason, other.unknown_reason) if r]
            # The same missing price can reach a sum through several parts; say it once.
            unique = list(dict.fromkeys(reasons))
            return Money.unknown("; ".join(unique) or UNKNOWN_TEXT)
        return Money(self.usd + other.usd)

    def scaled(self, factor: Decimal) -> Money:
        if self.usd is None:
            return self
        return Money(self.usd * factor)

    def as_json_number(self) -> float | None:
        """JSON has no decimal type: emit the nearest float, or null when unknown."""
        return None if self.usd is None else float(self.usd)


@dataclass(frozen=True)
class Price:
    """A rate in USD per 1M tokens; ``None`` means no source gave us this price."""

    usd_per_mtok: Decimal | None

    @classmethod
    def unknown(cls) -> Price:
        return cls(None)

    @property
    def is_known(self) -> bool:
        return self.usd_per_mtok is not None

    def cost_of(self, tokens: int, unknown_reason: str) -> Money:
        # Zero tokens cost exactly nothing whatever the rate, so an unknown cached-input price
        # must not make the bill of a request without cached tokens unknown.
        if tokens == 0:
            return Money.zero()
        if self.usd_per_mtok is None:
            return Money.unknown(unknown_reason)
        return Money(self.usd_per_mtok * tokens / TOKENS_PER_MILLION)


def format_usd(amount: Money | Decimal | None) -> str:
    """'$1,234.56' for amounts from a dollar up, four significant digits below, 'unknown'."""
    usd = amount.usd if isinstance(amount, Money) else amount
    if usd is None:
        return UNKNOWN_TEXT
    sign = "-" if usd < 0 else ""
    magnitude = abs(usd)
    if magnitude >= 1 or magnitude == 0:
        return f"{sign}${magnitude:,.2f}"
    # Per-answer cloud costs are often fractions of a cent; two decimals would print $0.00.
    digits = max(2, -magnitude.adjusted() + 3)
    text = f"{magnitude:.{digits}f}".rstrip("0")
    if len(text.split(".")[1]) < 2:
        text = f"{magnitude:.2f}"
    return f"{sign}${text}"


def format_price(price: Price) -> str:
    """'$2.50/1M' or 'unknown'."""
    if price.usd_per_mtok is None:
        return UNKNOWN_TEXT
    return f"{format_usd(price.usd_per_mtok)}/1M"
