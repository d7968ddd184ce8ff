"""Identifiers in a table column: a header cell names the identifier, the rows hold the values.

"| Name | Passport No. | Nationality |" puts the word far from every number below it, so the
"passport" + number-within-25-characters rule in personal.py misses all rows but the first.
Pipe- and tab-separated tables are read (Markdown, and cells copied from a spreadsheet); a cell
counts when it looks like what its header names: an identifier (letters and digits, at least
five digits, so "n/a", "pending" and "XXXXXXXX" do not), a date of birth, an ABA routing number
that passes its checksum, a bank account number (6 to 17 digits) or a sort code.
"""

from __future__ import annotations

import re

from routing.sensitivity import checksums
from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES

# Header cells that name a personal identifier, searched in the folded header line.
_ID_HEADER = re.compile(
    r"\b(?:passport|ssn|social\s+security|national\s+(?:id|insurance)|nino|id\s+(?:number|no)|"
    r"tax\s+id|driver['’]?s?\s+licen[cs]e)\b"
)
# Sixth round: dates of birth and bank details in their own columns (a payroll export).
_DOB_HEADER = re.compile(
    r"\b(?:dob|d\.o\.b\.?|date[\s_]+of[\s_]+birth|birth[\s_]*date|geburtsdatum|"
    r"fecha[\s_]+de[\s_]+nacimiento|date[\s_]+de[\s_]+naissance|data[\s_]+di[\s_]+nascita)\b"
)
_ROUTING_HEADER = re.compile(r"\b(?:routing(?:[\s_]+(?:number|no|#))?|aba|rtn)\b")
_ACCOUNT_HEADER = re.compile(
    r"\b(?:(?:bank[\s_]+)?account(?:[\s_]+(?:number|no|#))?|acct(?:[\s_]+no)?|acc[\s_]+no)\b"
)
_SORT_CODE_HEADER = re.compile(r"\bsort[\s_]+code\b")
_HEADER_WORD = GATES.any_of(
    "passport", "ssn", "social security", "national id", "national insurance", "nino",
    "id number", "id no", "tax id", "licence", "license",
    "dob", "d.o.b", "birth", "geburtsdatum", "nacimiento", "naissance", "nascita", "routing",
    "aba", "rtn", "account", "acct", "acc no", "acc_no", "sort code", "sort_code",
)  # fmt: skip
_DATE_VALUE = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
)
_ID_VALUE = re.compile(r"[A-Z0-9][A-Z0-9\- ]{4,14}[A-Z0-9]")
# Not commas: a comma in a header line is usually prose, and CSV would put this pass on every
# text with a comma and a line break.
_DELIMITERS = ("|", "\t")
_MIN_DIGITS = 5


def has_header_word(gates: int) -> bool:
    """Cheap pre-check: a table of identifiers needs a header naming one (gates:
    text.GATES.present of the prompt)."""
    return bool(gates & _HEADER_WORD)


def find(text: str, folded: str, found: list[Span]) -> None:
    """Append a span for every cell that looks like what its column's header names."""
    lines_start = 0
    columns: tuple[str, dict[int, str]] | None = None  # delimiter, and each wanted column
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


def _header(folded_line: str) -> tuple[str, dict[int, str]] | None:
    for delimiter in _DELIMITERS:
        if delimiter in folded_line:
            wanted = {}
            for index, cell in enumerate(folded_line.split(delimiter)):
                column = _column_kind(cell)
                if column is not None:
                    wanted[index] = column
            return (delimiter, wanted) if wanted else None
    return None


def _column_kind(cell: str) -> str | None:
    if _ID_HEADER.search(cell):
        return "id_in_table"
    if _DOB_HEADER.search(cell):
        return "date_of_birth"
    if _ROUTING_HEADER.search(cell):
        return "aba_routing"
    if _SORT_CODE_HEADER.search(cell):
        return "sort_code"
    if _ACCOUNT_HEADER.search(cell):
        return "account_number"
    return None


def _cells(
    line: str, start: int, delimiter: str, wanted: dict[int, str], found: list[Span]
) -> None:
    offset = start
    for index, cell in enumerate(line.split(delimiter)):
        kind = wanted.get(index)
        if kind is not None:
            value = cell.strip()
            if _cell_matches(kind, value):
                begin = offset + len(cell) - len(cell.lstrip())
                category = "personal" if kind in ("id_in_table", "date_of_birth") else "financial"
                found.append(Span(begin, begin + len(value), category, kind))
        offset += len(cell) + len(delimiter)


def _cell_matches(kind: str, value: str) -> bool:
    if kind == "id_in_table":
        shaped = _ID_VALUE.fullmatch(value)
        return bool(shaped) and sum(ch.isdigit() for ch in value) >= _MIN_DIGITS
    if kind == "date_of_birth":
        return _DATE_VALUE.fullmatch(value) is not None
    digits = value.replace("-", "").replace(" ", "")
    if kind == "aba_routing":
        return checksums.aba_valid(digits)
    if kind == "sort_code":
        return len(digits) == 6 and digits.isdigit()
    return digits.isdigit() and 6 <= len(digits) <= 17
