"""Errors of the pricing package, split by who has to fix them."""


class PricingError(Exception):
    """Base class: every message is one line a person can act on."""


class PricingInputError(PricingError, ValueError):
    """A number, token count or model id the caller typed is not usable."""


class UnknownModelError(PricingInputError, LookupError):
    """The model id is in no catalog layer (shipped, LiteLLM import, user overrides)."""


class CatalogError(PricingError, ValueError):
    """A price file (shipped catalog, user overrides, LiteLLM map) is malformed."""
