"""Identifiers in a table column: a header cell names the identifier, the rows hold the values.

"| Name | Passport No. | Nationality |" puts the word far from every number below it, so the
"passport" + number-within-25-characters rule in personal.py misses all rows but the first.
Pipe- and tab-separated tables are read (Markdown, and cells copied from a spreadsheet), and
comma- or semicolon-separated exports (CSV, and the semicolon CSV of European spreadsheets) where
the first line reads as a header row: every cell a short label, no sentence. A cell counts when
it looks like what its header names: an identifier (letters and digits, at least five digits, so
"n/a", "pending" and "XXXXXXXX" do not), a date of birth, an ABA routing number that passes its
checksum, a bank account number (6 to 17 digits), a sort code or an Australian BSB.

A bare "Account" column in a CSV is as often a customer account (a CRM export) as a bank one:
there it counts only when the header names a bank account ("account number", "bank account",
"Kontonummer", "IBAN"'s neighbours) or another banking column stands beside it (sort code,
routing, BSB, IBAN, BIC/SWIFT, bank).
"""

from __future__ import annotations

import csv
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
# A column of account numbers, named as such in the usual languages.
_BANK_ACCOUNT_HEADER = re.compile(
    r"\b(?:(?:bank[\s_]+)?account[\s_]*(?:number|no\.?|nr\.?|#)|bank[\s_]+account|"
    r"acct(?:[\s_]*(?:no|number|#))?|acc[\s_]+no|a/c(?:[\s_]+no)?|kontonummer|konto[\s_-]*nr|"
    r"n(?:°|o|um[ée]ro)[\s_]*(?:de[\s_]+)?compte|num[ée]ro[\s_]+de[\s_]+(?:cuenta|conta)|"
    r"n[úu]m\.?[\s_]+(?:de[\s_]+)?(?:cuenta|conta)|numero[\s_]+(?:di[\s_]+)?conto|"
    r"n\.?[\s_]*conto|rekening(?:nummer|[\s_]*nr)|(?:nr|numer)[\s_]+konta|"
    r"口座番号|银行账号|账号|帳號)"
)
# "Account" alone, or "Konto", "compte", "cuenta", "conto", "rekening", "conta": a bank account
# in a payroll table, a customer account in a CRM export (see the module's note).
_ACCOUNT_HEADER = re.compile(
    r"\b(?:account(?:[\s_]+(?:number|no|#))?|konto|compte|cuenta|conto|rekening|conta)\b"
)
_SORT_CODE_HEADER = re.compile(r"\bsort[\s_]*code\b")
_BSB_HEADER = re.compile(r"\bbsb\b")
# Columns that make a table a bank's, whatever else they hold: the account beside them is one.
_BANKING_COLUMN = re.compile(
    r"\b(?:iban|bic|swift|bank|banque|banco|banca|blz|bankleitzahl|sort[\s_]*code|bsb|"
    r"routing|aba|payee|beneficiary|begünstigter|bénéficiaire|beneficiario|begunstigde)\b"
)
_HEADER_WORD = GATES.any_of(
    "passport", "ssn", "social security", "national id", "national insurance", "nino",
    "id number", "id no", "tax id", "licence", "license",
    "dob", "d.o.b", "birth", "geburtsdatum", "nacimiento", "naissance", "nascita", "routing",
    "aba", "rtn", "account", "acct", "acc no", "acc_no", "sort code", "sort_code", "sortcode",
    "konto", "compte", "cuenta", "rekening", "口座番号", "账号", "帳號",
) | GATES.words("bsb", "conto", "conta", "konta")  # not "contact", "contain"  # fmt: skip
_DATE_VALUE = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
)
_ID_VALUE = re.compile(r"[A-Z0-9][A-Z0-9\- ]{4,14}[A-Z0-9]")
_DELIMITERS = ("|", "\t")
# A comma or semicolon in a line is usually prose: such a line is a header row only when it has
# two or more cells, each a short label (no sentence punctuation, at most _LABEL_WORDS words).
_CSV_DELIMITERS = (";", ",")
_LABEL_LENGTH = 40
_LABEL_WORDS = 5
_EXTRA_CELLS = 3
_SENTENCE_MARK = re.compile(r"[.!?:](?:\s|$)")
_MIN_DIGITS = 5


def has_header_word(gates: int) -> bool:
    """Cheap pre-check: a table of identifiers needs a header naming one (gates:
    text.GATES.present of the prompt)."""
    return bool(gates & _HEADER_WORD)


def find(text: str, folded: str, found: list[Span]) -> None:
    """Append a span for every cell that looks like what its column's header names."""
    lines_start = 0
    columns: tuple[str, dict[int, str], int] | None = None  # delimiter, wanted columns, width
    for line in text.split("\n"):
        start = lines_start
        lines_start += len(line) + 1
        if columns is None:
            columns = _header(folded[start : start + len(line)])
            continue
        delimiter, wanted, width = columns
        if delimiter not in line:
            columns = None  # the table has ended
            continue
        cells = _split(line, delimiter, width)
        if cells is None:
            columns = None  # not a row of this export: prose with a comma
            continue
        _cells(cells, start, wanted, found)


