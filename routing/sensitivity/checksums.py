"""Check-digit and validity rules for identifiers, so a random run of digits is not a match.

Every function takes the identifier with separators already removed.
"""

from __future__ import annotations

# ISO 13616 registry lengths (country code -> full IBAN length).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# (lowest prefix, highest prefix, allowed lengths) per payment-card brand; prefixes compare as
# integers of the same number of digits, so (2221, 2720) means 2221xx... to 2720xx...
CARD_RANGES: tuple[tuple[str, int, int, frozenset[int]], ...] = (
    ("visa", 4, 4, frozenset({13, 16, 19})),
    ("mastercard", 51, 55, frozenset({16})),
    ("mastercard", 2221, 2720, frozenset({16})),
    ("amex", 34, 34, frozenset({15})),
    ("amex", 37, 37, frozenset({15})),
    ("discover", 6011, 6011, frozenset(range(16, 20))),
    ("discover", 644, 649, frozenset(range(16, 20))),
    ("discover", 65, 65, frozenset(range(16, 20))),
    ("jcb", 3528, 3589, frozenset(range(16, 20))),
    ("diners", 300, 305, frozenset(range(14, 20))),
    ("diners", 36, 36, frozenset(range(14, 20))),
    ("diners", 38, 39, frozenset(range(14, 20))),
    ("unionpay", 62, 62, frozenset(range(16, 20))),
    ("maestro", 50, 50, frozenset(range(12, 20))),
    ("maestro", 56, 58, frozenset(range(12, 20))),
    ("maestro", 6304, 6304, frozenset(range(12, 20))),
    ("maestro", 6759, 6763, frozenset(range(12, 20))),
    ("mir", 2200, 2204, frozenset(range(16, 20))),
)

def luhn_valid(digits: str) -> bool:
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The brand whose prefix range and length fit these digits, or None."""
    length = len(digits)
    for brand, low, high, lengths in CARD_RANGES:
        if length not in lengths:
            continue
        width = len(str(low))
        if low <= int(digits[:width]) <= high:
            return brand
    return None


def is_payment_card(digits: str) -> bool:
    # No exemption for the numbers printed in payment providers' documentation (4242 4242
    # 4242 4242): a valid number in a request is treated as real; a false alarm costs one
    # local answer, a real card sent out costs far more (issue 16).
    return card_brand(digits) is not None and luhn_valid(digits)


def iban_valid(compact: str) -> bool:
    """ISO 13616: registered country length, then (rearranged, letters as 10..35) mod 97 == 1."""
    iban = compact.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isascii() or not iban.isalnum():
        return False
    # The IBAN printed in documentation (DE89 3704 0044 0532 0130 00) is not exempt either:
    # the blind testers found it in a real "wire the retainer here" request.
    if not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    remainder = 0
    for char in rearranged:
        # int(char, 36) maps 0-9 to themselves and A-Z to 10-35, as the standard requires.
        value = int(char, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1


def aba_valid(digits: str) -> bool:
    """ABA routing number: a Federal Reserve prefix and the 3-7-1 weighted checksum."""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        return False
    prefix = int(digits[:2])
    if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    d = [ord(c) - 48 for c in digits]
    weighted = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])
    return weighted % 10 == 0


# Published in SSA advertising and famously misused; the SSA voided them.
_VOIDED_SSNS = frozenset({"078051120", "219099999"})


def ssn_valid(digits: str) -> bool:
    """US SSN: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    if len(digits) != 9 or not digits.isdigit() or digits in _VOIDED_SSNS:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return 0 < area < 900 and area != 666 and group != 0 and serial != 0


def itin_valid(digits: str) -> bool:
    """US ITIN: 9XX-GG-XXXX with the group in the ranges the IRS assigns."""
    if len(digits) != 9 or not digits.isdigit() or digits[0] != "9":
        return False
    if "987654320" <= digits <= "987654329":
        return False  # the SSA's range for advertising and examples
    group = int(digits[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


_NI_BAD_FIRST = frozenset("DFIQUV")
_NI_BAD_SECOND = frozenset("DFIOQUV")
_NI_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def uk_ni_valid(compact: str) -> bool:
    """UK National Insurance number: AA999999A with HMRC's excluded prefix letters."""
    if len(compact) != 9:
        return False
    first, second = compact[0], compact[1]
    return (
        compact[:2].isalpha()
        and compact[2:8].isdigit()
        and compact[8] in "ABCD"
        and first not in _NI_BAD_FIRST
        and second not in _NI_BAD_SECOND
        and compact[:2] not in _NI_BAD_PREFIXES
    )


def canadian_sin_valid(digits: str) -> bool:
    # A leading 0 is never assigned and 8 is reserved for business numbers.
    return len(digits) == 9 and digits[0] not in "08" and luhn_valid(digits)


def npi_valid(digits: str) -> bool:
    """US National Provider Identifier: Luhn over the number prefixed with 80840."""
    return len(digits) == 10 and digits[0] in "12" and luhn_valid("80840" + digits)


def nhs_number_valid(digits: str) -> bool:
    """NHS number: mod-11 check digit with weights 10..2."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])
