"""Identifiers in a table column: a header cell names the identifier, the rows hold the values.

"| Name | Passport No. | Nationality |" puts the word far from every number below it, so the
"passport" + number-within-25-characters rule in personal.py misses all rows but the first.
Pipe- and tab-separated tables are read (Markdown, and cells copied from a spreadsheet); a cell
counts when it looks like an identifier (letters and digits, at least five digits), so "n/a",
"pending" and "XXXXXXXX" do not.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span

# Header cells that name a personal identifier, searched in the folded header line.
_ID_HEADER = re.compile(
    r"\b(?:passport|ssn|social\s+security|national\s+(?:id|insurance)|nino|id\s+(?:number|no)|"
    r"tax\s+id|driver['’]?s?\s+licen[cs]e)\b"
)
_HEADER_NEEDLES = (
    "passport", "ssn", "social security", "national id", "national insurance", "nino",
    "id number", "id no", "tax id", "licence", "license",
)  # fmt: skip
_ID_VALUE = re.compile(r"[A-Z0-9][A-Z0-9\- ]{4,14}[A-Z0-9]")
# Not commas: a comma in a header line is usually prose, and CSV would put this pass on every
# text with a comma and a line break.
_DELIMITERS = ("|", "\t")
_MIN_DIGITS = 5


def has_header_word(folded: str) -> bool:
    """Cheap pre-check: a table of identifiers needs a header naming one."""
    for needle in _HEADER_NEEDLES:  # noqa: SIM110 (a plain loop is cheaper on short text)
        if needle in folded:
            return True
    return False


def find(text: str, folded: str, found: list[Span]) -> None:
    """Append a personal span for every identifier-looking cell under an identifier header."""
    lines_start = 0
    columns: tuple[str, set[int]] | None = None  # delimiter and the identifier columns
    for line in text.split("\n"):
        start = lines_start
        lines_start += len(line) + 1
        if columns is None:
            columns = _header(folded[start : start + len(line)])
            continue
        delimiter, wanted = columns
        if delimiter not in line:
            columns = None  # the table has ended
            continue
        _cells(line, start, delimiter, wanted, found)


def _header(folded_line: str) -> tuple[str, set[int]] | None:
    for delimiter in _DELIMITERS:
        if delimiter in folded_line:
            cells = folded_line.split(delimiter)
            wanted = {i for i, cell in enumerate(cells) if _ID_HEADER.search(cell)}
            return (delimiter, wanted) if wanted else None
    return None


def _cells(line: str, start: int, delimiter: str, wanted: set[int], found: list[Span]) -> None:
    offset = start
    for index, cell in enumerate(line.split(delimiter)):
        if index in wanted:
            value = _ID_VALUE.fullmatch(cell.strip())
            if value and sum(ch.isdigit() for ch in value.group()) >= _MIN_DIGITS:
                begin = offset + len(cell) - len(cell.lstrip())
                found.append(Span(begin, begin + len(value.group()), "personal", "id_in_table"))
        offset += len(cell) + len(delimiter)
