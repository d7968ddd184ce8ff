"""Credentials that are not called a password: network keys, login pairs, PINs, access codes.

credentials.py knows secrets by their provider's shape and passwords by the word "password" in
eleven languages. People also hand over what opens a door without that word:

- a network's shared secret: "the VPN pre-shared key is 7hG2-xQ9p-…", "PSK: …", "WLAN-Schlüssel",
  "clé Wi-Fi", "netwerksleutel", "事前共有鍵" — a value that looks machine-made, as for a stated
  password (credentials.is_strong_password), so "the PSK is stored in the vault" is left alone;
- a login written as a pair, "admin / Tr0ut-Lake-88", "user: mlopez / Pediatr1cs!Jan", in a text
  that names a login, an account, a device or a network (any of the usual languages); the
  second half must look machine-made, and the slash must stand apart (a path has none around it);
- a PIN with what it opens: "PIN 4821 for the company card", "pincode van de pinpas is 9034",
  "Geheimzahl 7315" — four to eight digits after the word and a verb or separator, in a text that
  names a card, an account, a bank, a SIM or a phone; "the PIN has 4 digits" and the default
  "0000" / "1234" are not anybody's;
- a building's access code: "alarm code 4471#", "Türcode 1893", "digicode 4827B", "deurcode …".

PINs and access codes are short and unchecked: in a story or a template they are nobody's, so
they are soft (scanner._SOFT_PERSONAL); network keys and login pairs are machine-made and count
anywhere, like other keys.
"""

from __future__ import annotations

import re

from routing.sensitivity.credentials import is_strong_password
from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES

# A network's shared secret, named in en, de, fr, es, it, nl, pt, pl, ja, zh. Searched in the
# folded text; then, as for a stated password, within 40 characters on its line a separator and
# a run of eight or more characters holding a digit or a symbol.
_NETWORK_KEY = re.compile(
    r"(?:pre-?\s?shared[\s-]+key|(?<![a-z])psk(?![a-z])|wpa[23]?(?:-psk)?[\s-]+(?:key|passphrase)|"
    r"wi-?\s?fi[\s-]+(?:key|passphrase|sleutel|schlüssel|code)|wlan[\s-]*(?:key|schlüssel)|"
    r"network[\s-]+(?:key|security\s+key)|netzwerkschlüssel|netwerk-?sleutel|"
    r"vorab\s+geteilte[rn]?\s+schlüssel|gedeelde\s+sleutel|"
    r"clé\s+(?:wi-?\s?fi|wpa\d?|de\s+sécurité(?:\s+réseau)?|réseau|pré-?partagée|partagée)|"
    r"clave\s+(?:wi-?\s?fi|wpa\d?|de\s+red|precompartida|compartida)|"
    r"chiave\s+(?:wi-?\s?fi|wpa\d?|di\s+rete|pre-?condivisa|condivisa)|"
    r"chave\s+(?:wi-?\s?fi|wpa\d?|de\s+rede|pré-?compartilhada|compartilhada|partilhada)|"
    r"klucz\s+(?:wi-?\s?fi|wpa\d?|sieci|współdzielony)|"
    r"事前共有鍵|事前共有キー|共有キー|ネットワークキー|暗号化キー|预共享密钥|共享密钥|无线密码|wifi密码)"
    r"(?![a-z0-9])(?=[^\n]{0,140}?[0-9!#$%&*+=?@^~])"
    r"[^\n]{0,40}?[\s:=(\[\u3000-\u9fff\uff00-\uffef]"
    r"(?P<value>(?=[^\s,;\u3000-\u9fff\uff00-\uffef]{0,99}[0-9!#$%&*+=?@^~])"
    r"[^\s,;\u3000-\u9fff\uff00-\uffef]{8,100})"
)
_NETWORK_KEY_WORD = GATES.any_of(
    "shared key", "pre-shared", "preshared", "psk", "wpa", "wi fi", "wifi", "wlan", "network key",
    "network security key", "netzwerkschlüssel", "netwerksleutel", "netwerk-sleutel",
    "geteilte", "gedeelde sleutel", "clé", "clave", "chiave", "chave", "klucz", "共有鍵",
    "共有キー", "ネットワークキー", "暗号化キー", "共享密钥", "无线密码",
)  # fmt: skip

# "admin / Tr0ut-Lake-88": a name, a slash with space around it, a machine-made value.
_LOGIN_PAIR = re.compile(
    r"/[ \t]+(?P<value>[^\s/,;]{8,100})"
)
_LOGIN_USER_BEFORE = re.compile(r"(?:^|[\s:(\"'“])[\w.@+\-]{2,40}[ \t]+$")
# What a login pair opens, in the usual languages: a login, a user, an account, a device.
_LOGIN_WORD = GATES.words(
    "login", "logins", "log", "sign", "signin", "credentials", "creds", "user", "username",
    "usuario", "utente", "utilisateur", "benutzer", "benutzername", "gebruiker",
    "gebruikersnaam", "inlog", "inloggen", "inloggegevens", "zugang", "zugangsdaten",
    "anmeldung", "anmeldedaten", "identifiants", "identifiant", "credenciales", "credenziali",
    "credenciais", "acesso", "acceso", "accesso", "accès", "logowania", "admin",
    "administrator", "root", "router", "modem", "vpn", "wifi", "wlan", "nas", "server", "portal",
    "account", "konto", "compte", "cuenta", "conta", "ehr", "emr", "ssh", "ftp", "sftp",
) | GATES.any_of("ログイン", "账号", "登录", "用户名")  # fmt: skip

