"""National identifiers of other countries, after their label, each with its own check.

Dutch BSN (the 11-test), Australian TFN (weighted mod 11), Spanish DNI and NIE (check letter),
French NIR (social security number, key 97 - n mod 97), Italian codice fiscale (check letter)
and German Steuer-ID (ISO 7064 mod 11,10). A label is required ("mijn BSN", "my TFN. It's",
"numéro de sécurité sociale est", "mi DNI es"): the checks pass for one number in 10 to 97,
too often for bare numbers. The value is read from the words just after the label, joining
groups split by single spaces, dots or dashes ("2 86 11 69 123 026 80"), so any spacing works.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES

_LABEL = re.compile(
    r"\b(?:bsn|burgerservicenummer|sofi-?nummer|tfn|tax\s+file\s+(?:number|no)|dni|nie|nif|"
    r"n[uú]mero\s+de\s+identidad|s[ée]curit[ée]\s+sociale|num[ée]ro\s+de\s+s[ée]cu\w*|nir|"
    r"insee|steuer-?id\w*|steuer-?identifikationsnummer|identifikationsnummer|idnr|"
    r"codice\s+fiscale|c\.f\.|tax\s+id)\b"
)
# Every label but the two-word "tax file number" and "tax ID" has one of these words (see
# text.GATES.words); "tax" alone is in too many prompts to gate on.
_LABEL_WORDS = GATES.words(
        "bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "tfn", "dni", "nie",
        "nif", "identidad", "sociale", "sécu", "secu", "nir", "insee", "steuer-id", "steuerid",
        "steuer-identifikationsnummer", "steueridentifikationsnummer", "identifikationsnummer",
        "idnr", "fiscale",
)  # fmt: skip
# Groups of letters and digits after the label; up to this many characters are read.
_REACH = 48
_GROUP = re.compile(r"[0-9A-Za-z]+")
_MAX_GROUPS = 8

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# Codice fiscale: value of each character in an odd (1st, 3rd, ...) position.
_CF_ODD_VALUES = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10)
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (*_CF_ODD_VALUES[:10], *_CF_ODD_VALUES, 22, 25, 24, 23),
        strict=True,
    )
)
_CF_DIGIT = "[0-9LMNPQRSTUV]"  # omocodia: digits may be replaced by these letters
_CF_SHAPE = re.compile(
    rf"[A-Z]{{6}}{_CF_DIGIT}{{2}}[A-EHLMPRST]{_CF_DIGIT}{{2}}[A-Z]{_CF_DIGIT}{{3}}[A-Z]"
)


def bsn_valid(digits: str) -> bool:
    """Dutch burgerservicenummer: 9 digits, sum of d1*9 ... d8*2 minus d9 divisible by 11."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def tfn_valid(digits: str) -> bool:
    """Australian tax file number: 9 digits, weighted sum divisible by 11."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    weights = (1, 4, 3, 7, 5, 8, 6, 9, 10)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def dni_valid(value: str) -> bool:
    """Spanish DNI (8 digits and a letter) or NIE (X, Y or Z, 7 digits and a letter)."""
    value = value.upper()
    if len(value) != 9 or not value[8].isalpha():
        return False
    number = value[:8]
    if number[0] in "XYZ":
        number = str("XYZ".index(number[0])) + number[1:]
    return number.isdigit() and _DNI_LETTERS[int(number) % 23] == value[8]


def nir_valid(value: str) -> bool:
    """French NIR: sex, year, month, department (2A/2B for Corsica), commune, order, key."""
    value = value.upper()
    if len(value) != 15 or value[0] not in "12" or not value[13:].isdigit():
        return False
    body = value[:13].replace("2A", "19", 1).replace("2B", "18", 1)
    if not body.isdigit():
        return False
    return 97 - int(body) % 97 == int(value[13:])


def codice_fiscale_valid(value: str) -> bool:
    """Italian codice fiscale: 15 characters and a check letter."""
    value = value.upper()
    if not _CF_SHAPE.fullmatch(value):
        return False
    total = 0
    for position, char in enumerate(value[:15]):
        if position % 2 == 0:
            total += _CF_ODD[char]
        else:
            total += int(char) if char.isdigit() else ord(char) - ord("A")
    return chr(ord("A") + total % 26) == value[15]


def steuer_id_valid(digits: str) -> bool:
    """German Steuer-Identifikationsnummer: 11 digits, no leading 0, ISO 7064 mod 11,10."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    product = 10
    for d in digits[:10]:
        total = (int(d) + product) % 10 or 10
        product = (total * 2) % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(digits[10])


_CHECKS = (
    (bsn_valid, "nl_bsn"), (tfn_valid, "au_tfn"), (dni_valid, "es_dni"), (nir_valid, "fr_nir"),
    (codice_fiscale_valid, "it_codice_fiscale"), (steuer_id_valid, "de_steuer_id"),
)  # fmt: skip


def find(text: str, folded: str, found: list[Span], gates: int) -> None:
    """Append personal spans for labelled national identifiers that pass their check."""
    if not gates & _LABEL_WORDS and "tax file" not in folded and "tax id" not in folded:
        return
    for label in _LABEL.finditer(folded):
        span = _value_after(text, label.end())
        if span is not None:
            found.append(Span(span[0], span[1], "personal", span[2]))


def _value_after(text: str, start: int) -> tuple[int, int, str] | None:
    groups = list(_GROUP.finditer(text, start, min(len(text), start + _REACH)))[:_MAX_GROUPS]
    for first, group in enumerate(groups):
        if not group.group()[0].isdigit() and len(group.group()) < 6:
            continue  # words between label and number ("is", "es", "It's"); a CF starts a letter
        compact = ""
        for last in range(first, len(groups)):
            if last > first:
                gap = text[groups[last - 1].end() : groups[last].start()]
                if len(gap) != 1 or gap not in " .-":
                    break
            compact += groups[last].group()
            for check, kind in _CHECKS:
                if check(compact):
                    return group.start(), groups[last].end(), kind
    return None

