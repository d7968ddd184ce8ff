"""National identifiers of other countries, after their label, each with its own check.

Dutch BSN (the 11-test), Australian TFN (weighted mod 11), Spanish DNI and NIE (check letter),
French NIR (social security number, key 97 - n mod 97), Italian codice fiscale (check letter)
and German Steuer-ID (ISO 7064 mod 11,10). A label is required ("mijn BSN", "my TFN. It's",
"numéro de sécurité sociale est", "mi DNI es"): the checks pass for one number in 10 to 97,
too often for bare numbers. The value is read from the words just after the label, joining
groups split by single spaces, dots, dashes or a plus ("2 86 11 69 123 026 80"), so any
spacing works.

Since the fifth round, each after its own labels and checked only against its own rule:
Swedish personnummer / samordningsnummer (Luhn, valid date), Norwegian fødselsnummer /
d-nummer (two mod-11 digits), Danish CPR (valid date: no modulus since 2007), Finnish
henkilötunnus (mod-31 character), Portuguese NIF (mod 11), Brazilian CPF (two mod-11 digits),
Polish PESEL (weighted, valid date), Belgian rijksregisternummer (97 - mod 97, 2000+ variant),
Swiss AHV/AVS (756, EAN-13), Irish PPS (mod 23), Indian Aadhaar (Verhoeff) and PAN (shape),
Chinese resident identity number (ISO 7064 MOD 11-2), Japanese My Number (check digit), South
Korean resident registration number (valid date, gender/century digit 1-8: numbers issued
since 2020 carry no check) and Singapore NRIC/FIN (check letter). Labels in scripts written
without spaces (身份证, マイナンバー, 주민등록번호, आधार) are found by substring (text.GATES).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from routing.sensitivity import checksums
from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES

# Each named group is a family of labels; a value after it is checked against that family's
# rules only (_FAMILY_CHECKS), so a weak rule (a date, a shape) never answers for another
# country's label. The first family keeps the six rules of the third round for all its labels.
_LABEL = re.compile(
    r"\b(?:"
    r"(?P<eu>bsn|burgerservicenummer|sofi-?nummer|tfn|tax\s+file\s+(?:number|no)|dni|nie|"
    r"n[uú]mero\s+de\s+identidad|s[ée]curit[ée]\s+sociale|num[ée]ro\s+de\s+s[ée]cu\w*|nir|"
    r"insee|steuer-?id\w*|steuer-?identifikationsnummer|identifikationsnummer|idnr|"
    r"codice\s+fiscale|c\.f\.|tax\s+id)"
    r"|(?P<pt>nif|n[uú]mero\s+de\s+contribuinte|contribuinte)"
    r"|(?P<nordic>personnum\w*|(?:personal|national)\s+identity\s+number)"
    r"|(?P<se>personnr|samordningsnum\w*|coordination\s+number)"
    r"|(?P<no>f[øo]dselsnum\w*|f[øo]dselsnr|d-num\w*)"
    r"|(?P<dk>cpr(?:-n\w*)?)"
    r"|(?P<fi>henkil[öo]tunnu\w*|hetu|personal\s+identity\s+code)"
    r"|(?P<br>cpf|cadastro\s+de\s+pessoas?\s+f[ií]sicas?)"
    r"|(?P<pl>pesel)"
    r"|(?P<be>rijksregister\w*|insz(?:-nummer)?|niss|registre\s+national|"
    r"num[ée]ro\s+national|national\s+register(?:\s+number)?)"
    r"|(?P<ch>ahv(?:-n\w*|n13)?|avs|sozialversicherungsnummer|oasi)"
    r"|(?P<ie>ppsn?|personal\s+public\s+service(?:\s+number)?)"
    r"|(?P<aadhaar>aadhaa?r|uidai|uid)"
    r"|(?P<pan>pan|permanent\s+account\s+number)"
    r"|(?P<cn>id\s+card|resident\s+identity(?:\s+card)?)"
    r"|(?P<jp>my\s+number|individual\s+number)"
    r"|(?P<kr>rrn|resident\s+registration\s+number)"
    r"|(?P<sg>nric|fin)"
    r")\b"
)
# Labels in scripts written without spaces: a word boundary would not fall after 身份证 in
# 身份证号, nor after 주민등록번호 in 주민등록번호는, so these are matched as they stand.
_SCRIPT_LABEL = re.compile(
    r"(?P<cn>公民身份号码|身份证|身份号码)|(?P<jp>個人番号|マイナンバー)"
    r"|(?P<kr>주민등록번호|주민번호)|(?P<aadhaar>आधार)"
)
# Every label in _LABEL has one of these words (see text.GATES.words), or one of the substrings
# of _LATIN_GATE; "tax" alone is in too many prompts to gate on.
_LABEL_WORDS = GATES.words(
    "bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "tfn", "dni", "nie",
    "nif", "identidad", "sociale", "sécu", "secu", "nir", "insee", "steuer-id", "steuerid",
    "steuer-identifikationsnummer", "steueridentifikationsnummer", "identifikationsnummer",
    "idnr", "fiscale",
    # Fifth round.
    "contribuinte", "personnr", "fødselsnr", "fodselsnr", "cpr", "cpr-nr", "cpr-nummer",
    "cpr-nummeret", "hetu", "cpf", "pesel", "insz", "insz-nummer", "niss", "ahv", "avs",
    "ahv-nr", "ahv-nummer", "ahvn13", "sozialversicherungsnummer", "oasi", "pps", "ppsn",
    "aadhaar", "aadhar", "uidai", "uid", "pan", "rrn", "nric", "fin",
)  # fmt: skip
# The inflected and several-word labels, by substring: personnummer / personnumret,
# henkilötunnukseni, d-nummeret, rijksregisternummer, "numéro de registre national".
_LATIN_GATE = GATES.any_of(
    "tax file", "tax id", "personnum", "samordningsnum", "coordination number", "fødselsnum",
    "fodselsnum", "d-num", "henkilötunnu", "henkilotunnu", "identity number", "identity code",
    "pessoas f", "rijksregister", "registre national", "numéro national", "numero national",
    "national register", "personal public service", "permanent account number", "id card",
    "resident identity", "my number", "individual number", "resident registration number",
)  # fmt: skip
_SCRIPT_GATE = GATES.any_of(
    "公民身份号码", "身份证", "身份号码", "個人番号", "マイナンバー", "주민등록번호", "주민번호",
    "आधार",
)  # fmt: skip
# Groups of letters and digits after the label; up to this many characters are read.
_REACH = 48
_GROUP = re.compile(r"[0-9A-Za-z]+")
# What may join two groups of one value: "850709-9805", "131052+308T" (a Swedish or Finnish
# number of someone over 100), "756.1234.5678.97", "2345 6789 0124".
_JOINS = " .-+"
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


def _date_ok(month: int, day: int) -> bool:
    """A day that exists in the month of some year (29 February always passes)."""
    return 1 <= month <= 12 and 1 <= day <= (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[
        month - 1
    ]


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def se_personnummer_valid(digits: str) -> bool:
    """Swedish personnummer or samordningsnummer (day + 60): [YY]YYMMDD + 4 digits, Luhn over
    the 10-digit form."""
    if len(digits) == 12 and digits[:2] in ("18", "19", "20"):
        digits = digits[2:]
    if len(digits) != 10 or not digits.isdigit():
        return False
    day = int(digits[4:6])
    return _date_ok(int(digits[2:4]), day - 60 if day > 60 else day) and checksums.luhn_valid(
        digits
    )


def no_fodselsnummer_valid(digits: str) -> bool:
    """Norwegian fødselsnummer, d-nummer (day + 40) or h-nummer (month + 40): DDMMYY, three
    digits and two mod-11 check digits."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    day, month = int(digits[:2]), int(digits[2:4])
    if not _date_ok(month - 40 if month > 40 else month, day - 40 if day > 40 else day):
        return False
    for length, weights in ((9, (3, 7, 6, 1, 8, 9, 4, 5, 2)), (10, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))):
        check = (11 - _weighted(digits, weights) % 11) % 11
        if check == 10 or check != int(digits[length]):
            return False
    return True


