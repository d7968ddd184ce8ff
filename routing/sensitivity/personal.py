"""Personal data: e-mail addresses, phone numbers, postal addresses, dates of birth, national IDs.

What is deliberately not caught: names on their own (no reliable offline signal without a
model), bare dates and years, and numbers that only look like phone numbers in arithmetic.
"""

from __future__ import annotations

import re

from routing.sensitivity import checksums, national_ids, tables
from routing.sensitivity.report import Span
from routing.sensitivity.text import (
    GATES,
    DigitLed,
    followed_by_whitespace,
    near,
    sentence_around,
)

# --- e-mail ----------------------------------------------------------------------------------
# The local part is bounded and may not start in the middle of a word, a URL or a password
# ("postgres://u:pw@host" is a secret, not an address), which also keeps the scan linear.
_EMAIL = re.compile(
    r"(?<![\w.%+\-:/])[\w.%+\-]{1,64}@"
    r"(?P<domain>[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24})(?![\w\-])"
)
# RFC 2606/6761 names reserved for documentation and tests: nobody's real mailbox.
_RESERVED_DOMAIN = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|[a-z0-9\-]+\.(?:example|test|invalid|localhost))$"
)

# --- phone numbers ---------------------------------------------------------------------------
# Every group after the first must be introduced by a separator, so a run of digits has exactly
# one way to split and a failed match cannot backtrack through combinations.
_INTERNATIONAL = DigitLed(
    r"(?<![\w+\-.])\+(?:\d{8,15}|\d{1,3}(?:[ .\-]?\(\d{1,5}\))?(?:[ .\-]\d{1,6}){1,6})"
    r"(?![\w]|[.\-]\d)"
)
# North American (415) 555-0132 / 415.555.0132, or a national number with a trunk 0:
# UK 020 7946 0321, FR 06 12 34 56 78, DE 030 1234567. Starts with a class, see text.py.
_NATIONAL_PHONE = DigitLed(
    r"[(\d](?<![\w+\-.][(\d])(?:"
    r"(?<=\()(?P<area>\d{3})\)[ .\-]?(?P<exchange>\d{3})[ .\-]\d{4}"
    r"|(?<=\d)(?P<area2>\d{2})[ .\-](?P<exchange2>\d{3})[ .\-]\d{4}"
    r"|(?<=0)(?P<trunk>\d{1,4}(?:[ \-]\d{2,8}){1,4})"
    r")(?![\w]|[.\-]\d)"
)
_PHONE = GATES.any_of("tel", "phone", "mobile", "cell", "fax", "whatsapp", "call me", "reach me")
_PHONE_WORD = re.compile(
    r"\b(?:tel|telephone|phone|mobile|cell|fax|whatsapp|call\s+me\s+(?:on|at)|reach\s+me\s+at)\b"
)
_TOLL_FREE = frozenset({"800", "833", "844", "855", "866", "877", "888"})
_HELPLINE_WORDS = (
    "helpline", "help line", "hotline", "customer service", "support line", "toll-free",
    "toll free", "freephone",
)  # fmt: skip
_HELPLINE = GATES.any_of(*_HELPLINE_WORDS)
# An organisation's line: any number in a sentence that calls it one and says nothing of the
# writer's own ("the right number for Lufthansa's service centre").
_SERVICE_WORDS = (
    *_HELPLINE_WORDS, "service centre", "service center", "call centre", "call center",
    "switchboard", "customer care", "help desk", "helpdesk", "contact centre", "contact center",
    "reservations line", "booking line", "main line", "head office",
)  # fmt: skip
_SERVICE = GATES.any_of(*_SERVICE_WORDS)
_SERVICE_WORD = re.compile("|".join(re.escape(word) for word in _SERVICE_WORDS))
_OWN = re.compile(r"\b(?:my|me|mine|his|her|their)\b")
# A code's label right before the digits, perhaps with a few groups of the code in between:
# "UPS tracking number 1Z 4E7 895 03 8845 1127", "NHS number 366 237 9906", "invoice no. 0207
# 946 0321". Those digits are the code, not a phone number or an SSN.
_CODE_LABEL = re.compile(
    r"(?:tracking|order|invoice|reference|ref|parcel|shipment|waybill|awb|serial|nhs|isbn|"
    r"imei|nhs\s+no|tracking\s+no)\.?\s*(?:number|no\.?|num|#|id|code)?\s*[:#]?\s*"
    r"(?:[a-z0-9]{1,6}\s){0,4}$"
)
_CODE_LABEL_REACH = 48
_NHS = GATES.any_of("nhs")
_DIGITS_AFTER_WORD = re.compile(r"[:.]?\s*(\+?\d[\d .\-()]{5,18}\d)")

