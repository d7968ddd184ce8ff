"""Assembling the catalog a session prices with: shipped, then LiteLLM, then the user's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from routing.pricing.catalog import PriceCatalog, apply_overrides, load_default_catalog
from routing.pricing.litellm_import import merge_litellm_prices


def build_catalog(
    *,
    overrides_path: str | Path | None = None,
    litellm_path: str | Path | None = None,
    litellm_as_of: date | None = None,
) -> PriceCatalog:
    """The shipped catalog, a LiteLLM map over it (newer entries win), user overrides on top."""
    catalog = load_default_catalog()
    if litellm_path is not None:
        catalog = merge_litellm_prices(catalog, litellm_path, as_of=litellm_as_of)
    if overrides_path is not None:
        catalog = apply_overrides(catalog, overrides_path)
    return catalog
