"""The dated cloud price catalog: shipped JSON, user overrides, and lookups by model id.

Layers, lowest first: the catalog shipped in ``resources/prices/catalog.json``, an optional
LiteLLM price map (see ``litellm_import``), then the user's overrides file. A user override
always wins; an imported LiteLLM entry replaces a shipped one only when it is dated the same
day or later, so an old download never hides a newer seed figure.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from routing.pricing.errors import CatalogError, UnknownModelError
from routing.pricing.files import parse_json, read_text
from routing.pricing.money import Price

PRICE_FIELDS = ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok")
ENTRY_FIELDS = (
    "provider",
    *PRICE_FIELDS,
    "batch_discount",
    "as_of",
    "source",
    "aliases",
    "notes",
)
# Fields whose change makes a new date necessary: a price without its date is what we avoid.
DATED_FIELDS = (*PRICE_FIELDS, "batch_discount")
CATALOG_TOP_LEVEL = (
    "schema",
    "currency",
    "unit",
    "catalog_date",
    "conventions",
    "sources",
    "models",
)
OVERRIDES_TOP_LEVEL = ("comment", "currency", "models")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class ModelPrice:
    """One model's list prices, with the date and the source they come from."""

    model_id: str
    provider: str
    input: Price
    output: Price
    cached_input: Price
    batch_discount: Decimal | None
    as_of: date
    source: str
    aliases: tuple[str, ...] = ()
    notes: str | None = None