# --- postal addresses ------------------------------------------------------------------------
_STREET_TYPES = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|"
    r"Terrace|Parkway|Pkwy|Circle|Crescent|Close|Highway|Hwy|Square|Sq|Row|Mews|Gardens|Grove)"
)
# House number first: 42 Kensington Gardens Road, 3-14 Shibuya Place, 221B Baker Street,
# 8 rue des Lilas. Starts with a class, see text.py.
_NUMBER_FIRST_ADDRESS = DigitLed(
    # Possessive (+): nothing after the house number can start with a digit, letter or dash,
    # so giving any back cannot help, and a failed candidate is dropped at once.
    rf"\d(?<![\w.,\-]\d)\d{{0,4}}+[A-Za-z]?+(?:-\d{{1,4}})?+(?:"
    rf"\s+(?:[A-Z][\w'’.\-]*\s+){{1,4}}{_STREET_TYPES}\b\.?"
    r"|,?\s+(?i:rue|avenue|boulevard|bd|place|allée|chemin|impasse|quai)\s+"
    r"(?:(?:de|du|des|la|le|l['’]|d['’])\s*){0,2}[A-ZÀ-Ý][\w'’\-]+)"
)
# Street name first: Via Garibaldi 12, Calle Mayor 5, PO Box 4471. Literal-led (see text.py);
# the word boundary before the match is checked in _addresses.
_NAME_FIRST_ADDRESS = re.compile(
    r"(?:Via|Viale|Piazza|Corso|Calle|Avenida|Rua|Carrer|Paseo)\s+"
    r"(?:(?:de|da|do|dos|das|del|della|dei|di|la|le|dels)\s+){0,2}[A-Z][\w'’\-]+"
    r"(?:\s+[A-Z][\w'’\-]+){0,2},?\s+\d{1,4}\b"
    r"|[Pp]\.?\s?[Oo]\.?\s+[Bb][Oo][Xx]\s+\d{1,6}\b"
)
# The pattern above cannot start with a literal, so the engine would try it at every position;
# its words (folded, so a superset of the pattern's capitals) rule most texts out first.
_NAME_FIRST = GATES.any_of(
    *followed_by_whitespace(
        "via", "viale", "piazza", "corso", "calle", "avenida", "rua", "carrer", "paseo"
    ),
    "box",
)
# German, Dutch and Nordic street names end in the street type: Hauptstraße 5, Keizersgracht
# 12, Storgatan 8B, Karl Johans gate 3 (the last as a word of its own).
_GERMAN_STREET = re.compile(
    r"\b[A-ZÄÖÜÅØÆ][\wäöüßåøæ]*(?:straße|strasse|gasse|platz|allee|weg|straat|laan|plein|"
    r"gracht|kade|singel|gatan|vägen|gata|gränd|torget|vej|gade|veien|vegen|gaten|katu|tie)"
    r"(?:\s+gate)?\s+\d{1,4}[a-zA-Z]?\b"
)
_GERMAN = GATES.any_of(
    "straße", "strasse", "gasse", "platz", "allee", "weg ", "straat", "laan ", "plein ",
    "gracht", "kade ", "singel ", "gatan", "vägen", "gata", "gränd", "torget", "vej ", "gade ",
    "veien", "vegen", "gaten", "katu", "tie ",
)  # fmt: skip
# An address after its label in Japanese, Chinese or Korean: 住所：東京都世田谷区桜新町2-14-9.
_CJK_ADDRESS_LABEL = GATES.any_of("住所", "地址", "주소", "〒")
_CJK_ADDRESS = re.compile(
    r"(?:住所|地址|주소)\s*[:：]?\s*(?P<value>[^\n]{0,40}?\d[^\n]{0,40})|〒\s?\d{3}-?\d{4}"
)
# "Columbus, OH 43215": a US state code and ZIP after a comma.
_STATE_AND_ZIP = re.compile(
    r",\s+(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|"
    r"RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY])\s+\d{5}(?:-\d{4})?\b"
)
# Two UK shapes that start with a capital share a pass: a full postcode, NW8 9AY (the inward
# letters never use C, I, K, M, O or V), and a National Insurance number, AB 12 34 56 C.
_UK_CAPITAL_LED = DigitLed(
    r"[A-Z](?<![A-Za-z0-9][A-Z])(?:"
    r"(?P<ni>[A-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D])(?![A-Za-z0-9])"
    r"|[A-Z]?\d[A-Z\d]?\s\d[ABD-HJLNP-UW-Z]{2}\b)"
)

