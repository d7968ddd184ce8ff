from decimal import Decimal
from pathlib import Path

import pytest

from app.metering.price_catalog import LITELLM_PRICES_FILE, load_price_catalog
from routing.pricing.errors import UnknownModelError
from tests.routing.test_pricing_litellm import LITELLM_MAP


def test_a_litellm_map_in_the_data_directory_prices_new_models(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError):
        load_price_catalog(tmp_path).get("anthropic/claude-odd-batch")
    (tmp_path / LITELLM_PRICES_FILE).write_text(LITELLM_MAP, encoding="utf-8")
    price = load_price_catalog(tmp_path).get("anthropic/claude-odd-batch")
    assert price.input.usd_per_mtok == Decimal("1")
    assert price.source.startswith("LiteLLM price map litellm-prices.json")