class PriceCatalog:
    """Model id (or alias) -> ModelPrice. Immutable; merging returns a new catalog."""

    def __init__(self, entries: Mapping[str, ModelPrice]) -> None:
        self._entries = dict(entries)
        self._aliases: dict[str, str] = {}
        for model_id, entry in self._entries.items():
            for alias in entry.aliases:
                owner = self._aliases.get(alias)
                if alias in self._entries or (owner is not None and owner != model_id):
                    raise CatalogError(
                        f"alias {alias!r} of model {model_id!r} is already "
                        f"{'a model id' if alias in self._entries else f'an alias of {owner!r}'}"
                    )
                self._aliases[alias] = model_id

    def get(self, model_id: str) -> ModelPrice:
        """The entry for an id or alias; UnknownModelError names the closest known ids."""
        if model_id in self._entries:
            return self._entries[model_id]
        if model_id in self._aliases:
            return self._entries[self._aliases[model_id]]
        known = [*self._entries, *self._aliases]
        close = difflib.get_close_matches(model_id, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(
            f"unknown cloud model {model_id!r}{hint} "
            "(add it to your price overrides file to price it)"
        )

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._entries or model_id in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> dict[str, ModelPrice]:
        return dict(self._entries)

    def merged(self, incoming: Mapping[str, ModelPrice], *, prefer_newer: bool) -> PriceCatalog:
        """A catalog with ``incoming`` laid over this one.

        ``prefer_newer=True`` keeps an existing entry that is dated later than the incoming
        one; ``False`` lets every incoming entry win (user overrides).
        """
        entries = dict(self._entries)
        for model_id, entry in incoming.items():
            current = entries.get(model_id)
            if prefer_newer and current is not None and current.as_of > entry.as_of:
                continue
            entries[model_id] = entry
        # An incoming id may equal an alias of another entry (LiteLLM lists dated snapshots
        # as models); the exact id wins, so the stale alias is dropped.
        for model_id, entry in list(entries.items()):
            kept = tuple(alias for alias in entry.aliases if alias not in incoming)
            if kept != entry.aliases:
                entries[model_id] = replace(entry, aliases=kept)
        return PriceCatalog(entries)


# ---------------------------------------------------------------------------- parsing


def _fail(where: str, message: str) -> CatalogError:
    return CatalogError(f"{where}: {message}")


def _parse_price(value: Any, where: str, field: str) -> Price:
    if value is None:
        return Price.unknown()
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _fail(where, f"{field} must be a number or null (unknown), got {value!r}")
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise _fail(where, f"{field} must be a non-negative number or null, got {value}")
    return Price(number)


def _parse_batch_discount(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _fail(where, f"batch_discount must be a fraction such as 0.5 or null, got {value!r}")
    number = Decimal(value)
    if not (0 <= number < 1):
        raise _fail(
            where, f"batch_discount must be at least 0 and below 1 (0.5 = half price), got {value}"
        )
    return number


def _parse_date(value: Any, where: str, field: str = "as_of") -> date:
    # date.fromisoformat alone would also take '20260301'; the catalog keeps one spelling.
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise _fail(where, f"{field} must be a date written YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(where, f"{field} {value!r} is not a real calendar date") from None


def _parse_text(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{field} must be a non-empty string, got {value!r}")
    return value.strip()


def _parse_aliases(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise _fail(where, f"aliases must be a list of model ids, got {value!r}")
    return tuple(a.strip() for a in value)


def _check_fields(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(where, f"expected an object of price fields, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(ENTRY_FIELDS))
    if unknown:
        raise _fail(
            where,
            f"unknown field {unknown[0]!r} (expected some of: {', '.join(ENTRY_FIELDS)})",
        )
    return raw


def parse_entry(
    model_id: str,
    raw: Any,
    *,
    where: str,
    require_every_field: bool = False,
    default_source: str | None = None,
) -> ModelPrice:
    """Validate one complete entry. ``where`` prefixes every error (file and model id).

    ``require_every_field`` (the shipped catalog) insists that cached-input price and batch
    discount are written out, even as null, so each was looked for rather than forgotten.
    """
    fields = _check_fields(raw, where)
    required = ["provider", "input_usd_per_mtok", "output_usd_per_mtok", "as_of"]
    if default_source is None:
        required.append("source")
    if require_every_field:
        required += ["cached_input_usd_per_mtok", "batch_discount"]
    missing = [name for name in required if name not in fields]
    if missing:
        raise _fail(where, f"missing field {missing[0]!r}")
    source = fields.get("source", default_source)
    return ModelPrice(
        model_id=model_id,
        provider=_parse_text(fields["provider"], where, "provider"),
        input=_parse_price(fields["input_usd_per_mtok"], where, "input_usd_per_mtok"),
        output=_parse_price(fields["output_usd_per_mtok"], where, "output_usd_per_mtok"),
        cached_input=_parse_price(
            fields.get("cached_input_usd_per_mtok"), where, "cached_input_usd_per_mtok"
        ),
        batch_discount=_parse_batch_discount(fields.get("batch_discount"), where),
        as_of=_parse_date(fields["as_of"], where),
        source=_parse_text(source, where, "source"),
        aliases=_parse_aliases(fields.get("aliases", []), where),
        notes=_parse_text(fields["notes"], where, "notes") if "notes" in fields else None,
    )


def _apply_partial(base: ModelPrice, raw: Any, *, where: str, default_source: str) -> ModelPrice:
    """Lay a partial override over an existing entry; changing a price needs a new as_of."""
    fields = _check_fields(raw, where)
    if any(name in fields for name in DATED_FIELDS) and "as_of" not in fields:
        raise _fail(where, "as_of (YYYY-MM-DD) is required when an override changes a price")
    updates: dict[str, Any] = {}
    if "provider" in fields:
        updates["provider"] = _parse_text(fields["provider"], where, "provider")
    for name, attribute in zip(PRICE_FIELDS, ("input", "output", "cached_input"), strict=True):
        if name in fields:
            updates[attribute] = _parse_price(fields[name], where, name)
    if "batch_discount" in fields:
        updates["batch_discount"] = _parse_batch_discount(fields["batch_discount"], where)
    if "as_of" in fields:
        updates["as_of"] = _parse_date(fields["as_of"], where)
    # The override's own source replaces the catalog's, because the figures changed hands.
    updates["source"] = _parse_text(fields.get("source", default_source), where, "source")
    if "aliases" in fields:
        updates["aliases"] = _parse_aliases(fields["aliases"], where)
    if "notes" in fields:
        updates["notes"] = _parse_text(fields["notes"], where, "notes")
    return replace(base, **updates)


def _models_section(document: Any, where: str, allowed_top_level: tuple[str, ...]) -> dict:
    if not isinstance(document, dict):
        raise _fail(where, 'expected a JSON object with a "models" object')
    unknown = sorted(set(document) - set(allowed_top_level))
    if unknown:
        raise _fail(
            where,
            f"unknown top-level key {unknown[0]!r} (expected: {', '.join(allowed_top_level)})",
        )
    if document.get("currency", "USD") != "USD":
        raise _fail(where, f"currency must be USD, got {document['currency']!r}")
    models = document.get("models")
    if not isinstance(models, dict):
        raise _fail(where, '"models" must be an object keyed by model id')
    return models


def parse_catalog_document(document: Any, *, where: str) -> PriceCatalog:
    """Validate a whole catalog document (the shipped file's shape)."""
    models = _models_section(document, where, CATALOG_TOP_LEVEL)
    catalog_date = _parse_date(document.get("catalog_date"), where, "catalog_date")
    entries = {}
    for model_id, raw in models.items():
        entry = parse_entry(
            model_id, raw, where=f"{where}, model {model_id!r}", require_every_field=True
        )
        if entry.as_of > catalog_date:
            raise _fail(
                f"{where}, model {model_id!r}",
                f"as_of {entry.as_of} is later than the catalog_date {catalog_date}",
            )
        entries[model_id] = entry
    try:
        return PriceCatalog(entries)
    except CatalogError as exc:
        raise _fail(where, str(exc)) from None


def load_catalog_file(path: str | Path) -> PriceCatalog:
    """A catalog in the shipped format from any path (tests, a user's full replacement)."""
    where = f"price catalog {str(path)!r}"
    return parse_catalog_document(parse_json(read_text(Path(path), where), where), where=where)


@lru_cache(maxsize=1)
def load_default_catalog() -> PriceCatalog:
    """The catalog shipped inside the ``resources`` package (works from a wheel or a zip)."""
    resource = resources.files("resources").joinpath("prices", "catalog.json")
    where = "shipped price catalog resources/prices/catalog.json"
    return parse_catalog_document(
        parse_json(resource.read_text(encoding="utf-8"), where), where=where
    )


def read_overrides(path: str | Path, base: PriceCatalog) -> dict[str, ModelPrice]:
    """Parse a user overrides file against ``base``.

    Shape: ``{"models": {"<id>": {...fields...}}}``. For an id ``base`` knows, any subset of
    fields may be given (a changed price needs ``as_of``); a new id needs provider, input and
    output prices and ``as_of``. ``source`` defaults to naming the overrides file.
    """
    where = f"price overrides file {str(path)!r}"
    document = parse_json(read_text(Path(path), where), where)
    models = _models_section(document, where, OVERRIDES_TOP_LEVEL)
    default_source = f"user override ({path})"
    parsed: dict[str, ModelPrice] = {}
    for model_id, raw in models.items():
        entry_where = f"{where}, model {model_id!r}"
        if not isinstance(model_id, str) or not model_id.strip():
            raise _fail(where, f"model id {model_id!r} must be a non-empty string")
        if model_id in base:
            parsed[model_id] = _apply_partial(
                base.get(model_id), raw, where=entry_where, default_source=default_source
            )
        else:
            parsed[model_id] = parse_entry(
                model_id, raw, where=entry_where, default_source=default_source
            )
    return parsed


def apply_overrides(catalog: PriceCatalog, path: str | Path) -> PriceCatalog:
    """``catalog`` with the user's overrides file laid over it; the user always wins."""
    overrides = read_overrides(path, catalog)
    # An override addressed by alias updates the aliased model rather than shadowing it.
    by_id: dict[str, ModelPrice] = {}
    for key, entry in overrides.items():
        target = catalog.get(key).model_id if key in catalog else key
        by_id[target] = replace(entry, model_id=target)
    try:
        return catalog.merged(by_id, prefer_newer=False)
    except CatalogError as exc:
        raise CatalogError(f"price overrides file {str(path)!r}: {exc}") from None