# --- dates of birth --------------------------------------------------------------------------
_BIRTH = GATES.any_of("dob", "d.o.b", "birth", "born", "geb.", "né")
_BIRTH_WORD = re.compile(
    r"\b(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?|birthday|geb\.|née?)"
    r"(?![\w])"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b"
)
_BIRTH_REACH = 30
# Japanese, Chinese and Korean forms: 生年月日 / 出生日期 / 생년월일, a few characters (：, は, 为),
# then an era date (昭和63年5月21日, 平成元年), a year-month-day in characters, or digits.
_CJK_BIRTH = GATES.any_of("生年月日", "出生日期", "생년월일")  # 出生年月日 holds 生年月日
_CJK_BIRTH_DATE = re.compile(
    r"(?:生年月日|出生日期|생년월일)[^\n\d]{0,6}?"
    r"((?:明治|大正|昭和|平成|令和)\s?(?:元|\d{1,2})\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?日"
    r"|\d{4}\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?日|\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}"
    r"|\d{4}년\s?\d{1,2}월\s?\d{1,2}일)"
)

# --- national identifiers --------------------------------------------------------------------
# SSN 123-45-6789 and SIN 046-454-286 share a pass: three digits, then either shape.
_GROUPED_ID = DigitLed(
    r"\d(?<![\w\-]\d)\d\d(?P<sep>[\- ])"
    r"(?:(?P<group>\d{2})(?P=sep)(?P<serial>\d{4})|(?P<middle>\d{3})(?P=sep)(?P<last>\d{3}))"
    r"(?![\w]|-\d)"
)
_NINE_DIGITS = DigitLed(r"\d(?<![\w\-]\d)\d{8}(?![\w]|-\d)")
_ID_WORD = GATES.any_of("ssn", "social", "itin", "taxpayer", " tin", " sin", "(sin", " nas")
_SSN_WORD = re.compile(r"\b(?:ssn|social\s+security|itin|taxpayer\s+id|tin)\b")
_SIN_WORD = re.compile(r"\b(?:sin|social\s+insurance|nas)\b")
_PASSPORT_WORD = re.compile(r"\bpassport\b")
_PASSPORT_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Z]{0,2}\d{6,9}(?![A-Za-z0-9])")
_CONTEXT_REACH = 40


def find(
    text: str,
    folded: str,
    found: list[Span],
    *,
    numbers_from: int | None,
    has_long_number: bool,
    gates: int,
) -> None:
    """Append personal spans to found.

    numbers_from: where number-led patterns start searching (see scanner.py), None when the
    text has no digit. has_long_number: the text has a run of six or more digits, which every
    phone number and national ID has; without one those are skipped.
    gates: text.GATES.present(folded).
    """
    if "@" in text:
        _emails(text, found)
    if numbers_from is None:
        return  # everything below is built on digits
    _addresses(text, folded, found, numbers_from, gates)
    if gates & _BIRTH:
        _dates_of_birth(folded, found)
    if gates & _CJK_BIRTH:
        for match in _CJK_BIRTH_DATE.finditer(text):
            found.append(Span(match.start(1), match.end(1), "personal", "date_of_birth"))
    # Not behind has_long_number: a codice fiscale has no six digits in a row.
    national_ids.find(text, folded, found, gates)
    if has_long_number:
        _phones(text, folded, found, numbers_from, gates)
        _national_ids(text, folded, found, numbers_from, gates)
    if tables.has_header_word(gates) and "\n" in text and (
            "|" in text or "\t" in text or "," in text or ";" in text):
        tables.find(text, folded, found)


def _emails(text: str, found: list[Span]) -> None:
    for match in _EMAIL.finditer(text):
        domain = match.group("domain").lower()
        local = text[match.start() : match.start("domain") - 1]
        # git@github.com:org/repo is an SSH remote, not somebody's mailbox.
        if _RESERVED_DOMAIN.search(domain) or local == "git":
            continue
        found.append(Span(match.start(), match.end(), "personal", "email"))


def _digit_count(candidate: str) -> int:
    return sum(ch.isdigit() for ch in candidate)