def dk_cpr_valid(digits: str) -> bool:
    """Danish CPR-nummer: DDMMYY and four digits. Numbers issued since 2007 need not pass the
    old modulus 11, so only the date is checked."""
    return (
        len(digits) == 10
        and digits.isdigit()
        and _date_ok(int(digits[2:4]), int(digits[:2]))
    )


_HETU_CENTURY = "+-ABCDEFYXWVU"
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def fi_henkilotunnus_valid(value: str) -> bool:
    """Finnish henkilötunnus: DDMMYY, century sign, three digits, check character of the nine
    digits mod 31. The sign may have been read as the join between two groups."""
    value = value.upper()
    if len(value) == 11 and value[6] in _HETU_CENTURY:
        value = value[:6] + value[7:]
    if len(value) != 10 or not value[:9].isdigit():
        return False
    return (
        _date_ok(int(value[2:4]), int(value[:2])) and _HETU_CHECK[int(value[:9]) % 31] == value[9]
    )


def pt_nif_valid(digits: str) -> bool:
    """Portuguese NIF of a person (first digit 1, 2, 3, 4 or 7; 5, 6, 8 and 9 are companies,
    public bodies and others): 9 digits, mod 11."""
    if len(digits) != 9 or not digits.isdigit() or digits[0] not in "12347":
        return False
    check = 11 - _weighted(digits, (9, 8, 7, 6, 5, 4, 3, 2)) % 11
    return (0 if check >= 10 else check) == int(digits[8])


