"""User price overrides: merged over the shipped catalog, validated, errors name the entry."""

import json
from datetime import date
from decimal import Decimal

import pytest

from routing.pricing import apply_overrides, build_catalog, load_default_catalog
from routing.pricing.errors import CatalogError


def write(tmp_path, document, name="prices.json"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_partial_override_replaces_only_what_it_names(tmp_path):
    path = write(
        tmp_path,
        {"models": {"gpt-4o": {"cached_input_usd_per_mtok": 1.25, "as_of": "2026-11-01"}}},
    )
    entry = apply_overrides(load_default_catalog(), path).get("gpt-4o")
    assert entry.cached_input.usd_per_mtok == Decimal("1.25")
    assert entry.input.usd_per_mtok == Decimal("2.50")  # kept from the shipped catalog
    assert entry.as_of == date(2026, 11, 1)
    assert str(path) in entry.source


def test_new_model_is_added_with_its_own_source(tmp_path):
    path = write(
        tmp_path,
        {
            "models": {
                "my-finetune": {
                    "provider": "openrouter",
                    "input_usd_per_mtok": 0.5,
                    "output_usd_per_mtok": 1.5,
                    "as_of": "2026-10-01",
                    "source": "invoice 2026-10",
                }
            }
        },
    )
    entry = build_catalog(overrides_path=path).get("my-finetune")
    assert entry.output.usd_per_mtok == Decimal("1.5")
    assert not entry.cached_input.is_known
    assert entry.batch_discount is None
    assert entry.source == "invoice 2026-10"


def test_override_by_alias_updates_the_aliased_model(tmp_path):
    path = write(
        tmp_path,
        {
            "models": {
                "claude-3-5-haiku-20241022": {"output_usd_per_mtok": 4.4, "as_of": "2026-11-01"}
            }
        },
    )
    catalog = apply_overrides(load_default_catalog(), path)
    assert catalog.get("claude-3-5-haiku").output.usd_per_mtok == Decimal("4.4")
    assert "claude-3-5-haiku-20241022" not in set(catalog)  # no shadow entry


def test_user_may_mark_a_price_unknown_or_free(tmp_path):
    path = write(
        tmp_path,
        {
            "models": {
                "gpt-4o": {"output_usd_per_mtok": None, "as_of": "2026-11-01"},
                "gpt-4o-mini": {"input_usd_per_mtok": 0, "as_of": "2026-11-01"},
            }
        },
    )
    catalog = apply_overrides(load_default_catalog(), path)
    assert not catalog.get("gpt-4o").output.is_known
    assert catalog.get("gpt-4o-mini").input.usd_per_mtok == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"models": {"gpt-4o": {"input_usd_per_mtok": -1, "as_of": "2026-11-01"}}},
            r"model 'gpt-4o': input_usd_per_mtok must be a non-negative number or null, got -1",
        ),
        (
            {"models": {"gpt-4o": {"input_usd": 2, "as_of": "2026-11-01"}}},
            r"model 'gpt-4o': unknown field 'input_usd'",
        ),
        (
            {"models": {"gpt-4o": {"input_usd_per_mtok": 2}}},
            r"model 'gpt-4o': as_of \(YYYY-MM-DD\) is required when an override changes a price",
        ),
        (
            {"models": {"gpt-4o": {"input_usd_per_mtok": 2, "as_of": "11/01/2026"}}},
            r"model 'gpt-4o': as_of must be a date written YYYY-MM-DD, got '11/01/2026'",
        ),
        (
            {"models": {"gpt-4o": {"input_usd_per_mtok": 2, "as_of": "2026-02-30"}}},
            r"model 'gpt-4o': as_of '2026-02-30' is not a real calendar date",
        ),
        (
            {"models": {"gpt-4o": {"input_usd_per_mtok": "2.5", "as_of": "2026-11-01"}}},
            r"model 'gpt-4o': input_usd_per_mtok must be a number or null \(unknown\), got '2.5'",
        ),
        (
            {"models": {"gpt-4o": {"batch_discount": 1.5, "as_of": "2026-11-01"}}},
            r"model 'gpt-4o': batch_discount must be at least 0 and below 1",
        ),
        (
            {"models": {"brand-new": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}}},
            r"model 'brand-new': missing field 'provider'",
        ),
        ({"modles": {}}, r"unknown top-level key 'modles'"),
        ({"models": []}, r'"models" must be an object keyed by model id'),
        ({"currency": "EUR", "models": {}}, r"currency must be USD, got 'EUR'"),
        ('{"models": {"gpt-4o": }', r"not valid JSON \(line 1, column 23: Expecting value"),
    ],
)
def test_bad_override_is_refused_naming_file_and_entry(tmp_path, document, message):
    path = write(tmp_path, document)
    with pytest.raises(CatalogError, match=message) as caught:
        apply_overrides(load_default_catalog(), path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_overrides_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match=r"prices.json.*file not found"):
        build_catalog(overrides_path=tmp_path / "prices.json")
