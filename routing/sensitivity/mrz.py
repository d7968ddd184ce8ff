"""Machine-readable zones of passports and ID cards (ICAO 9303), confirmed by their check digits.

    TD1  three lines of 30 (ID cards)    TD2  two lines of 36    TD3  two lines of 44 (passports)

A zone is a government identifier whatever it is pasted into, so it is reported as `personal`
(kind "mrz"). Pasting loses the layout: lines run together, get split in other places or pick
up spaces, so the zone is looked for in the text's A-Z/0-9/'<' characters with the whitespace
taken out, and a line is accepted where its check digits (7-3-1 weights, '<' = 0, A = 10 ...
Z = 35) hold for the document number, the date of birth, the expiry date and the composite.
Random text passes all four about once in ten thousand tries, and must also have two dates and
a sex field where they belong.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span

# A run of MRZ characters, whitespace allowed between them; shorter than a TD1 line is no zone.
_RUN = re.compile(r"[A-Z0-9<][A-Z0-9<\s]{29,}")
_WEIGHTS = (7, 3, 1)
_SEX = frozenset("MFX<")


def _value(char: str) -> int:
    if char == "<":
        return 0
    if char.isdigit():
        return ord(char) - 48
    return ord(char) - 55  # A = 10 ... Z = 35


def check_digit(field: str) -> str:
    """The ICAO 9303 check digit of field, as a character."""
    total = sum(_value(char) * _WEIGHTS[i % 3] for i, char in enumerate(field))
    return str(total % 10)


def _checks(field: str, digit: str) -> bool:
    return digit.isdigit() and check_digit(field) == digit


def _date(field: str) -> bool:
    """YYMMDD with a real month and day (the century is not in the zone)."""
    return field.isdigit() and 1 <= int(field[2:4]) <= 12 and 1 <= int(field[4:6]) <= 31


def _document_number_checks(number: str, digit: str) -> bool:
    # A number longer than nine characters puts '<' here and continues in the optional field;
    # the composite still covers it.
    return digit == "<" or _checks(number, digit)


def td3_line_two(line: str) -> bool:
    """A passport's second line (44 characters)."""
    return (
        _document_number_checks(line[0:9], line[9])
        and _date(line[13:19]) and _checks(line[13:19], line[19])
        and line[20] in _SEX
        and _date(line[21:27]) and _checks(line[21:27], line[27])
        and _checks(line[0:10] + line[13:20] + line[21:43], line[43])
    )


def td2_line_two(line: str) -> bool:
    """The second line of a TD2 card or visa (36 characters)."""
    return (
        _document_number_checks(line[0:9], line[9])
        and _date(line[13:19]) and _checks(line[13:19], line[19])
        and line[20] in _SEX
        and _date(line[21:27]) and _checks(line[21:27], line[27])
        and _checks(line[0:10] + line[13:20] + line[21:35], line[35])
    )


def td1_lines_one_two(lines: str) -> bool:
    """The first two lines of a TD1 ID card (60 characters: the composite spans both)."""
    one, two = lines[:30], lines[30:60]
    return (
        one[0].isalpha()
        and _document_number_checks(one[5:14], one[14])
        and _date(two[0:6]) and _checks(two[0:6], two[6])
        and two[7] in _SEX
        and _date(two[8:14]) and _checks(two[8:14], two[14])
        and _checks(one[5:30] + two[0:7] + two[8:15] + two[18:29], two[29])
    )


# (length of the checked stretch, its test, how far the zone reaches before and after it)
_FORMATS = (
    (44, td3_line_two, 44, 0),
    (36, td2_line_two, 36, 0),
    (60, td1_lines_one_two, 0, 30),
)


def find(text: str, found: list[Span]) -> None:
    """Append a span for each machine-readable zone in text. The caller checks '<' is in it."""
    for run in _RUN.finditer(text):
        if "<" not in run.group():
            continue
        # Indices of the run's non-space characters, so the compact copy maps back to the text.
        positions = [run.start() + i for i, char in enumerate(run.group()) if not char.isspace()]
        compact = "".join(text[i] for i in positions)
        _find_in(compact, positions, found)


def _find_in(compact: str, positions: list[int], found: list[Span]) -> None:
    start = 0
    while start < len(compact):
        for length, valid, before, after in _FORMATS:
            stretch = compact[start : start + length]
            if len(stretch) == length and valid(stretch):
                first = positions[max(0, start - before)]
                last = positions[min(len(positions), start + length + after) - 1]
                found.append(Span(first, last + 1, "personal", "mrz"))
                start += length
                break
        else:
            start += 1
