"""The shipped price catalog: every id the product promises, dated, sourced, no fake zeros."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from routing.pricing import PriceCatalog, UnknownModelError, load_default_catalog
from routing.pricing.catalog import PRICE_FIELDS, load_catalog_file
from routing.pricing.errors import CatalogError

# Issue 6 item 3 and the seed articles: every model they price, by provider API id.
REQUIRED_IDS = [
    "gpt-5-nano",
    "gpt-5-mini",
    "gpt-5.2",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "o3",
    "claude-sonnet-4-5",
    "claude-sonnet-4-6",
    "claude-opus-4-6",
    "claude-haiku-4-5",
    "gemini-2.0-flash",
    "gemini-2.5-flash",
    "deepseek-v3.2",
    "claude-3-5-sonnet",
    "claude-3-5-haiku",
    "gemini-1.5-pro",
    "gemini-1.5-flash",
    # seed 003's OpenAI table and seed 001's hosted open model
    "gpt-5",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o3-mini",
    "o4-mini",
    "llama-4-maverick",
]


def shipped_text():
    return resources.files("resources").joinpath("prices", "catalog.json").read_text("utf-8")


@pytest.fixture(scope="module")
def raw_catalog():
    return json.loads(shipped_text(), parse_float=Decimal)


@pytest.fixture
def editable_copy():
    """A plain-float copy of the shipped catalog, for tests that break one entry."""
    return json.loads(shipped_text())


def test_every_required_model_is_priced():
    catalog = load_default_catalog()
    missing = [model_id for model_id in REQUIRED_IDS if model_id not in catalog]
    assert missing == []


def test_every_entry_is_dated_no_later_than_the_catalog(raw_catalog):
    catalog_date = date.fromisoformat(raw_catalog["catalog_date"])
    for model_id, entry in raw_catalog["models"].items():
        as_of = date.fromisoformat(entry["as_of"])
        assert date(2024, 1, 1) <= as_of <= catalog_date, model_id


def test_unknown_prices_are_null_never_zero(raw_catalog):
    for model_id, entry in raw_catalog["models"].items():
        for field in (*PRICE_FIELDS, "batch_discount"):
            assert field in entry, f"{model_id} must state {field}, even as null"
            assert entry[field] != 0, f"{model_id}.{field} is 0: write null for unknown"


def test_every_entry_names_its_public_source_and_date(raw_catalog):
    # The source is shown to users (`cost estimate`, its JSON): the public page a price can
    # be checked on and the date, never a file name of ours.
    for model_id, entry in raw_catalog["models"].items():
        source = entry["source"]
        assert "https://" in source, model_id
        assert f"as of {entry['as_of']}" in source, model_id
        assert "shared/seeds" not in source and ".txt" not in source, model_id
    for name, text in raw_catalog["sources"].items():
        assert "shared/seeds" not in text and ".txt" not in text, name


def test_seed_prices_are_carried_exactly():
    catalog = load_default_catalog()
    expected = {
        # model: (input, output) per 1M tokens, from the seed named in each entry's source
        "gpt-5.2": ("1.75", "14.00"),  # seed 001 table
        "deepseek-v3.2": ("0.28", "0.42"),  # seed 001 table
        "claude-3-5-haiku": ("0.80", "4.00"),  # seed 002 table
        "gemini-1.5-flash": ("0.075", "0.30"),  # seed 002 table
        "claude-haiku-4-5": ("1.00", "5.00"),  # seed 003 table
        "gpt-4o": ("2.50", "10.00"),  # seeds 000 and 002
    }
    for model_id, (input_price, output_price) in expected.items():
        entry = catalog.get(model_id)
        assert entry.input.usd_per_mtok == Decimal(input_price), model_id
        assert entry.output.usd_per_mtok == Decimal(output_price), model_id


def test_anthropic_cached_input_is_a_tenth_of_input():
    # Seeds 000 and 003: Anthropic's prompt caching "cuts repeat-context costs by 90%".
    catalog = load_default_catalog()
    for model_id in catalog:
        entry = catalog.get(model_id)
        if entry.provider == "anthropic":
            assert entry.cached_input.usd_per_mtok == entry.input.usd_per_mtok / 10, model_id


def test_alias_resolves_to_its_model():
    entry = load_default_catalog().get("claude-3-5-sonnet-20241022")
    assert entry.model_id == "claude-3-5-sonnet"


def test_unknown_model_suggests_close_ids():
    with pytest.raises(UnknownModelError, match=r"'gpt-4x'.*did you mean.*gpt-4o"):
        load_default_catalog().get("gpt-4x")


def test_catalog_rejects_an_entry_later_than_its_catalog_date(tmp_path, editable_copy):
    document = editable_copy
    document["models"]["gpt-4o"]["as_of"] = "2099-01-01"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CatalogError, match=r"model 'gpt-4o'.*later than the catalog_date"):
        load_catalog_file(path)


def test_catalog_rejects_a_missing_cached_price_field(tmp_path, editable_copy):
    document = editable_copy
    del document["models"]["o3"]["cached_input_usd_per_mtok"]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document))
    with pytest.raises(
        CatalogError, match=r"model 'o3'.*missing field 'cached_input_usd_per_mtok'"
    ):
        load_catalog_file(path)


def test_unedited_copy_loads(tmp_path, editable_copy):
    # Guards the two tests above: their failure must come from the edit, not the copy.
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(editable_copy))
    assert len(load_catalog_file(path)) == len(load_default_catalog())


def test_duplicate_alias_is_refused():
    entries = load_default_catalog().entries()
    entries["gpt-4.1"] = replace(entries["gpt-4.1"], aliases=("gpt-4o-2024-08-06",))
    with pytest.raises(CatalogError, match="gpt-4o-2024-08-06"):
        PriceCatalog(entries)
