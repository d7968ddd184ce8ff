"""Secrets: provider API keys and tokens, private keys, and passwords written into code/config.

Deliberately not caught: placeholders ("sk-your-key-here", "password", "${DB_PASSWORD}",
"<token>"), AWS's documented example keys, code that reads a secret from elsewhere
(os.environ[...], settings.password), public keys and certificates, and unlabelled
high-entropy strings such as hashes and commit ids.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES, contains_any

_TOKEN_CHARS = r"A-Za-z0-9_\-"
# One alternation whose branches all start with a literal, so the regex engine jumps between
# candidate first letters (see text.py); the kind is read from the prefix afterwards. The
# characters either side are checked in _tokens, so a key inside a longer identifier is refused.
_TOKENS = re.compile(
    rf"sk-ant-[a-z0-9]{{2,12}}-[{_TOKEN_CHARS}]{{20,300}}"
    rf"|sk-(?!ant-)[{_TOKEN_CHARS}]{{20,300}}"
    r"|A(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{36,255}"
    r"|github_pat_[A-Za-z0-9_]{40,255}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,250}"
    rf"|AIza[{_TOKEN_CHARS}]{{35}}"
    r"|sk_(?:live|test)_[A-Za-z0-9]{16,247}"
    r"|rk_(?:live|test)_[A-Za-z0-9]{16,247}"
    # Hugging Face, GitLab, npm, PyPI, Shopify, SendGrid, Twilio, Mailgun, DigitalOcean.
    r"|hf_[A-Za-z0-9]{30,40}"
    rf"|glpat-[{_TOKEN_CHARS}]{{20,40}}"
    r"|npm_[A-Za-z0-9]{36}"
    rf"|pypi-[{_TOKEN_CHARS}]{{50,300}}"
    r"|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"
    rf"|SG\.[{_TOKEN_CHARS}]{{16,32}}\.[{_TOKEN_CHARS}]{{30,50}}"
    r"|SK[0-9a-fA-F]{32}"
    r"|key-[0-9a-zA-Z]{32}"
    r"|do[por]_v1_[a-f0-9]{64}"
    # A JWT can run thousands of characters before failing on a missing dot, so its start is
    # pinned (the lookbehind refuses an "eyJ" inside a longer token) to keep the scan linear on
    # input such as "eyJeyJeyJ...".
    rf"|eyJ(?<![{_TOKEN_CHARS}]eyJ)[{_TOKEN_CHARS}]{{8,4096}}\."
    rf"eyJ[{_TOKEN_CHARS}]{{8,8192}}\.[{_TOKEN_CHARS}]{{8,4096}}"
)
_KIND_BY_PREFIX = (
    ("sk-ant-", "anthropic_key"), ("sk-", "openai_key"), ("A", "aws_access_key_id"),
    ("gh", "github_token"), ("github_pat_", "github_token"), ("xox", "slack_token"),
    ("sk_", "stripe_key"), ("rk_", "stripe_key"), ("eyJ", "jwt"), ("hf_", "huggingface_token"),
    ("glpat-", "gitlab_token"), ("npm_", "npm_token"), ("pypi-", "pypi_token"),
    ("shp", "shopify_token"), ("SG.", "sendgrid_key"), ("SK", "twilio_key"),
    ("key-", "mailgun_key"), ("do", "digitalocean_token"),
)  # fmt: skip
_TOKEN_PREFIXES = ("sk-", "xox", "eyJ")
# GitLab, PyPI and Mailgun keys have a dash after their prefix, SendGrid and Twilio start with S.
_DASH_TOKEN_PREFIXES = ("glpat-", "pypi-", "key-")
_CAPITAL_S_TOKEN_PREFIXES = ("SG.", "SK")
_CAPITAL_A_TOKEN_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AIza")
_UNDERSCORE_TOKEN_PREFIXES = ("k_", "gh", "github_pat_", "hf_", "npm_", "shp", "_v1_")
_TOKEN_CHAR = re.compile(rf"[{_TOKEN_CHARS}]")

_PEM_PRIVATE = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_REACH = 20_000

# Searched in the case-folded text; the value's case is read back from the original.
_AWS_SECRET = re.compile(
    r"secret_?access_?key[\"']?\s*[:=]\s*[\"']?(?P<value>[a-z0-9/+]{40})(?![a-z0-9/+])"
)
# Searched in the case-folded text.
_ASSIGNMENT = re.compile(
    r"(?:password|passwd|pwd|passphrase|secret[_\-]?key|client[_\-]?secret|secret|"
    r"api[_\-]?key|access[_\-]?token|auth[_\-]?token|token)[\"']?\s*(?::=|=>|[:=])[ \t]*"
    r"(?P<value>\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|[^\s\"',;)}\]]{1,200})"
)
# "my password is ...", "my wifi password is ...", "the password for the router is ...".
# Searched from the literal "pass" (faster than from "my"/"the"), then the possessive before it
# is checked by _POSSESSIVE_BEFORE on the few characters in front.
_SPOKEN_PASSWORD = re.compile(
    r"pass(?:word|code|phrase)\s+(?:(?:for|to|on)\s+(?:the\s+|my\s+|our\s+)?"
    r"[\w\-.@]{1,40}(?:\s+[\w\-.]{1,40})?\s+)?(?:is|was)\s+(?P<value>\S{4,100})"
)
_POSSESSIVE_BEFORE = re.compile(
    r"\b(?:my|the|our|his|her|their)\s+(?:[a-z0-9\-]{1,20}\s+){0,2}$"
)
_POSSESSIVE_REACH = 50
_LOGIN_CALL = re.compile(
    r"\b(?:login|authenticate|auth|basic_auth|httpbasicauth)\(\s*([\"'])[^\"'\n]{1,100}\1\s*,"
    r"\s*([\"'])(?P<value>[^\"'\n]{4,100})\2"
)
# Every name _LOGIN_CALL knows ends in one of these, right before its parenthesis.
_LOGIN_CALL_WORD = GATES.any_of("login(", "auth(", "authenticate(")
# A client call needs a quoted string right after a parenthesis, and one of its names.
_QUOTE_AFTER_PARENTHESIS = GATES.any_of('("', "('")
_CLIENT_CALL_WORD = GATES.any_of("client", "auth", "credential", "login", "connect")
# Keys in cloud connection strings and key settings: Azure's AccountKey= and SharedAccessKey=,
# signing and encryption keys. Kept apart from _ASSIGNMENT, whose word list every prompt with
# an "=" or ":" goes through; these are searched only when one of their names is there.
_NAMED_KEY = re.compile(
    # Not AWS's secret_access_key: _AWS_SECRET reports it under its own kind.
    r"(?:account|shared[_\-]?access|signing|encryption|master|(?<!secret_)access|private|app|"
    r"service|"
    r"storage|subscription|consumer|license|primary|secondary)[_\-]?key[\"']?\s*[:=][ \t]*"
    r"(?P<value>\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|[^\s\"',;)}\]]{1,200})"
)
# Passwords said in other languages: "mon mot de passe Wi-Fi est 'Cerisier2024!'", "mi
# contraseña es ...", "das Passwort lautet ...", "mijn wachtwoord is ...". Searched only when a
# word for password is there; the value is the next word, quotes and final punctuation removed.
_FOREIGN_PASSWORD = re.compile(
    r"(?:mot\s+de\s+passe|contrase[ñn]a|passwort|kennwort|wachtwoord|senha|"
    r"parola\s+d['’]ordine)\b[^\n.:=]{0,40}?\s(?:est|es|ist|lautet|is|é|è|era|war|was|:)\s+"
    r"(?P<value>\S{4,100})"
)
_FOREIGN_PASSWORD_WORDS = GATES.words(
        "passe", "contraseña", "contrasena", "passwort", "kennwort", "wachtwoord", "senha",
        "parola",
)  # fmt: skip
_TRAILING = "'\"“”‘’«».,;:!?)"
# Every _NAMED_KEY match has "key" right before its "=" or ":" (or the quote closing the name,
# or a space).
_NAMED_KEY_WORD = GATES.any_of("key=", "key:", 'key"', "key'", "key =")  # HCL, .env: " = "
# Webhook URLs carry their secret in the path: whoever has the URL can post to the channel.
_WEBHOOK = re.compile(
    r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<value>[A-Za-z0-9/_\-]{20,200})"
    r"|discord(?:app)?\.com/api/webhooks/(?P<discord>\d{5,30}/[A-Za-z0-9_\-]{20,120})"
    r"|webhook\.office\.com/webhookb2/(?P<teams>[A-Za-z0-9@/_\-]{20,400})"
)

# A client built from an id and a secret passed in line: Client("AC5d7b…", "f97128…") (Twilio),
# OAuth clients, Pusher, Plivo. Searched in the folded text; both strings must look random.
_CLIENT_CALL = re.compile(
    r"(?:client|auth|credentials?|login|connect)\w{0,20}\(\s*([\"'])(?P<id>[a-z0-9_\-]{12,128})\1"
    r"\s*,\s*([\"'])(?P<value>[a-z0-9_\-/+=]{16,256})\3"
)
_URL_CREDENTIALS = re.compile(r"://[^\s:/@'\"]{0,128}:(?P<value>[^\s@/'\"]{1,256})@(?=[\w\[])")

# Template syntax marks a placeholder: ${VAR}, {{ secrets.X }}, a whole {name}; a brace inside
# a password ("p@ss:w0rd{2026}Qx") does not. An unquoted value stops before "}".
_PLACEHOLDER = re.compile(
    r"your|here|example|placeholder|changeme|redacted|dummy|xxxx|\*\*\*|\.\.\.|<|>|\$\{|"
    r"\{\{|\}\}|^\{[\w\s.\-]*\}?$|^\$|^%",
    re.IGNORECASE,
)
_PLACEHOLDER_WORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "none",
     "null", "nil", "true", "false", "undefined", "string", "str", "required", "optional"}
)  # fmt: skip
# An unquoted value that is a (dotted) name, possibly called or indexed, is code reading the
# secret from somewhere else: os.environ["X"], settings.password, getpass().
_CODE_REFERENCE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\(|\[)?")


_ASSIGNMENT_WORD = GATES.any_of(
    "passw", "passwd", "pwd", "passphrase", "secret", "api_key", "apikey", "api-key", "token",
    "login(", "auth(", "passcode",
)  # fmt: skip
_HOOK = GATES.any_of("hook")  # hooks.slack.com, /api/webhooks/, webhook.office.com
_URL_SCHEME = GATES.any_of("://")
_PASS = GATES.any_of("pass")  # password, passcode, passphrase


def find(text: str, folded: str, found: list[Span], gates: int) -> None:
    """Append secret spans to found; gates:
    text.GATES.present(folded)."""
    tokens_from = len(found)
    if _may_hold_token(text):
        _tokens(text, found)
    tokens_to = len(found)
    if "-----BEGIN " in text:
        _private_keys(text, found)
    if gates & _HOOK:
        _webhooks(text, found)
    if gates & _URL_SCHEME:
        for match in _URL_CREDENTIALS.finditer(text):
            if _is_literal_secret(match.group("value"), quoted=True):
                found.append(
                    Span(match.start("value"), match.end("value"), "secret", "url_password")
                )
    if gates & _FOREIGN_PASSWORD_WORDS:
        _foreign_passwords(text, folded, found)
    if not _may_assign(folded, gates):
        return
    if gates & _QUOTE_AFTER_PARENTHESIS and gates & _CLIENT_CALL_WORD:
        _client_calls(text, folded, found, set())
    if gates & _NAMED_KEY_WORD:
        _values(_NAMED_KEY, "assigned_secret", text, folded, found, set())
    if gates & _ASSIGNMENT_WORD:
        for match in _AWS_SECRET.finditer(folded):
            if "EXAMPLE" not in text[match.start("value") : match.end("value")]:
                found.append(
                    Span(match.start("value"), match.end("value"), "secret", "aws_secret_key")
                )
        # A provider key assigned to a variable is reported once, under its specific kind.
        tokens = {(span.start, span.end) for span in found[tokens_from:tokens_to]}
        _assignments(text, folded, found, tokens, gates)


def _foreign_passwords(text: str, folded: str, found: list[Span]) -> None:
    for match in _FOREIGN_PASSWORD.finditer(folded):
        start, end = match.span("value")
        raw = text[start:end]
        lead = len(raw) - len(raw.lstrip(_TRAILING))
        # A password may end in "!" or "."; quoted, only the quotes and what follows go.
        quoted = lead > 0
        value = raw[lead:]
        if quoted:
            value = value[: max(value.rfind(q) for q in _TRAILING[:6])] or value
        else:
            value = value.rstrip(".,;:)")
        # Short words without digits are more often prose than a password.
        strong = len(value) >= 8 or any(ch.isdigit() for ch in value)
        if strong and _is_literal_secret(value, quoted=quoted):
            found.append(Span(start + lead, start + lead + len(value), "secret", "spoken_password"))


def _webhooks(text: str, found: list[Span]) -> None:
    for match in _WEBHOOK.finditer(text):
        group = next(name for name in ("value", "discord", "teams") if match.group(name))
        value = match.group(group)
        if _looks_random(value):
            found.append(Span(match.start(group), match.end(group), "secret", "webhook_url"))


def _may_assign(folded: str, gates: int) -> bool:
    """Every pattern from here on needs ":" or "=" (assignments, named keys), "(" (login and
    client calls) or "pass" (password, passcode, passphrase: "my wifi password is")."""
    return ":" in folded or "=" in folded or "(" in folded or bool(gates & _PASS)


def _may_hold_token(text: str) -> bool:
    """Whether text has one of the prefixes every _TOKENS branch starts with.

    The pattern's first letters (s, r, e, g, x, A) are among the most common in prose, so on
    its own the engine would try it at about every fourth character.
    """
    # Case-sensitive, so not among the GATES. A one-character test (memchr) costs a fraction of
    # a word's; a missing "A" or "_" rules out a whole group of prefixes: AWS and Google keys
    # start with A, Stripe's sk_/rk_ and GitHub's gh?_/github_pat_ all have an underscore.
    return (
        contains_any(text, _TOKEN_PREFIXES)
        or ("A" in text and contains_any(text, _CAPITAL_A_TOKEN_PREFIXES))
        or ("_" in text and contains_any(text, _UNDERSCORE_TOKEN_PREFIXES))
        or ("-" in text and contains_any(text, _DASH_TOKEN_PREFIXES))
        or ("S" in text and contains_any(text, _CAPITAL_S_TOKEN_PREFIXES))
    )


def _tokens(text: str, found: list[Span]) -> None:
    for match in _TOKENS.finditer(text):
        start, end = match.span()
        if (start and _TOKEN_CHAR.match(text, start - 1)) or _TOKEN_CHAR.match(text, end):
            continue  # part of a longer identifier, not a key of this shape
        token = match.group()
        if "EXAMPLE" in token or not _looks_random(token):
            continue
        found.append(Span(start, end, "secret", _token_kind(token)))


def _token_kind(token: str) -> str:
    if token.startswith("AIza"):
        return "google_api_key"
    return next(kind for prefix, kind in _KIND_BY_PREFIX if token.startswith(prefix))


def _looks_random(token: str) -> bool:
    """Keys are random; "sk-xxxxxxxxxxxxxxxxxxxxxxxx" and "sk-your-api-key-here" are not."""
    return len(set(token)) >= min(8, len(token) // 3) and not _PLACEHOLDER.search(token)


def _private_keys(text: str, found: list[Span]) -> None:
    for match in _PEM_PRIVATE.finditer(text):
        end_marker = _PEM_END.search(text, match.end(), match.end() + _PEM_REACH)
        end = end_marker.end() if end_marker else match.end()
        found.append(Span(match.start(), end, "secret", "private_key"))


def _assignments(
    text: str, folded: str, found: list[Span], tokens: set[tuple[int, int]], gates: int
) -> None:
    """Secrets written into code or prose; tokens: spans already reported as provider keys."""
    _values(_ASSIGNMENT, "assigned_secret", text, folded, found, tokens)
    # Neither pattern below can start with a literal; a substring test is cheaper than
    # letting the engine try them at every position.
    if gates & _PASS:
        _values(_SPOKEN_PASSWORD, "assigned_secret", text, folded, found, tokens)
    if gates & _LOGIN_CALL_WORD:
        _values(_LOGIN_CALL, "login_password", text, folded, found, tokens)


def _client_calls(
    text: str, folded: str, found: list[Span], tokens: set[tuple[int, int]]
) -> None:
    for match in _CLIENT_CALL.finditer(folded):
        start, end = match.span("value")
        value = text[start:end]
        if (start, end) in tokens or not (
            _is_random_secret(match.group("id")) and _is_random_secret(value)
        ):
            continue
        found.append(Span(start, end, "secret", "client_secret"))


def _is_random_secret(value: str) -> bool:
    """Random ids and secrets mix letters and digits; "localhost" and "my-app-name" do not."""
    return (
        any(ch.isdigit() for ch in value)
        and sum(ch.isalpha() for ch in value) >= 4
        and _looks_random(value)
    )


def _values(
    pattern: re.Pattern[str],
    kind: str,
    text: str,
    folded: str,
    found: list[Span],
    tokens: set[tuple[int, int]],
) -> None:
    for match in pattern.finditer(folded):
        if pattern is _SPOKEN_PASSWORD and not _POSSESSIVE_BEFORE.search(
            folded, max(0, match.start() - _POSSESSIVE_REACH), match.start()
        ):
            continue  # "why is password is required shown?": nobody's password
        start, end = match.start("value"), match.end("value")
        raw = text[start:end]
        quoted = raw[:1] in "\"'" and raw[-1:] == raw[:1] and len(raw) >= 2
        if quoted:
            start, end, raw = start + 1, end - 1, raw[1:-1]
        if pattern is _LOGIN_CALL:
            quoted = True
        if (start, end) not in tokens and _is_literal_secret(raw, quoted=quoted):
            found.append(Span(start, end, "secret", kind))


def _is_literal_secret(value: str, *, quoted: bool) -> bool:
    if len(value) < 4 or value.lower() in _PLACEHOLDER_WORDS or _PLACEHOLDER.search(value):
        return False
    if len(set(value)) < 3:
        return False  # "****", "aaaa"
    if quoted:
        return True
    reference = _CODE_REFERENCE.match(value)
    if reference is None:
        return True  # starts with a digit or a symbol: nothing in code looks like that
    name = reference.group()
    if name.endswith(("(", "[")):
        return False  # called or indexed: getpass(), os.environ["X"]
    if reference.end() < len(value):
        return True  # a name followed by symbols, such as "Tr0ub4dor&3"
    if "." in name:
        return False  # settings.password, process.env.DB_PASS
    # A bare word: letters and underscores read as a variable (db_password), letters with
    # digits as a password (hunter22).
    return any(ch.isdigit() for ch in name)

