"""Financial identifiers, each confirmed by its checksum: payment cards, IBANs, ABA routing
numbers; plus bank account numbers and sort codes introduced by their label.

Not caught on purpose: numbers that fail their checksum (order numbers, ISBNs, serials), a
nine-digit number that passes the ABA checksum but has no banking word nearby, and "card
ending 4412". The card and IBAN numbers published in providers' documentation are caught like
any other (since issue 16): a valid number is sensitive, whoever printed it first.
"""

from __future__ import annotations

import re

from routing.sensitivity import checksums
from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES, DigitLed, near

# Contiguous, or grouped as printed: 4-4-4-4(-3) or, for Amex and Diners, 4-6-5 / 4-6-4, with
# spaces, dashes or dots between the groups (the separator must be the same throughout).
# Only ASCII letters and digits glue a number to a word: "银联卡号是6256…" has the card right
# after a Chinese character, which \w would count as part of the same word.
_CARD = DigitLed(
    r"\d(?<![0-9A-Za-z_\-.]\d)(?:\d{11,18}|\d{3}(?P<sep>[ \-.])"
    r"(?:\d{4}(?P=sep)\d{4}(?P=sep)\d{4}(?:(?P=sep)\d{3})?|\d{6}(?P=sep)\d{4,5}))"
    r"(?![0-9A-Za-z_]|[.\-]\d)"
)

# Found from its check digits backwards (digits are rarer than letters, see text.py): two
# digits preceded by exactly two letters at the start of a word.
_IBAN_START = DigitLed(
    r"\d(?<=[A-Za-z]{2}\d)(?<![A-Za-z0-9][A-Za-z]{2}\d)\d(?=\s?[A-Za-z0-9])"
)

# Every IBAN starts with a registered country code and two check digits ("gb82"): 8,000 needles
# for the one automaton pass (text.GATES), against a pattern that stops at every digit.
_IBAN_HEAD_WORD = GATES.any_of(
    *(f"{country.lower()}{check:02d}" for country in checksums.IBAN_LENGTHS for check in range(100))
)
_NINE_DIGITS = DigitLed(r"\d(?<![\w\-]\d)\d{8}(?![\w]|-\d)")
_BANKING = GATES.any_of("routing", " aba", "rtn", "transit", "wire", " ach", "bank")
_BANKING_WORD = re.compile(r"\b(?:routing|aba|rtn|transit|wire|ach|bank(?:ing)?)\b")
_BANKING_REACH = 40

_ACCOUNT = re.compile(
    r"\b(?:account|acct|acc|a/c)\.?(?:\s*(?:number|no\.?|num|#))?\s*[:#]?\s*"
    r"(?P<value>\d[\d\- ]{4,22}\d)(?![\w]|[.\-]\d)"
)
_SORT_CODE = re.compile(r"\bsort\s+code\s*[:#]?\s*(?P<value>\d{2}-\d{2}-\d{2})(?![\w\-])")
_ACCOUNT_WORD = GATES.any_of("acc", "a/c")  # account, acct, acc
# Australian bank-state-branch numbers, the sort code's counterpart: "BSB 062-368".
_BSB = re.compile(r"\bbsb\s*(?:no\.?|number|#)?\s*[:#]?\s*(?P<value>\d{3}[- ]?\d{3})(?![\w\-])")
_BSB_WORD = GATES.words("bsb")


def find(text: str, folded: str, found: list[Span], numbers_from: int, gates: int) -> None:
    """Append financial spans to found; every identifier here has a run of six or more digits,
    so the scanner calls this only for texts that have one. numbers_from: where number-led
    patterns start searching (see scanner.py); gates: text.GATES.present(folded)."""
    _cards(text, found, numbers_from)
    if gates & _IBAN_HEAD_WORD:
        _ibans(text, found, numbers_from)
    if gates & _BANKING:
        _routing_numbers(text, folded, found, numbers_from)
    if gates & _ACCOUNT_WORD:
        for match in _ACCOUNT.finditer(folded):
            value = match.group("value").rstrip(" -")
            if 6 <= sum(ch.isdigit() for ch in value) <= 17:
                start = match.start("value")
                found.append(Span(start, start + len(value), "financial", "account_number"))
    if "⑆" in text:
        _micr(text, found)
    if gates & _BSB_WORD:
        for match in _BSB.finditer(folded):
            found.append(Span(match.start("value"), match.end("value"), "financial", "bsb"))
    if "sort code" in folded:
        for match in _SORT_CODE.finditer(folded):
            found.append(
                Span(match.start("value"), match.end("value"), "financial", "sort_code")
            )


# The E-13B line printed on cheques: ⑆routing⑆ account⑈ cheque number. The symbols only
# appear there, so the routing number's checksum is enough.
_MICR = re.compile(r"⑆\s?(?P<routing>\d{9})\s?⑆\s*(?P<account>[\d \-]{4,20}\d)?\s?⑈?")


def _micr(text: str, found: list[Span]) -> None:
    for match in _MICR.finditer(text):
        if checksums.aba_valid(match.group("routing")):
            found.append(Span(match.start(), match.end(), "financial", "micr_line"))


# A country code and check digits right before the groups: they are the rest of an IBAN.
_IBAN_HEAD = re.compile(r"[A-Za-z]{2}[0-9]{2} ?$")


def _cards(text: str, found: list[Span], numbers_from: int) -> None:
    for match in _CARD.finditer(text, numbers_from):
        if match.group("sep") and _IBAN_HEAD.search(text, max(0, match.start() - 5), match.start()):
            continue
        separator = match.group("sep")
        digits = match.group().replace(separator, "") if separator else match.group()
        if checksums.is_payment_card(digits):
            found.append(Span(match.start(), match.end(), "financial", "payment_card"))
        elif separator and len(digits) == 19 and checksums.is_payment_card(digits[:16]):
            # The trailing group was something else (a CVV, a year): keep the 16-digit card.
            found.append(Span(match.start(), match.start() + 19, "financial", "payment_card"))


def _ibans(text: str, found: list[Span], numbers_from: int) -> None:
    """Take exactly as many characters as the country's IBAN has, allowing single spaces.

    Reading the length from the registry instead of from the regex means a following word
    ("... 3000 EUR") can never be swallowed into the candidate.
    """
    for match in _IBAN_START.finditer(text, numbers_from):
        begin = match.start() - 2
        country = text[begin : match.start()].upper()
        length = checksums.IBAN_LENGTHS.get(country)
        if length is None:
            continue
        chars = [country, match.group()]
        needed = length - 4
        position = match.end()
        while needed and position < len(text):
            char = text[position]
            if char.isascii() and char.isalnum():
                chars.append(char)
                needed -= 1
                position += 1
            elif char == " " and position + 1 < len(text) and text[position + 1] != " ":
                position += 1
            else:
                break
        if needed:
            continue
        if position < len(text) and text[position].isascii() and text[position].isalnum():
            continue
        if checksums.iban_valid("".join(chars)):
            found.append(Span(begin, position, "financial", "iban"))


def _routing_numbers(text: str, folded: str, found: list[Span], numbers_from: int) -> None:
    for match in _NINE_DIGITS.finditer(text, numbers_from):
        start = match.start()
        if checksums.aba_valid(match.group()) and near(
            _BANKING_WORD, folded, start - _BANKING_REACH, start
        ):
            found.append(Span(start, match.end(), "financial", "aba_routing"))