def _phones(text: str, folded: str, found: list[Span], numbers_from: int, gates: int) -> None:
    if "+" in text:
        for match in _INTERNATIONAL.finditer(text, numbers_from):
            number = match.group()
            if 8 <= _digit_count(number) <= 15 and not (
                _is_fictional_nanp(number)
                or (
                    gates & _SERVICE
                    and _is_public_or_code(text, folded, gates, match.start(), number)
                )
            ):
                found.append(Span(match.start(), match.end(), "personal", "phone"))
    for match in _NATIONAL_PHONE.finditer(text, numbers_from):
        if match.group("trunk"):
            valid = 10 <= _digit_count(match.group()) <= 11
        else:
            # NANP: neither the area code nor the exchange may start with 0 or 1.
            area = match.group("area") or match.group()[0]
            exchange = match.group("exchange") or match.group("exchange2")
            valid = area[0] not in "01" and exchange[0] not in "01"
        if valid and not _is_public_or_code(text, folded, gates, match.start(), match.group()):
            found.append(Span(match.start(), match.end(), "personal", "phone"))
    if gates & _PHONE:
        for word in _PHONE_WORD.finditer(folded):
            digits = _DIGITS_AFTER_WORD.match(text, word.end(), word.end() + 24)
            if (
                digits
                and 7 <= _digit_count(digits.group(1)) <= 15
                and not _is_fictional_nanp(digits.group(1))
            ):
                found.append(Span(digits.start(1), digits.end(1), "personal", "phone"))


