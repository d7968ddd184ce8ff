"""Fabricated identifiers that pass (or deliberately fail) their checksums.

This is written separately from routing.sensitivity on purpose: if the gate's Luhn or mod-97
had a bug, data produced by the same code would agree with it and the tests would prove nothing.
Every value here is random and belongs to nobody.
"""

from __future__ import annotations

import random
import string

ALNUM_UPPER = string.ascii_uppercase + string.digits
BASE62 = string.ascii_letters + string.digits


def luhn_check_digit(payload: str) -> str:
    """The digit that makes payload + digit pass the Luhn test."""
    total = 0
    # Walking right to left, the check digit itself will sit at position 0, so the payload's
    # rightmost digit is the first one to be doubled.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


CARD_PREFIXES = {
    "visa": (["4"], 16),
    "mastercard": (["51", "52", "53", "54", "55", "2221", "2430", "2720"], 16),
    "amex": (["34", "37"], 15),
    "discover": (["6011", "644", "65"], 16),
    "jcb": (["3528", "3566", "3589"], 16),
    "diners": (["300", "305", "36", "38"], 14),
    "unionpay": (["62"], 16),
}


def card(rng: random.Random, brand: str) -> str:
    prefixes, length = CARD_PREFIXES[brand]
    payload = rng.choice(prefixes)
    while len(payload) < length - 1:
        payload += rng.choice(string.digits)
    return payload + luhn_check_digit(payload)


def card_failing_luhn(rng: random.Random, brand: str) -> str:
    valid = card(rng, brand)
    wrong = str((int(valid[-1]) + rng.randint(1, 9)) % 10)
    return valid[:-1] + wrong


def group_card(number: str, separator: str = " ") -> str:
    # Amex (15) and Diners (14) print as 4-6-5 and 4-6-4; the rest in fours.
    if len(number) in (14, 15):
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    return separator.join(groups)


# Country -> BBAN layout: n digits, a upper-case letters, c upper-case alphanumerics.
IBAN_LAYOUTS = {
    "DE": "18n",
    "GB": "4a14n",
    "FR": "10n11c2n",
    "ES": "20n",
    "IT": "1a10n12c",
    "NL": "4a10n",
    "BE": "12n",
    "CH": "5n12c",
    "IE": "4a14n",
    "PL": "24n",
    "AT": "16n",
    "SE": "20n",
    "NO": "11n",
    "PT": "21n",
    "DK": "14n",
}


def _bban(rng: random.Random, layout: str) -> str:
    out = []
    count = ""
    for char in layout:
        if char.isdigit():
            count += char
            continue
        alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": ALNUM_UPPER}[char]
        out.extend(rng.choice(alphabet) for _ in range(int(count)))
        count = ""
    return "".join(out)


def _mod97(text: str) -> int:
    digits = "".join(str(int(ch, 36)) for ch in text)
    return int(digits) % 97


def iban(rng: random.Random, country: str) -> str:
    bban = _bban(rng, IBAN_LAYOUTS[country])
    check = 98 - _mod97(bban + country + "00")
    return f"{country}{check:02d}{bban}"


def iban_with_bad_check(rng: random.Random, country: str) -> str:
    valid = iban(rng, country)
    check = (int(valid[2:4]) + rng.randint(1, 50)) % 97 + 2
    candidate = f"{valid[:2]}{check:02d}{valid[4:]}"
    return candidate if candidate != valid else iban_with_bad_check(rng, country)


def paper_iban(compact: str) -> str:
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


ABA_PREFIXES = [f"{n:02d}" for n in [*range(1, 13), *range(21, 33), *range(61, 73), 80]]


def aba_routing(rng: random.Random) -> str:
    digits = rng.choice(ABA_PREFIXES) + "".join(rng.choice(string.digits) for _ in range(6))
    d = [int(c) for c in digits]
    partial = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5])
    return digits + str((10 - partial % 10) % 10)


def aba_failing_checksum(rng: random.Random) -> str:
    valid = aba_routing(rng)
    return valid[:-1] + str((int(valid[-1]) + rng.randint(1, 9)) % 10)


def npi(rng: random.Random) -> str:
    # The NPI check digit is a Luhn digit computed as if the number were prefixed by 80840.
    payload = rng.choice("12") + "".join(rng.choice(string.digits) for _ in range(8))
    return payload + luhn_check_digit("80840" + payload)


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def canadian_sin(rng: random.Random) -> str:
    payload = rng.choice("1234567") + "".join(rng.choice(string.digits) for _ in range(7))
    number = payload + luhn_check_digit(payload)
    return f"{number[:3]}-{number[3:6]}-{number[6:]}"


NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"


def uk_ni(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(NI_FIRST) + rng.choice(NI_SECOND)
        if prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
            break
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {rng.choice('ABCD')}"


def token(rng: random.Random, length: int, alphabet: str = BASE62) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def openai_key(rng: random.Random) -> str:
    return "sk-proj-" + token(rng, 48, BASE62 + "_-")


def anthropic_key(rng: random.Random) -> str:
    return "sk-ant-api03-" + token(rng, 86, BASE62 + "_-") + "AA"


def aws_access_key_id(rng: random.Random, prefix: str = "AKIA") -> str:
    return prefix + token(rng, 16, string.ascii_uppercase + "234567")


def aws_secret_key(rng: random.Random) -> str:
    return token(rng, 40, BASE62 + "/+")


def github_token(rng: random.Random) -> str:
    return "ghp_" + token(rng, 36)


def github_fine_grained(rng: random.Random) -> str:
    return "github_pat_" + token(rng, 22) + "_" + token(rng, 59)


def slack_token(rng: random.Random) -> str:
    return "xoxb-" + "-".join(
        [token(rng, 12, string.digits), token(rng, 13, string.digits), token(rng, 24)]
    )


def google_api_key(rng: random.Random) -> str:
    return "AIza" + token(rng, 35, BASE62 + "_-")


def stripe_live_key(rng: random.Random) -> str:
    return "sk_live_" + token(rng, 24)


def _b64url(rng: random.Random, length: int) -> str:
    return token(rng, length, BASE62 + "_-")


def jwt(rng: random.Random) -> str:
    # Real JWT headers and payloads are base64url JSON, which always begins with "eyJ".
    return f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{_b64url(rng, 60)}.{_b64url(rng, 43)}"


def pem_private_key(rng: random.Random, label: str = "RSA PRIVATE KEY") -> str:
    body = "\n".join(token(rng, 64, BASE62 + "+/") for _ in range(5))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def password(rng: random.Random) -> str:
    return token(rng, 6, string.ascii_letters) + token(rng, 3, string.digits) + rng.choice("!#%&*")
