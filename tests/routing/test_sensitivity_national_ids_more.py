"""National identifiers of the fifth round, each after its label and checked by its own rule:
Nordic personal numbers (SE, NO, DK, FI), Portuguese NIF, Brazilian CPF, Polish PESEL, Belgian
rijksregisternummer, Swiss AHV/AVS, Irish PPS, Indian Aadhaar and PAN, Chinese resident
identity number, Japanese My Number, Korean resident registration number, Singapore NRIC/FIN;
and dates of birth written in Japanese, Chinese and Korean.

The valid numbers are built here, by generators written from each scheme's published rule and
independently of routing.sensitivity (a shared bug would otherwise agree with itself). Every
value is random or made up and belongs to nobody."""

from __future__ import annotations

import random
import time

import pytest

from routing.sensitivity import scan

_RNG = random.Random(20240605)


def categories(text):
    return scan(text).categories


def kinds(text):
    return {span.kind for span in scan(text).spans}


def _digits(count):
    return "".join(_RNG.choice("0123456789") for _ in range(count))


def _birth(rng=_RNG):
    """A real calendar date as (yy, mm, dd) strings, day at most 28 to stay valid anywhere."""
    return f"{rng.randint(0, 99):02d}", f"{rng.randint(1, 12):02d}", f"{rng.randint(1, 28):02d}"


# --- generators: each computes the check from the published rule -----------------------------
def luhn_digit(payload):
    """Luhn, written as "double every second digit from the left of a 9-digit payload"."""
    total = 0
    for index, char in enumerate(payload):
        value = int(char) * (2 if (len(payload) - index) % 2 == 1 else 1)
        total += value // 10 + value % 10
    return str(-total % 10)


def swedish(sep="-", long=False, coordination=False):
    yy, mm, dd = _birth()
    if coordination:
        dd = str(int(dd) + 60)
    serial = _digits(3)
    body = yy + mm + dd + serial
    number = body + luhn_digit(body)
    head = ("19" if long else "") + number[:6]
    return head + sep + number[6:]


def norwegian(d_number=False):
    while True:
        yy, mm, dd = _birth()
        if d_number:
            dd = str(int(dd) + 40)
        base = dd + mm + yy + _digits(3)
        s1 = sum(int(a) * b for a, b in zip(base, [3, 7, 6, 1, 8, 9, 4, 5, 2], strict=True))
        k1 = 11 - s1 % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        base += str(k1)
        s2 = sum(int(a) * b for a, b in zip(base, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2], strict=True))
        k2 = 11 - s2 % 11
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return base + str(k2)


def danish():
    yy, mm, dd = _birth()
    return f"{dd}{mm}{yy}-{_digits(4)}"


def finnish(sign="-"):
    yy, mm, dd = _birth()
    individual = f"{_RNG.randint(2, 899):03d}"
    remainder = int(dd + mm + yy + individual) % 31
    return dd + mm + yy + sign + individual + "0123456789ABCDEFHJKLMNPRSTUVWXY"[remainder]


def portuguese_nif(first="2"):
    body = first + _digits(7)
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    check = 11 - total % 11
    return body + str(0 if check in (10, 11) else check)


def cpf(formatted=True):
    while True:
        body = _digits(9)
        if len(set(body)) > 1:
            break
    for size in (9, 10):
        total = sum(int(d) * (size + 1 - i) for i, d in enumerate(body))
        rest = total % 11
        body += "0" if rest < 2 else str(11 - rest)
    if not formatted:
        return body
    return f"{body[:3]}.{body[3:6]}.{body[6:9]}-{body[9:]}"


def pesel(century=1900):
    yy, mm, dd = _birth()
    month = int(mm) + {1800: 80, 1900: 0, 2000: 20}[century]
    body = f"{yy}{month:02d}{dd}{_digits(4)}"
    total = sum(int(d) * w for d, w in zip(body, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3], strict=True))
    return body + str((10 - total % 10) % 10)


