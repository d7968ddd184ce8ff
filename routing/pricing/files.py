"""Reading the JSON price files, with errors that name the file and the place in it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from routing.pricing.errors import CatalogError


def read_text(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{where}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{where}: cannot be read ({exc})") from None


def parse_json(text: str, where: str) -> Any:
    try:
        # parse_float=Decimal keeps 0.075 exactly 0.075 instead of a binary approximation.
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
