"""The price catalog the app prices with: the shipped one, with the user's overrides on top.

The overrides file lives in the data directory (format: docs/COST_MATH.md). A copy of
LiteLLM's `model_prices_and_context_window.json` saved there as `litellm-prices.json` is
laid under the overrides (newer entries win over the shipped catalog); nothing is
fetched. The ledger, the cost report and the `stillroom cost` calculator all read prices
through here, so they agree on every price.
"""

from __future__ import annotations

from pathlib import Path

from inference.user_files import FileProblem, file_problem
from routing.pricing import CatalogError, PriceCatalog, build_catalog

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


def price_overrides_problems(directory: Path) -> list[FileProblem]:
    """Checked once at start: a malformed overrides (or LiteLLM prices) file is named, with
    its entry, and copied aside. Meanwhile prices that needed it stay unknown, never a guess
    or $0: the pricer reports the same error on every answer it cannot price."""
    overrides, litellm = price_overrides_path(directory), directory / LITELLM_PRICES_FILE
    if not (overrides.exists() or litellm.exists()):
        return []
    try:
        load_price_catalog(directory)
    except (CatalogError, RecursionError, TypeError) as exc:
        path = litellm if str(litellm) in str(exc) else overrides
        words = str(exc) if isinstance(exc, CatalogError) else \
            f"{path}: cannot be used ({type(exc).__name__})"
        return [file_problem(path, f"{words}; fix the file or remove it. Costs that need it "
                                   f"are shown as unknown until then.")]
    return []