def belgian(born_2000=False):
    yy, mm, dd = _birth()
    body = yy + mm + dd + f"{_RNG.randint(1, 997):03d}"
    check = 97 - int(("2" if born_2000 else "") + body) % 97
    return f"{body[:2]}.{body[2:4]}.{body[4:6]}-{body[6:9]}.{check:02d}"


def ahv():
    body = "756" + _digits(9)
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    check = (10 - (odd + 3 * even) % 10) % 10
    number = body + str(check)
    return f"{number[:3]}.{number[3:7]}.{number[7:11]}.{number[11:]}"


def pps(second=""):
    body = _digits(7)
    total = sum(int(d) * (8 - i) for i, d in enumerate(body))
    if second:
        total += 9 * ("WABCDEFGHI".index(second))
    return body + "WABCDEFGHIJKLMNOPQRSTUV"[total % 23] + second


# Verhoeff, from the dihedral group D5: multiplication, permutation and inverse tables.
_D5 = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_PERM = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
_SIGMA = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]  # the permutation applied once per position
_INVERSE = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def _verhoeff_perm(position, digit):
    for _ in range(position % 8):
        digit = _SIGMA[digit]
    return digit


def aadhaar():
    body = str(_RNG.randint(2, 9)) + _digits(10)
    c = 0
    for position, char in enumerate(reversed(body), start=1):  # check digit sits at 0
        c = _D5[c][_verhoeff_perm(position, int(char))]
    number = body + str(_INVERSE[c])
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def chinese_id(check_override=None):
    region = "110105"
    birth = f"19{_RNG.randint(40, 99)}{_RNG.randint(1, 12):02d}{_RNG.randint(1, 28):02d}"
    body = region + birth + _digits(3)
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    check = (12 - total % 11) % 11
    return body + (check_override or ("X" if check == 10 else str(check)))


def my_number():
    body = _digits(11)
    total = 0
    for n, char in enumerate(reversed(body), start=1):
        total += int(char) * (n + 1 if n <= 6 else n - 5)
    rest = total % 11
    return body + str(0 if rest <= 1 else 11 - rest)


def korean_rrn(first="1"):
    yy, mm, dd = _birth()
    return f"{yy}{mm}{dd}-{first}{_digits(6)}"


def nric(prefix="S"):
    body = _digits(7)
    total = sum(int(d) * w for d, w in zip(body, [2, 7, 6, 5, 4, 3, 2], strict=True))
    total += {"S": 0, "T": 4, "F": 0, "G": 4}[prefix]
    letters = "ABCDEFGHIZJ" if prefix in "ST" else "KLMNPQRTUWX"
    return prefix + body + letters[10 - total % 11]


def wrong_last(value):
    """The same value with its last character changed to another of the same kind."""
    last = value[-1]
    if last.isdigit():
        return value[:-1] + str((int(last) + 1) % 10)
    return value[:-1] + ("B" if last != "B" else "C")


# --- the generators agree with known published examples ---------------------------------------
def test_generators_match_published_examples():
    # Check values printed in the schemes' own documentation and standards.
    assert luhn_digit("811218987") == "6"  # Skatteverket: 811218-9876
    assert "0123456789ABCDEFHJKLMNPRSTUVWXY"[131052308 % 31] == "T"  # DVV: 131052-308T
    c = 0
    for position, char in enumerate(reversed("23412341234"), start=1):
        c = _D5[c][_verhoeff_perm(position, int(char))]
    assert _INVERSE[c] == 6  # Verhoeff reference: 234123412346 is valid
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate("11010519491231002"))
    assert (12 - total % 11) % 11 == 10  # GB 11643: 11010519491231002X