def _header(folded_line: str) -> tuple[str, dict[int, str], int] | None:
    for delimiter in _DELIMITERS:
        if delimiter in folded_line:
            cells = folded_line.split(delimiter)
            wanted = _wanted(cells, bare_account_is_bank=True)
            return (delimiter, wanted, 0) if wanted else None
    for delimiter in _CSV_DELIMITERS:
        if delimiter in folded_line:
            cells = _csv_cells(folded_line, delimiter)
            if len(cells) < 2 or not all(_is_label(cell) for cell in cells):
                continue
            banking = any(_BANKING_COLUMN.search(cell) for cell in cells)
            wanted = _wanted(cells, bare_account_is_bank=banking)
            return (delimiter, wanted, len(cells)) if wanted else None
    return None


def _is_label(cell: str) -> bool:
    cell = cell.strip()
    return (len(cell) <= _LABEL_LENGTH and len(cell.split()) <= _LABEL_WORDS
            and _SENTENCE_MARK.search(cell) is None)


def _wanted(cells: list[str], *, bare_account_is_bank: bool) -> dict[int, str]:
    wanted = {}
    for index, cell in enumerate(cells):
        column = _column_kind(cell, bare_account_is_bank)
        if column is not None:
            wanted[index] = column
    return wanted


def _csv_cells(line: str, delimiter: str) -> list[str]:
    if '"' not in line:
        return line.split(delimiter)
    return next(csv.reader([line], delimiter=delimiter), [])


def _split(line: str, delimiter: str, width: int) -> list[tuple[int, str]] | None:
    """The row's cells with their offsets in the line; for CSV (width > 0), None unless the row
    has about the header's number of cells (an export is rectangular, prose is not). A few more
    are allowed: an unquoted amount's thousands separator ("$1,200.00") splits its cell, and the
    columns before it still line up."""
    if width and '"' in line:
        # Quoted cells may hold the delimiter; their offsets are found again in the line.
        values = _csv_cells(line, delimiter)
        if not _about_as_wide(len(values), width):
            return None
        cells, at = [], 0
        for value in values:
            at = line.find(value, at) if value else at
            cells.append((max(at, 0), value))
            at += len(value)
        return cells
    parts = line.split(delimiter)
    if width and not _about_as_wide(len(parts), width):
        return None
    cells, at = [], 0
    for part in parts:
        cells.append((at, part))
        at += len(part) + len(delimiter)
    return cells


def _about_as_wide(cells: int, width: int) -> bool:
    return width <= cells <= width + _EXTRA_CELLS


def _column_kind(cell: str, bare_account_is_bank: bool = True) -> str | None:
    if _ID_HEADER.search(cell):
        return "id_in_table"
    if _DOB_HEADER.search(cell):
        return "date_of_birth"
    if _ROUTING_HEADER.search(cell):
        return "aba_routing"
    if _SORT_CODE_HEADER.search(cell):
        return "sort_code"
    if _BSB_HEADER.search(cell):
        return "bsb"
    if _BANK_ACCOUNT_HEADER.search(cell):
        return "account_number"
    if bare_account_is_bank and _ACCOUNT_HEADER.search(cell):
        return "bare_account"
    return None


def _cells(cells: list[tuple[int, str]], start: int, wanted: dict[int, str],
           found: list[Span]) -> None:
    for index, (offset, cell) in enumerate(cells):
        kind = wanted.get(index)
        if kind is None:
            continue
        value = cell.strip().strip('"')
        if _cell_matches(kind, value):
            begin = start + offset + cell.find(value)
            category = "personal" if kind in ("id_in_table", "date_of_birth") else "financial"
            kind = "account_number" if kind == "bare_account" else kind
            found.append(Span(begin, begin + len(value), category, kind))


def _cell_matches(kind: str, value: str) -> bool:
    if kind == "id_in_table":
        shaped = _ID_VALUE.fullmatch(value)
        return bool(shaped) and sum(ch.isdigit() for ch in value) >= _MIN_DIGITS
    if kind == "date_of_birth":
        return _DATE_VALUE.fullmatch(value) is not None
    digits = value.replace("-", "").replace(" ", "")
    if kind == "aba_routing":
        return checksums.aba_valid(digits)
    if kind in ("sort_code", "bsb"):
        return len(digits) == 6 and digits.isdigit()
    if kind == "bare_account":
        # "Account" alone also heads a ledger's account codes (400100): a bank account number
        # has seven digits or more, except where the header says it is one.
        return digits.isdigit() and 7 <= len(digits) <= 17
    return digits.isdigit() and 6 <= len(digits) <= 17