def br_cpf_valid(digits: str) -> bool:
    """Brazilian CPF: 9 digits and two mod-11 check digits; one digit repeated is refused."""
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    for length in (9, 10):
        check = _weighted(digits, tuple(range(length + 1, 1, -1))) * 10 % 11 % 10
        if check != int(digits[length]):
            return False
    return True


def pl_pesel_valid(digits: str) -> bool:
    """Polish PESEL: YYMMDD (month + 20 per century after the 1900s, + 80 for the 1800s), four
    digits and a weighted check digit."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    if not _date_ok(int(digits[2:4]) % 20, int(digits[4:6])):
        return False
    return (10 - _weighted(digits, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)) % 10) % 10 == int(digits[10])


def be_rijksregister_valid(digits: str) -> bool:
    """Belgian rijksregisternummer / numéro de registre national: YYMMDD, three digits and
    97 - (the nine digits mod 97); for births from 2000 a 2 is put in front of the nine."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    check = int(digits[9:])
    return check in (97 - int(digits[:9]) % 97, 97 - int("2" + digits[:9]) % 97)


def ch_ahv_valid(digits: str) -> bool:
    """Swiss AHV/AVS number: 756, nine digits, EAN-13 check digit."""
    if len(digits) != 13 or not digits.isdigit() or not digits.startswith("756"):
        return False
    return (10 - _weighted(digits, (1, 3) * 6) % 10) % 10 == int(digits[12])


def ie_pps_valid(value: str) -> bool:
    """Irish PPS number: 7 digits, a check letter (mod 23) and an optional letter that counts
    with weight 9 (W as 0)."""
    value = value.upper()
    if not 8 <= len(value) <= 9 or not value[:7].isdigit() or not value[7:].isalpha():
        return False
    total = _weighted(value, (8, 7, 6, 5, 4, 3, 2))
    if len(value) == 9:
        if value[8] not in "ABCDEFGHIW":
            return False
        total += 9 * (0 if value[8] == "W" else ord(value[8]) - ord("A") + 1)
    return "WABCDEFGHIJKLMNOPQRSTUV"[total % 23] == value[7]


_VERHOEFF_D = (
    "0123456789", "1234067895", "2340178956", "3401289567", "4012395678",
    "5987604321", "6598710432", "7659821043", "8765932104", "9876543210",
)  # fmt: skip
_VERHOEFF_P = (
    "0123456789", "1576283094", "5803796142", "8916043527",
    "9453126870", "4286573901", "2793806415", "7046913258",
)  # fmt: skip


def in_aadhaar_valid(digits: str) -> bool:
    """Indian Aadhaar: 12 digits, not starting 0 or 1, Verhoeff check."""
    if len(digits) != 12 or not digits.isdigit() or digits[0] in "01":
        return False
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = int(_VERHOEFF_D[check][int(_VERHOEFF_P[position % 8][int(char)])])
    return check == 0


_PAN_SHAPE = re.compile(r"[A-Z]{5}[0-9]{4}[A-Z]")


def in_pan_valid(value: str) -> bool:
    """Indian PAN: five capitals, four digits, a capital. No public check digit."""
    return _PAN_SHAPE.fullmatch(value) is not None


_CN_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))


def cn_resident_id_valid(value: str) -> bool:
    """Chinese resident identity number: region (6), birth date YYYYMMDD, order (3), and an
    ISO 7064 MOD 11-2 check character (X for 10)."""
    value = value.upper()
    if len(value) != 18 or not value[:17].isdigit() or value[0] in "09":
        return False
    if value[6:8] not in ("18", "19", "20") or not _date_ok(int(value[10:12]), int(value[12:14])):
        return False
    return "10X98765432"[_weighted(value, _CN_WEIGHTS) % 11] == value[17]