def _is_fictional_nanp(number: str) -> bool:
    """555-0100 to 555-0199 in any area code are reserved for films, books and examples."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) in (8, 11) and digits[0] == "1":
        digits = digits[1:]
    if len(digits) == 7:  # no area code: "+1-555-0142"
        return digits[:3] == "555" and digits[3:5] == "01"
    return len(digits) == 10 and digits[3:6] == "555" and digits[6:8] == "01"


def _is_public_or_code(text: str, folded: str, gates: int, start: int, number: str) -> bool:
    """A toll-free number next to the word for a helpline, or any number in a sentence that
    calls it an organisation's line, belongs to an organisation, not a person; digits right
    after a code's label or a letters-and-digits group ("1Z 999 AA1 01 2345 6784") are part of
    a tracking or reference code; 555-0100 to 555-0199 are reserved for fiction."""
    if number.lstrip("(")[:3] in _TOLL_FREE and gates & _HELPLINE:
        return True
    if _is_fictional_nanp(number):
        return True
    if _CODE_LABEL.search(folded, max(0, start - _CODE_LABEL_REACH), start):
        return True
    if gates & (_SERVICE | _NHS):
        begin, stop, _ = sentence_around(folded, start, start + len(number))
        if gates & _NHS and "nhs" in folded[begin:stop]:
            return True  # an NHS number, valid or not (health.py checks it), is not a phone
        if _SERVICE_WORD.search(folded, begin, stop) and not _OWN.search(folded, begin, stop):
            return True
    before = text[max(0, start - 8) : start]
    if before.endswith(" "):
        word = before.rstrip().rsplit(" ", 1)[-1]
        return any(ch.isalpha() for ch in word) and any(ch.isdigit() for ch in word)
    return False


# Addresses everybody knows, of governments, companies and fiction: nobody's home.
_LANDMARKS = (
    "1600 pennsylvania ave", "10 downing st", "221b baker st", "1 infinite loop",
    "1 apple park way", "1600 amphitheatre parkway", "1 hacker way", "350 fifth ave",
    "11 wall st", "742 evergreen terrace", "4 privet drive", "30 rockefeller plaza",
)  # fmt: skip
# The addresses of documentation and sample data: "123 Main St, Anytown, CA 90210".
_SAMPLE_TOWN = GATES.any_of("anytown", "springfield, usa", "123 main st")


def _addresses(text: str, folded: str, found: list[Span], numbers_from: int, gates: int) -> None:
    before = len(found)
    _street_addresses(text, folded, found, numbers_from, gates)
    if gates & _SAMPLE_TOWN:  # drop what sits on a line of sample data
        found[before:] = [span for span in found[before:] if not _on_sample_line(folded, span)]


def _street_addresses(
    text: str, folded: str, found: list[Span], numbers_from: int, gates: int
) -> None:
    for match in _NUMBER_FIRST_ADDRESS.finditer(text, numbers_from):
        if not folded.startswith(_LANDMARKS, match.start()):
            found.append(Span(match.start(), match.end(), "personal", "address"))
    if gates & _NAME_FIRST:
        for match in _NAME_FIRST_ADDRESS.finditer(text):
            if not (match.start() and text[match.start() - 1].isalnum()):
                found.append(Span(match.start(), match.end(), "personal", "address"))
    if gates & _GERMAN:
        for match in _GERMAN_STREET.finditer(text):
            found.append(Span(match.start(), match.end(), "personal", "address"))
    if gates & _CJK_ADDRESS_LABEL:
        for match in _CJK_ADDRESS.finditer(text):
            start, end = match.span("value") if match.group("value") else match.span()
            found.append(Span(start, end, "personal", "address"))
    if ", " in text:
        for match in _STATE_AND_ZIP.finditer(text):
            # Report "OH 43215" without the comma that introduced it.
            start = match.start() + len(match.group()) - len(match.group().lstrip(", \t\n"))
            found.append(Span(start, match.end(), "personal", "address"))
    for match in _UK_CAPITAL_LED.finditer(text, numbers_from):
        if match.group("ni") is None:
            found.append(Span(match.start(), match.end(), "personal", "address"))
        elif checksums.uk_ni_valid(match.group()[0] + match.group("ni").replace(" ", "")):
            found.append(Span(match.start(), match.end(), "personal", "uk_ni"))


def _on_sample_line(folded: str, span: Span) -> bool:
    begin = folded.rfind("\n", 0, span.start) + 1
    stop = folded.find("\n", span.end)
    line = folded[begin : stop if stop >= 0 else len(folded)]
    return "anytown" in line or "springfield, usa" in line or "123 main st" in line


def _dates_of_birth(folded: str, found: list[Span]) -> None:
    for word in _BIRTH_WORD.finditer(folded):
        date = _DATE.search(folded, word.end(), word.end() + _BIRTH_REACH)
        if date and "\n" not in folded[word.end() : date.start()] and not _is_historical(date):
            found.append(Span(date.start(), date.end(), "personal", "date_of_birth"))


# Born before this year: a historical figure ("Marie Curie, born 7 November 1867"), not a
# living person's date of birth, which is what data protection law is about.
_HISTORICAL_BEFORE = 1910
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _is_historical(date: re.Match[str]) -> bool:
    year = _YEAR.search(date.group())
    return year is not None and int(year.group(1)) < _HISTORICAL_BEFORE


def _national_ids(
    text: str, folded: str, found: list[Span], numbers_from: int, gates: int
) -> None:
    for match in _GROUPED_ID.finditer(text, numbers_from):
        area = match.group()[:3]
        if match.group("sep") == " " and _is_public_or_code(
            text, folded, gates, match.start(), match.group()
        ):
            continue  # spaced digits inside a tracking or reference code
        if match.group("group"):
            digits = area + match.group("group") + match.group("serial")
            if checksums.ssn_valid(digits):
                found.append(Span(match.start(), match.end(), "personal", "us_ssn"))
            elif checksums.itin_valid(digits):
                found.append(Span(match.start(), match.end(), "personal", "us_itin"))
            continue
        digits = area + match.group("middle") + match.group("last")
        # Dashed 3-3-3 is the SIN's printed form; spaced groups are too common in other
        # numbers to count without the word SIN nearby.
        if checksums.canadian_sin_valid(digits) and (
            match.group("sep") == "-"
            or near(_SIN_WORD, folded, match.start() - _CONTEXT_REACH, match.start())
        ):
            found.append(Span(match.start(), match.end(), "personal", "ca_sin"))
    if gates & _ID_WORD:
        _unformatted_ids(text, folded, found, numbers_from)
    if "passport" in folded:
        for word in _PASSPORT_WORD.finditer(folded):
            number = _PASSPORT_NUMBER.search(text, word.end(), word.end() + 25)
            if number:
                found.append(Span(number.start(), number.end(), "personal", "passport"))


def _unformatted_ids(text: str, folded: str, found: list[Span], numbers_from: int) -> None:
    """Nine bare digits are an SSN or SIN only with the word for it just before."""
    for match in _NINE_DIGITS.finditer(text, numbers_from):
        digits, start = match.group(), match.start()
        if near(_SSN_WORD, folded, start - _CONTEXT_REACH, start):
            if checksums.ssn_valid(digits):
                found.append(Span(start, match.end(), "personal", "us_ssn"))
            elif checksums.itin_valid(digits):
                found.append(Span(start, match.end(), "personal", "us_itin"))
        if checksums.canadian_sin_valid(digits) and near(
            _SIN_WORD, folded, start - _CONTEXT_REACH, start
        ):
            found.append(Span(start, match.end(), "personal", "ca_sin"))