# --- positives: each after its label, in the local language and in English --------------------
POSITIVES = [
    (f"Mitt personnummer är {swedish()}, kan du fylla i blanketten?", "se_personnummer"),
    (f"Personnummer: {swedish(long=True)}", "se_personnummer"),
    (f"Hans personnummer är {swedish(sep='+')} (över 100 år).", "se_personnummer"),
    (f"Samordningsnummer {swedish(coordination=True)} – skicka till HR.", "se_personnummer"),
    (f"Swedish personal identity number {swedish(sep='')} for the contract.", "se_personnummer"),
    (f"Fødselsnummer: {norwegian()}, vennligst oppdater journalen.", "no_fodselsnummer"),
    (f"D-nummer {norwegian(d_number=True)} – ny ansatt fra Polen.", "no_fodselsnummer"),
    (f"Norwegian national identity number {norwegian()} on the form.", "no_fodselsnummer"),
    (f"Mit CPR-nummer er {danish()}, kan du tjekke det?", "dk_cpr"),
    (f"CPR: {danish()} (patient, Aarhus)", "dk_cpr"),
    (f"Henkilötunnus: {finnish()}", "fi_henkilotunnus"),
    (f"Henkilötunnukseni on {finnish('A')}, täytä lomake.", "fi_henkilotunnus"),
    (f"Finnish personal identity code {finnish('+')} for the file.", "fi_henkilotunnus"),
    (f"HETU {finnish('Y')}", "fi_henkilotunnus"),
    (f"O meu NIF é {portuguese_nif()}, pode preencher a fatura?", "pt_nif"),
    (f"Número de contribuinte: {portuguese_nif('1')}", "pt_nif"),
    (f"Meu CPF é {cpf()}, pode conferir o cadastro?", "br_cpf"),
    (f"CPF {cpf(formatted=False)} – cliente novo.", "br_cpf"),
    (f"Mój PESEL to {pesel()}, proszę wpisać do umowy.", "pl_pesel"),
    (f"PESEL: {pesel(2000)} (born 2005)", "pl_pesel"),
    (f"Mijn rijksregisternummer is {belgian()}.", "be_rijksregister"),
    (f"Numéro de registre national : {belgian(born_2000=True)}", "be_rijksregister"),
    (f"National register number {belgian()} for the Belgian employee.", "be_rijksregister"),
    (f"Meine AHV-Nummer ist {ahv()}, bitte eintragen.", "ch_ahv"),
    (f"Numéro AVS : {ahv()}", "ch_ahv"),
    (f"My PPS number is {pps()}, can you fill in the form?", "ie_pps"),
    (f"PPSN {pps('A')} – new starter.", "ie_pps"),
    (f"My Aadhaar number is {aadhaar()}, please update KYC.", "in_aadhaar"),
    (f"मेरा आधार नंबर {aadhaar()} है।", "in_aadhaar"),
    (f"UID: {aadhaar().replace(' ', '')}", "in_aadhaar"),
    ("My PAN is ABCPK1234L, file the return please.", "in_pan"),
    ("PAN card number: BNZPM2501F", "in_pan"),
    (f"我的身份证号码是{chinese_id()}，请帮我填表。", "cn_resident_id"),
    (f"身份证号：{chinese_id()}", "cn_resident_id"),
    (f"公民身份号码 {chinese_id()}", "cn_resident_id"),
    (f"Chinese ID card: {chinese_id()}", "cn_resident_id"),
    (f"私のマイナンバーは{my_number()}です。", "jp_my_number"),
    (f"My Number: {my_number()} (Japan, for the tax form)", "jp_my_number"),
    (f"주민등록번호: {korean_rrn()}", "kr_rrn"),
    (f"제 주민등록번호는 {korean_rrn('4')}입니다.", "kr_rrn"),
    (f"RRN {korean_rrn('5')} (foreign resident)", "kr_rrn"),
    (f"My NRIC is {nric()}, please update the lease.", "sg_nric"),
    (f"FIN: {nric('G')}", "sg_nric"),
    (f"NRIC {nric('T')} – born 2003.", "sg_nric"),
]
_NO = norwegian()
_MY = my_number()
POSITIVES += [  # spaced in groups
    (f"Mitt fødselsnummer er {_NO[:6]} {_NO[6:]}", "no_fodselsnummer"),
    (f"個人番号：{_MY[:4]} {_MY[4:8]} {_MY[8:]}", "jp_my_number"),
]


