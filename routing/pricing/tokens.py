"""Token counts: parsing '2.5M'-style figures and carrying one request's usage."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from routing.pricing.errors import PricingInputError

SUFFIX_MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}

_COUNT_PATTERN = re.compile(r"(?P<number>[0-9][0-9_,]*(?:\.[0-9]+)?)\s*(?P<suffix>[A-Za-z]*)")
# Commas are accepted only as thousands separators: '2,5M' is ambiguous and is refused.
_THOUSANDS_PATTERN = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


def parse_token_count(text: str | int, what: str = "token count") -> int:
    """Read '1200', '500k', '2.5M', '1B' or '1,000,000' as a whole number of tokens.

    Suffixes are decimal (K = 1,000), case-insensitive. Raises PricingInputError with a
    message naming ``what`` for negatives, unknown suffixes and fractional token counts.
    """
    if isinstance(text, bool):
        raise PricingInputError(f"{what}: expected a token count, got {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise PricingInputError(f"{what} must not be negative, got {text}")
        return text
    raw = text.strip()
    if not raw:
        raise PricingInputError(f"{what} is empty; give a number such as 1200, 500k or 2.5M")
    if raw.startswith("-"):
        raise PricingInputError(f"{what} must not be negative, got {raw!r}")
    match = _COUNT_PATTERN.fullmatch(raw)
    if match is None:
        raise PricingInputError(
            f"{what}: {raw!r} is not a token count; use digits with an optional K, M or B suffix"
        )
    number_text, suffix = match["number"], match["suffix"].lower()
    if suffix not in SUFFIX_MULTIPLIERS:
        raise PricingInputError(
            f"{what}: unknown suffix {match['suffix']!r} in {raw!r}; use K, M or B"
        )
    if "," in number_text and not _THOUSANDS_PATTERN.fullmatch(number_text):
        raise PricingInputError(
            f"{what}: {raw!r} has commas that are not thousands separators; "
            "write decimals with a point, e.g. 2.5M"
        )
    try:
        number = Decimal(number_text.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise PricingInputError(f"{what}: {raw!r} is not a number") from None
    tokens = number * SUFFIX_MULTIPLIERS[suffix]
    if tokens != tokens.to_integral_value():
        raise PricingInputError(f"{what}: {raw!r} is not a whole number of tokens")
    return int(tokens)


def format_token_count(tokens: int) -> str:
    """'1,200' — full digits, because a rounded '1.2K' hides what was priced."""
    return f"{tokens:,}"


@dataclass(frozen=True)
class TokenUsage:
    """The tokens one request was billed for.

    ``cached_input_tokens`` is the part of ``input_tokens`` served from the provider's prompt
    cache (OpenAI's convention: prompt_tokens includes cached_tokens).
    """

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens", "cached_input_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise PricingInputError(f"{name} must be a whole number, got {value!r}")
            if value < 0:
                raise PricingInputError(f"{name} must not be negative, got {value}")
        if self.cached_input_tokens > self.input_tokens:
            raise PricingInputError(
                f"cached input tokens ({self.cached_input_tokens:,}) cannot exceed "
                f"input tokens ({self.input_tokens:,}): cached tokens are part of the input"
            )

    @classmethod
    def from_openai_usage(cls, usage: Mapping[str, Any]) -> TokenUsage:
        """Read an OpenAI-compatible ``usage`` object (Chat Completions or Responses API)."""
        if "prompt_tokens" in usage:
            input_tokens = usage.get("prompt_tokens") or 0
            output_tokens = usage.get("completion_tokens") or 0
            details = usage.get("prompt_tokens_details") or {}
        else:
            input_tokens = usage.get("input_tokens") or 0
            output_tokens = usage.get("output_tokens") or 0
            details = usage.get("input_tokens_details") or {}
        cached = (details.get("cached_tokens") or 0) if isinstance(details, Mapping) else 0
        return cls(
            input_tokens=int(input_tokens),
            output_tokens=int(output_tokens),
            cached_input_tokens=int(cached),
        )