# A PIN: the word, up to 30 characters without a digit (a verb, "for the card", ":"), then
# four to eight digits standing alone and not a count ("4 digits", "6-stellig").
_PIN = re.compile(
    r"(?:(?<![a-z])pin(?:[\s-]*(?:code|nummer|number|nr))?(?![a-z])|pincode|geheimzahl|"
    r"code\s+(?:pin|secret\s+de\s+la\s+carte|confidentiel)|c[óo]digo\s+pin|codice\s+pin|"
    r"kod\s+pin|暗証番号|pin码)"
    r"[^\d\n]{0,30}?(?<![\d.,])(?P<value>\d{4,8})(?![\d.,]\d)"
    r"(?!\s*(?:-\s*)?(?:digits?|chiffres?|ziffern?|stellig|cijfers?|dígitos?|cifre|cyfr|"
    r"characters?|times|tries|attempts|桁|位))"
)
# Whole words: "pin" is inside "opinion", "shipping" and "happening".
_PIN_WORD = GATES.words(
    "pin", "pins", "pincode", "pin-code", "pin-nummer", "pinnummer", "geheimzahl"
) | GATES.any_of("code secret", "code confidentiel", "暗証番号", "pin码")
# What a PIN opens: a card, an account, a bank, a SIM, a phone.
_PIN_OWNER = GATES.any_of(
    "card", "karte", "carte", "tarjeta", "cartão", "kaart", "pinpas", "bankpas", "karta",
    "account", "konto", "compte", "cuenta", "rekening", "bank", "banque", "banco", "phone",
    "téléphone", "teléfono", "telefono", "telefoon", "celular", "cellulare", "debit",
    "girocard", "カード", "口座", "银行", "卡",
) | GATES.words("carta", "conto", "conta", "banca", "sim", "handy", "credit", "atm")  # fmt: skip
# Defaults and sequences printed in every manual are nobody's PIN.
_TRIVIAL_PINS = frozenset({"1234", "12345", "123456", "4321", "1111", "0000", "00000", "000000"})

# A building's or an alarm's code, with the code right after it (a verb or separator between).
# Not "building code" (a regulation) nor "error code", "zip code": only what opens something.
_ACCESS_CODE = re.compile(
    r"(?:(?:alarm|door|gate|keypad|lockbox|key\s?safe|safe|entry|garage)\s+(?:access\s+)?code|"
    r"access\s+code|alarmcode|türcode|tor-?code|zugangscode|tresorcode|digicode|"
    r"code\s+(?:d['’]accès|de\s+l['’]alarme|d['’]alarme|de\s+la\s+porte|du\s+portail)|"
    r"c[óo]digo\s+(?:de\s+(?:la\s+)?(?:alarma|puerta|acceso|portal)|do\s+alarme|da\s+porta)|"
    r"codice\s+(?:dell['’]allarme|del\s+portone|della\s+porta|di\s+accesso|d['’]accesso)|"
    r"deurcode|poortcode|toegangscode|kod\s+(?:do\s+drzwi|alarmu|dostępu)|暗証コード|门禁密码)"
    # Then, within 30 characters without a digit ("is", "de l'immeuble est", ":"), the code.
    r"[^\d\n]{0,30}?(?<![\w*#])(?P<value>[0-9*#][0-9*#a-d]{3,9})(?![\w])"
)
_ACCESS_CODE_WORD = GATES.any_of(
    "alarm code", "door code", "gate code", "keypad code", "lockbox code", "keysafe code",
    "key safe code", "safe code", "entry code", "garage code", "access code", "alarmcode",
    "türcode", "tor-code", "torcode", "zugangscode", "tresorcode", "digicode", "code d accès",
    "code de l alarme", "code d alarme", "code de la porte", "code du portail",
    "código de", "codigo de", "código do", "código da", "codice dell", "codice del",
    "codice della", "codice di accesso", "codice d accesso", "deurcode", "poortcode",
    "toegangscode", "kod do drzwi", "kod alarmu", "kod dostępu", "暗証コード", "门禁密码",
)  # fmt: skip


def find(text: str, folded: str, found: list[Span], gates: int) -> None:
    """Append network keys, login pairs, PINs and access codes to found; gates:
    text.GATES.present(folded)."""
    if gates & _NETWORK_KEY_WORD:
        for match in _NETWORK_KEY.finditer(folded):
            _report_strong(text, match.start("value"), match.end("value"), "network_key", found)
    if gates & _LOGIN_WORD and "/" in text:
        for match in _LOGIN_PAIR.finditer(text):
            value = match.group("value")
            if _LOGIN_USER_BEFORE.search(text, max(0, match.start() - 44), match.start()) \
                    and any(ch.islower() for ch in value):  # "Q3 / Q4FY2024" is no password
                _report_strong(text, match.start("value"), match.end("value"), "login_pair", found)
    if gates & _PIN_WORD and gates & _PIN_OWNER:
        for match in _PIN.finditer(folded):
            value = match.group("value")
            if value not in _TRIVIAL_PINS and len(set(value)) > 1:
                found.append(Span(match.start("value"), match.end("value"), "secret", "pin"))
    if gates & _ACCESS_CODE_WORD:
        for match in _ACCESS_CODE.finditer(folded):
            value = match.group("value")
            if sum(ch.isdigit() for ch in value) >= 4 and value not in _TRIVIAL_PINS:
                found.append(Span(match.start("value"), match.end("value"), "secret",
                                  "access_code"))


_LEADING = "'\"“‘«(["
_TRAILING = "'\"”’».,;:)]!?"


def _report_strong(text: str, start: int, end: int, kind: str, found: list[Span]) -> None:
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip(_LEADING))
    value = raw[lead:].rstrip(_TRAILING)
    start += lead
    if not is_strong_password(value):
        return
    stop = start + len(value)
    if any(span.category == "secret" and span.start < stop and start < span.end
           for span in found):
        return  # a stated password or an assignment reported it already
    found.append(Span(start, stop, "secret", kind))