@pytest.mark.parametrize("text, kind", POSITIVES)
def test_labelled_national_ids(text, kind):
    assert "personal" in categories(text)
    assert kind in kinds(text)


def test_span_covers_the_whole_value():
    value = cpf()
    text = f"CPF: {value}, obrigado."
    (span,) = scan(text).spans
    assert text[span.start : span.end] == value
    value = chinese_id()
    text = f"身份证号：{value}。"
    (span,) = scan(text).spans
    assert text[span.start : span.end] == value


@pytest.mark.parametrize("seed", range(40))
def test_many_random_valid_numbers(seed):
    rng_state = _RNG.getstate()
    _RNG.seed(seed)
    try:
        cases = [
            (f"personnummer {swedish()}", "se_personnummer"),
            (f"fødselsnummer {norwegian()}", "no_fodselsnummer"),
            (f"henkilötunnus {finnish()}", "fi_henkilotunnus"),
            (f"NIF {portuguese_nif(_RNG.choice('123'))}", "pt_nif"),
            (f"CPF {cpf()}", "br_cpf"),
            (f"PESEL {pesel(_RNG.choice([1900, 2000]))}", "pl_pesel"),
            (f"rijksregisternummer {belgian(_RNG.random() < 0.5)}", "be_rijksregister"),
            (f"AHV {ahv()}", "ch_ahv"),
            (f"PPS {pps(_RNG.choice(['', 'A', 'W']))}", "ie_pps"),
            (f"Aadhaar {aadhaar()}", "in_aadhaar"),
            (f"身份证 {chinese_id()}", "cn_resident_id"),
            (f"マイナンバー {my_number()}", "jp_my_number"),
            (f"NRIC {nric(_RNG.choice('STFG'))}", "sg_nric"),
        ]
    finally:
        _RNG.setstate(rng_state)
    for text, kind in cases:
        assert kind in kinds(text), text


