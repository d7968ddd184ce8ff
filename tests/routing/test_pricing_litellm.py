"""Import of LiteLLM's model_prices_and_context_window.json format, on a fabricated map."""

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from routing.pricing import build_catalog, load_default_catalog, read_litellm_prices
from routing.pricing.errors import CatalogError

# Shaped like LiteLLM's map: per-token USD floats, a schema entry, non-text modes mixed in.
LITELLM_MAP = """{
  "sample_spec": {"input_cost_per_token": 0.0, "litellm_provider": "one of ...", "mode": "one of"},
  "gpt-4o": {
    "litellm_provider": "openai", "mode": "chat",
    "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
    "cache_read_input_token_cost": 1.25e-06,
    "input_cost_per_token_batches": 1.25e-06, "output_cost_per_token_batches": 5e-06
  },
  "anthropic/claude-odd-batch": {
    "litellm_provider": "anthropic", "mode": "chat",
    "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06,
    "input_cost_per_token_batches": 5e-07, "output_cost_per_token_batches": 4e-06
  },
  "ollama/llama3": {
    "litellm_provider": "ollama", "mode": "completion",
    "input_cost_per_token": 0.0, "output_cost_per_token": 0.0
  },
  "half-known": {"litellm_provider": "acme", "input_cost_per_token": 3e-07},
  "text-embedding-3-small": {
    "litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 2e-08
  },
  "dall-e-3": {
    "litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04
  }
}"""


@pytest.fixture
def litellm_file(tmp_path):
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(LITELLM_MAP)
    return path


def test_per_token_rates_become_exact_per_million(litellm_file):
    prices = read_litellm_prices(litellm_file, as_of=date(2026, 11, 20))
    gpt = prices["gpt-4o"]
    assert gpt.provider == "openai"
    assert gpt.input.usd_per_mtok == Decimal("2.5")
    assert gpt.output.usd_per_mtok == Decimal("10")
    assert gpt.cached_input.usd_per_mtok == Decimal("1.25")
    assert gpt.batch_discount == Decimal("0.5")
    assert gpt.as_of == date(2026, 11, 20)
    assert "model_prices_and_context_window.json" in gpt.source


def test_only_text_generation_entries_with_a_rate_are_imported(litellm_file):
    prices = read_litellm_prices(litellm_file, as_of=date(2026, 11, 20))
    assert set(prices) == {"gpt-4o", "anthropic/claude-odd-batch", "ollama/llama3", "half-known"}


def test_absent_rate_is_unknown_but_litellm_zero_stays_free(litellm_file):
    prices = read_litellm_prices(litellm_file, as_of=date(2026, 11, 20))
    assert not prices["half-known"].output.is_known
    assert not prices["half-known"].cached_input.is_known
    assert prices["ollama/llama3"].output.usd_per_mtok == 0


def test_batch_rates_that_differ_by_token_kind_give_no_single_discount(litellm_file):
    prices = read_litellm_prices(litellm_file, as_of=date(2026, 11, 20))
    assert prices["anthropic/claude-odd-batch"].batch_discount is None


def test_as_of_defaults_to_the_file_date(litellm_file):
    stamp = datetime(2026, 6, 15, 12, tzinfo=UTC).timestamp()
    os.utime(litellm_file, (stamp, stamp))
    assert read_litellm_prices(litellm_file)["gpt-4o"].as_of == date(2026, 6, 15)


def test_newer_import_replaces_shipped_entry_and_older_does_not(litellm_file):
    newer = build_catalog(litellm_path=litellm_file, litellm_as_of=date(2026, 11, 20))
    assert newer.get("gpt-4o").cached_input.usd_per_mtok == Decimal("1.25")
    older = build_catalog(litellm_path=litellm_file, litellm_as_of=date(2025, 1, 1))
    assert older.get("gpt-4o") == load_default_catalog().get("gpt-4o")
    assert "half-known" in older  # ids the shipped catalog lacks are added either way


def test_user_override_wins_over_the_import(litellm_file, tmp_path):
    overrides = tmp_path / "prices.json"
    overrides.write_text(
        json.dumps({"models": {"gpt-4o": {"input_usd_per_mtok": 2.0, "as_of": "2026-01-01"}}})
    )
    catalog = build_catalog(
        overrides_path=overrides, litellm_path=litellm_file, litellm_as_of=date(2026, 11, 20)
    )
    assert catalog.get("gpt-4o").input.usd_per_mtok == Decimal("2.0")


def test_imported_snapshot_id_takes_precedence_over_a_shipped_alias(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(
        json.dumps({"gpt-4o-2024-08-06": {"mode": "chat", "input_cost_per_token": 5e-06}})
    )
    catalog = build_catalog(litellm_path=path, litellm_as_of=date(2026, 11, 20))
    assert catalog.get("gpt-4o-2024-08-06").model_id == "gpt-4o-2024-08-06"
    assert catalog.get("gpt-4o").model_id == "gpt-4o"


def test_negative_rate_names_the_entry(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"bad-model": {"mode": "chat", "input_cost_per_token": -1e-06}}))
    with pytest.raises(CatalogError, match=r"model 'bad-model': input_cost_per_token must be"):
        read_litellm_prices(path, as_of=date(2026, 11, 20))