def jp_my_number_valid(digits: str) -> bool:
    """Japanese My Number (個人番号): 11 digits and a check digit; with P(n) the n-th digit from
    the right of the eleven and Q(n) = n + 1 up to 6, n - 5 after, the check is
    11 - sum(P*Q) mod 11, or 0 when that remainder is 0 or 1."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    remainder = (
        sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(digits[:11]), 1))
        % 11
    )
    return (0 if remainder <= 1 else 11 - remainder) == int(digits[11])


def kr_rrn_valid(digits: str) -> bool:
    """South Korean resident registration number: YYMMDD and seven digits, the first of them
    (sex and century, foreigners 5-8) 1 to 8. Numbers issued since October 2020 end in random
    digits, so the legacy weighted check is not required."""
    return (
        len(digits) == 13
        and digits.isdigit()
        and digits[6] in "12345678"
        and _date_ok(int(digits[2:4]), int(digits[4:6]))
    )


_NRIC_LETTERS = {"S": "JZIHGFEDCBA", "T": "JZIHGFEDCBA", "F": "XWUTRQPNMLK", "G": "XWUTRQPNMLK",
                 "M": "XWUTRQPNJLK"}  # fmt: skip
_NRIC_OFFSET = {"S": 0, "F": 0, "T": 4, "G": 4, "M": 3}


def sg_nric_valid(value: str) -> bool:
    """Singapore NRIC or FIN: S/T/F/G/M, seven digits, a check letter (weights 2765432)."""
    value = value.upper()
    if len(value) != 9 or value[0] not in _NRIC_OFFSET or not value[1:8].isdigit():
        return False
    total = _weighted(value[1:8], (2, 7, 6, 5, 4, 3, 2)) + _NRIC_OFFSET[value[0]]
    return _NRIC_LETTERS[value[0]][total % 11] == value[8]


_CHECKS = (
    (bsn_valid, "nl_bsn"), (tfn_valid, "au_tfn"), (dni_valid, "es_dni"), (nir_valid, "fr_nir"),
    (codice_fiscale_valid, "it_codice_fiscale"), (steuer_id_valid, "de_steuer_id"),
)  # fmt: skip
# The rules tried after each family of labels (the group names of _LABEL and _SCRIPT_LABEL).
# "nif" is Spain's label too, so it keeps the six rules of the first family, after Portugal's
# (a nine-digit NIF is Portuguese; the BSN and TFN rules would otherwise name it).
_FAMILY_CHECKS = {
    "eu": _CHECKS,
    "pt": ((pt_nif_valid, "pt_nif"), *_CHECKS),
    # Swedes, Norwegians and Danes all say personnummer; Denmark's rule (a date) goes last.
    "nordic": (
        (se_personnummer_valid, "se_personnummer"), (no_fodselsnummer_valid, "no_fodselsnummer"),
        (dk_cpr_valid, "dk_cpr"),
    ),
    "se": ((se_personnummer_valid, "se_personnummer"),),
    "no": ((no_fodselsnummer_valid, "no_fodselsnummer"),),
    "dk": ((dk_cpr_valid, "dk_cpr"),),
    "fi": ((fi_henkilotunnus_valid, "fi_henkilotunnus"),),
    "br": ((br_cpf_valid, "br_cpf"),),
    "pl": ((pl_pesel_valid, "pl_pesel"),),
    "be": ((be_rijksregister_valid, "be_rijksregister"),),
    "ch": ((ch_ahv_valid, "ch_ahv"),),
    "ie": ((ie_pps_valid, "ie_pps"),),
    "aadhaar": ((in_aadhaar_valid, "in_aadhaar"),),
    "pan": ((in_pan_valid, "in_pan"),),
    "cn": ((cn_resident_id_valid, "cn_resident_id"),),
    "jp": ((jp_my_number_valid, "jp_my_number"),),
    "kr": ((kr_rrn_valid, "kr_rrn"),),
    "sg": ((sg_nric_valid, "sg_nric"),),
}  # fmt: skip


def find(text: str, folded: str, found: list[Span], gates: int) -> None:
    """Append personal spans for labelled national identifiers that pass their check.

    gates: text.GATES.present(folded).
    """
    if gates & (_LABEL_WORDS | _LATIN_GATE):
        _after_labels(_LABEL, text, folded, found)
    if gates & _SCRIPT_GATE:
        _after_labels(_SCRIPT_LABEL, text, folded, found)


def _after_labels(
    labels: re.Pattern[str], text: str, folded: str, found: list[Span]
) -> None:
    for label in labels.finditer(folded):
        if label.group() == "fin" and not text[label.start() : label.end()].isupper():
            continue  # Singapore's FIN in capitals; "fin" is French for end, and a whale
        span = _value_after(text, label.end(), _FAMILY_CHECKS[label.lastgroup or "eu"])
        if span is not None:
            found.append(Span(span[0], span[1], "personal", span[2]))


def _value_after(
    text: str, start: int, checks: tuple[tuple[Callable[[str], bool], str], ...]
) -> tuple[int, int, str] | None:
    groups = list(_GROUP.finditer(text, start, min(len(text), start + _REACH)))[:_MAX_GROUPS]
    for first, group in enumerate(groups):
        if not group.group()[0].isdigit() and len(group.group()) < 6:
            continue  # words between label and number ("is", "es", "It's"); a CF starts a letter
        compact = ""
        for last in range(first, len(groups)):
            if last > first:
                gap = text[groups[last - 1].end() : groups[last].start()]
                if len(gap) != 1 or gap not in _JOINS:
                    break
            compact += groups[last].group()
            for check, kind in checks:
                if check(compact):
                    return group.start(), groups[last].end(), kind
    return None

