"""Prices and costs: the dated cloud catalog, local cost, break-even and the cost CLI glue.

Qt-free and app-free (an import-linter contract enforces it), standard library only.
"""

from routing.pricing.catalog import (
    ModelPrice,
    PriceCatalog,
    apply_overrides,
    load_catalog_file,
    load_default_catalog,
    read_overrides,
)
from routing.pricing.costs import (
    DAYS_PER_MONTH,
    HYBRID,
    SELF_HOST,
    STAY_ON_CLOUD,
    VERDICT_UNKNOWN,
    Breakeven,
    CloudAnswerCost,
    CloudCost,
    LocalAnswerCost,
    LocalCost,
    breakeven,
    cloud_answer_cost,
    cloud_cost,
    cost_per_million_tokens,
    decide_verdict,
    energy_monthly_usd,
    local_answer_cost,
    local_cost,
)
from routing.pricing.errors import (
    CatalogError,
    PricingError,
    PricingInputError,
    UnknownModelError,
)
from routing.pricing.layers import build_catalog
from routing.pricing.litellm_import import merge_litellm_prices, read_litellm_prices
from routing.pricing.money import Money, Price, format_price, format_usd
from routing.pricing.tokens import TokenUsage, parse_token_count

__all__ = [
    "DAYS_PER_MONTH",
    "HYBRID",
    "SELF_HOST",
    "STAY_ON_CLOUD",
    "VERDICT_UNKNOWN",
    "Breakeven",
    "CatalogError",
    "CloudAnswerCost",
    "CloudCost",
    "LocalAnswerCost",
    "LocalCost",
    "ModelPrice",
    "Money",
    "Price",
    "PriceCatalog",
    "PricingError",
    "PricingInputError",
    "TokenUsage",
    "UnknownModelError",
    "apply_overrides",
    "breakeven",
    "build_catalog",
    "cloud_answer_cost",
    "cloud_cost",
    "cost_per_million_tokens",
    "decide_verdict",
    "energy_monthly_usd",
    "format_price",
    "format_usd",
    "load_catalog_file",
    "load_default_catalog",
    "local_answer_cost",
    "local_cost",
    "merge_litellm_prices",
    "parse_token_count",
    "read_litellm_prices",
    "read_overrides",
]