# --- near misses: wrong check, no label, a label in a question, a label on another number -----
NEAR_MISSES = [
    f"Personnummer: {wrong_last(swedish(long=True))}",  # fails Luhn
    f"Samordningsnummer: {wrong_last(swedish(coordination=True))}",
    f"Personnummer: 851332-{_digits(4)}",  # no 32nd day, no 13th month
    f"Fødselsnummer: {wrong_last(norwegian())}",
    "CPR: 320190-1234",  # no 32nd day
    f"Henkilötunnus: {wrong_last(finnish())}",
    f"NIF {wrong_last(portuguese_nif())}",
    f"NIF {portuguese_nif('5')} da empresa",  # a company's NIF
    f"CPF {wrong_last(cpf())}",
    "CPF 111.111.111-11",  # one digit repeated passes the arithmetic, is not issued
    f"PESEL {wrong_last(pesel())}",
    f"Rijksregisternummer {wrong_last(belgian())}",
    f"AHV {wrong_last(ahv())}",
    f"AHV 757.{_digits(4)}.{_digits(4)}.{_digits(2)}",  # not Switzerland's 756
    f"PPS {wrong_last(pps())}",
    f"Aadhaar {wrong_last(aadhaar().replace(' ', ''))}",
    "Aadhaar 1234 5678 9012",  # cannot start with 1
    "PAN: abcde1234f is lower case, PAN 4111 1111",
    f"身份证号：{wrong_last(chinese_id())}",
    f"マイナンバー：{wrong_last(my_number())}",
    "주민등록번호: 901332-1234567",  # no 13th month
    "RRN 900101-9234567",  # 9 is not a sex and century digit of today's numbers
    f"NRIC {wrong_last(nric())}",
    # valid numbers, no label
    f"Reference {swedish()} in the ledger.",
    f"Order {cpf()} shipped.",
    f"Invoice {pesel()} is overdue.",
    f"Batch {my_number()} passed QA.",
    f"Lot {chinese_id()} released.",
    f"Ticket {nric()} closed.",
    # labels in general questions, with no number
    "What is a PESEL number?",
    "How is the check digit of a Swedish personnummer computed?",
    "Explain the format of the Brazilian CPF (000.000.000-00).",
    "What is the difference between a CPR-nummer and a personnummer?",
    "什么是公民身份号码？",
    "マイナンバーカードの申請方法を教えてください。",
    "주민등록번호 뒷자리는 무엇을 의미하나요?",
    "How do I link my PAN with Aadhaar?",
    "Is the NRIC the same as a FIN?",
    # the labels' other senses
    "Heat the pan to 180 degrees for 12 minutes, then rest 5.",
    "We did CPR for 12 minutes at 14:32 before the ambulance came.",
    "La fin du mois: 30 000 euros de chiffre d'affaires.",
    f"Fin du contrat, dossier {nric('F')}.",  # FIN counts in capitals only
    "uid=1000(alice) gid=1000(alice) groups=1000(alice),27(sudo)",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_national_id_near_misses(text):
    assert "personal" not in categories(text)


# --- dates of birth in Japanese, Chinese and Korean ---------------------------------------------
@pytest.mark.parametrize(
    "text, date",
    [
        ("生年月日：昭和63年5月21日", "昭和63年5月21日"),
        ("生年月日は平成元年1月8日です。", "平成元年1月8日"),
        ("氏名 山田太郎 生年月日 1988年5月21日 住所 東京都", "1988年5月21日"),
        ("生年月日：１９８８年５月２１日", "１９８８年５月２１日"),
        ("出生日期：1990年3月7日", "1990年3月7日"),
        ("出生日期 1990-03-07，性别 女", "1990-03-07"),
        ("出生年月日：1975/11/02", "1975/11/02"),
        ("생년월일: 1992년 8월 15일", "1992년 8월 15일"),
    ],
)
def test_cjk_dates_of_birth(text, date):
    spans = [span for span in scan(text).spans if span.kind == "date_of_birth"]
    assert [text[span.start : span.end] for span in spans] == [date]


@pytest.mark.parametrize(
    "text",
    [
        "生年月日の書き方を教えてください。",  # no date
        "1988年5月21日に東京で会議があります。",  # a date, not a birth date
        "出生日期格式是什么？",
        "令和5年度の予算は3月31日までに提出。",
    ],
)
def test_cjk_dates_of_birth_near_misses(text):
    assert "date_of_birth" not in kinds(text)


# --- the new patterns stay linear ------------------------------------------------------------
@pytest.mark.parametrize(
    "hostile",
    [
        "personnummer 1 " * 10_000,
        "personnummer " + "8507099805+" * 10_000,
        "fødselsnummer 1 " * 10_000,
        "cpr-nummer " * 10_000,
        "henkilötunnus 1A" * 10_000,
        "NIF 1 " * 20_000,
        "CPF 123." * 15_000,
        "PESEL 1 " * 15_000,
        "rijksregisternummer 85.07.30-" * 4_000,
        "AHV 756." * 15_000,
        "PPS 1234567" * 10_000,
        "Aadhaar 2345 " * 10_000,
        "PAN ABCDE" * 15_000,
        "身份证" + "1" * 100_000,
        "身份证1" * 30_000,
        "マイナンバー1 " * 15_000,
        "주민등록번호 900101-" * 8_000,
        "NRIC S1234567" * 8_000,
        "my number " * 10_000,
        "生年月日" * 25_000,
        "生年月日：昭和" * 15_000,
        "出生日期 1990-" * 10_000,
        "생년월일 1992년 " * 9_000,
        "pan fin uid " * 10_000 + "1",
    ],
    ids=lambda text: repr(text[:14]),
)
def test_national_id_patterns_finish_on_pathological_input(hostile):
    assert len(hostile) >= 90_000
    started = time.perf_counter()
    scan(hostile)
    assert time.perf_counter() - started < 10
