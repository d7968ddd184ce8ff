"""The price catalog the app prices with: the shipped one, with the user's overrides on top.

The overrides file lives in the data directory (format: docs/COST_MATH.md). A copy of
LiteLLM's `model_prices_and_context_window.json` saved there as `litellm-prices.json` is
laid under the overrides (newer entries win over the shipped catalog); nothing is
fetched. The ledger, the cost report and the `stillroom cost` calculator all read prices
through here, so they agree on every price.
"""

from __future__ import annotations

from pathlib import Path

from routing.pricing import PriceCatalog, build_catalog

PRICE_OVERRIDES_FILE = "price-overrides.json"
LITELLM_PRICES_FILE = "litellm-prices.json"


def price_overrides_path(directory: Path) -> Path:
    return directory / PRICE_OVERRIDES_FILE


def load_price_catalog(directory: Path) -> PriceCatalog:
    """Raise CatalogError (worded for the user) when the overrides file is malformed."""
    overrides = price_overrides_path(directory)
    litellm = directory / LITELLM_PRICES_FILE
    return build_catalog(overrides_path=overrides if overrides.exists() else None,
                         litellm_path=litellm if litellm.exists() else None)
