"""User-defined terms: client and matter names, code names.

Whole-word and case-insensitive, for any script: "Harrow" matches "HARROW's" but not
"harrowing". Writing systems without spaces between words (Chinese, Japanese, Thai) have no
word boundary to test, so terms in them match anywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from routing.sensitivity.report import Span

_UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR")


def find(text: str, terms: Sequence[str], found: list[Span]) -> None:
    """Append a span to found for every occurrence of one of the user's terms."""
    if not terms:
        return
    pattern = _compile(tuple(terms))
    if pattern is None:
        return
    for match in pattern.finditer(text):
        found.append(Span(match.start(), match.end(), "custom", "user_term"))


@lru_cache(maxsize=64)
def _compile(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation for all terms, longest first so "Acme Holdings" beats "Acme"."""
    alternatives = []
    for term in sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True):
        # Any run of whitespace in the text matches a space in the term: line breaks in pasted
        # documents should not hide a client's name.
        body = r"\s+".join(re.escape(word) for word in term.split())
        before = r"(?<!\w)" if _needs_boundary(term[0]) else ""
        after = r"(?!\w)" if _needs_boundary(term[-1]) else ""
        alternatives.append(f"{before}{body}{after}")
    if not alternatives:
        return None
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _needs_boundary(char: str) -> bool:
    if not (char.isalnum() or char == "_"):
        return False  # "C++" or "(Project)": a symbol is its own edge
    return not unicodedata.name(char, "").startswith(_UNSPACED_SCRIPTS)
