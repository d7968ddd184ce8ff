"""Optional import of LiteLLM's ``model_prices_and_context_window.json`` price map.

Only the file format is used; litellm itself is never imported (it is slow to import, fetches
its map over the network, and two of its PyPI releases shipped a credential stealer). The map
is keyed by model name; each value holds per-token USD rates: ``input_cost_per_token``,
``output_cost_per_token``, ``cache_read_input_token_cost``, ``input_cost_per_token_batches``,
``output_cost_per_token_batches``, plus ``litellm_provider`` and ``mode``. Its first key,
``sample_spec``, documents the schema and is not a model. A key that is absent means
unknown; LiteLLM writes 0.0 for genuinely free models (e.g. local Ollama), so 0 stays 0.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from routing.pricing.catalog import ModelPrice, PriceCatalog
from routing.pricing.errors import CatalogError
from routing.pricing.files import parse_json, read_text
from routing.pricing.money import TOKENS_PER_MILLION, Price

SCHEMA_KEY = "sample_spec"
# Models priced by generated text; embeddings, images and audio are billed in other units.
TEXT_GENERATION_MODES = frozenset({"chat", "completion", "responses"})


def _per_token(value: Any, where: str, field: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise CatalogError(f"{where}: {field} must be a number, got {value!r}")
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise CatalogError(f"{where}: {field} must be a non-negative number, got {value}")
    return number


def _per_million(per_token: Decimal | None) -> Price:
    return Price.unknown() if per_token is None else Price(per_token * TOKENS_PER_MILLION)


def _batch_discount(
    input_rate: Decimal | None,
    output_rate: Decimal | None,
    batch_input: Decimal | None,
    batch_output: Decimal | None,
) -> Decimal | None:
    """One discount for all token kinds, or None when LiteLLM's batch rates don't imply one."""
    if None in (input_rate, output_rate, batch_input, batch_output):
        return None
    if input_rate == 0 or output_rate == 0:
        return None
    input_discount = 1 - batch_input / input_rate
    output_discount = 1 - batch_output / output_rate
    if input_discount != output_discount or not (0 <= input_discount < 1):
        return None
    return input_discount


def file_date(path: Path) -> date:
    """The file's modification date (UTC): LiteLLM's map carries no per-entry dates."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()


def read_litellm_prices(path: str | Path, *, as_of: date | None = None) -> dict[str, ModelPrice]:
    """Parse a LiteLLM price map into catalog entries, keyed by LiteLLM's model names.

    ``as_of`` dates every entry; by default it is the file's modification date. Entries
    whose ``mode`` is not text generation, or that have neither an input nor an output rate,
    are skipped.
    """
    file_path = Path(path)
    where = f"LiteLLM price map {str(path)!r}"
    document = parse_json(read_text(file_path, where), where)
    if not isinstance(document, dict):
        raise CatalogError(f"{where}: expected a JSON object keyed by model name")
    dated = as_of if as_of is not None else file_date(file_path)
    source = f"LiteLLM price map {file_path.name} (file dated {dated.isoformat()})"
    imported: dict[str, ModelPrice] = {}
    for model_id, raw in document.items():
        if model_id == SCHEMA_KEY:
            continue
        entry_where = f"{where}, model {model_id!r}"
        if not isinstance(raw, dict):
            raise CatalogError(f"{entry_where}: expected an object, got {type(raw).__name__}")
        mode = raw.get("mode")
        if mode is not None and mode not in TEXT_GENERATION_MODES:
            continue
        input_rate = _per_token(
            raw.get("input_cost_per_token"), entry_where, "input_cost_per_token"
        )
        output_rate = _per_token(
            raw.get("output_cost_per_token"), entry_where, "output_cost_per_token"
        )
        if input_rate is None and output_rate is None:
            continue
        cached_rate = _per_token(
            raw.get("cache_read_input_token_cost"), entry_where, "cache_read_input_token_cost"
        )
        batch_input = _per_token(
            raw.get("input_cost_per_token_batches"), entry_where, "input_cost_per_token_batches"
        )
        batch_output = _per_token(
            raw.get("output_cost_per_token_batches"), entry_where, "output_cost_per_token_batches"
        )
        provider = raw.get("litellm_provider")
        imported[model_id] = ModelPrice(
            model_id=model_id,
            provider=provider if isinstance(provider, str) and provider else "unknown",
            input=_per_million(input_rate),
            output=_per_million(output_rate),
            cached_input=_per_million(cached_rate),
            batch_discount=_batch_discount(input_rate, output_rate, batch_input, batch_output),
            as_of=dated,
            source=source,
            notes=f"LiteLLM mode: {mode}" if mode else None,
        )
    return imported


def merge_litellm_prices(
    catalog: PriceCatalog, path: str | Path, *, as_of: date | None = None
) -> PriceCatalog:
    """``catalog`` with a LiteLLM map laid over it, keeping whichever entry is dated later."""
    return catalog.merged(read_litellm_prices(path, as_of=as_of), prefer_newer=True)
