"""Secrets: provider API keys and tokens, private keys, and passwords written into code/config.

Deliberately not caught: placeholders ("sk-your-key-here", "password", "${DB_PASSWORD}",
"<token>"), AWS's documented example keys, code that reads a secret from elsewhere
(os.environ[...], settings.password), public keys and certificates, and unlabelled
high-entropy strings such as hashes and commit ids.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES

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
# The start of every _TOKENS branch but Twilio's, folded (see _may_hold_token).
_TOKEN_HINT = GATES.any_of(
    "sk-", "xox", "eyj", "glpat-", "pypi-", "key-", "sg.", "akia", "asia", "abia", "acca",
    "aiza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "sk_live_", "sk_test_",
    "rk_live_", "rk_test_", "hf_", "npm_", "shpat_", "shpca_", "shppa_", "shpss_", "_v1_",
)  # fmt: skip
_TOKEN_CHAR = re.compile(rf"[{_TOKEN_CHARS}]")

# More providers' tokens, by their documented prefix and shape. Kept apart from _TOKENS: their
# prefixes are found by the one substring pass (_MORE_SECRETS, on the folded text; the case of
# the prefix is checked by the pattern, on the original), so prompts without one pay nothing.
# (prefix, kind, pattern): each pattern is searched only when its prefix is in the text, so
# each search starts from a literal (one alternation of them all, with first letters common in
# prose, cost tens of thousands of instructions on a long prompt). Groq, Replicate, Perplexity,
# xAI, Tavily, Google OAuth access tokens, Vault service and batch tokens, Databricks, Linear,
# New Relic, Stripe webhook secrets, Square, Slack app tokens, Grafana, Atlassian, Docker Hub,
# Sentry, Figma, Notion, Facebook.
_MORE_TOKENS = (
    ("gsk_", "groq_key", re.compile(r"gsk_[A-Za-z0-9]{40,64}")),
    ("r8_", "replicate_token", re.compile(r"r8_[A-Za-z0-9]{30,50}")),
    ("pplx-", "perplexity_key", re.compile(r"pplx-[A-Za-z0-9]{32,64}")),
    ("xai-", "xai_key", re.compile(r"xai-[A-Za-z0-9]{40,100}")),
    ("tvly-", "tavily_key", re.compile(rf"tvly-[{_TOKEN_CHARS}]{{20,80}}")),
    ("ya29.", "google_oauth_token", re.compile(rf"ya29\.[{_TOKEN_CHARS}]{{20,2048}}")),
    ("hvs.", "vault_token", re.compile(rf"hvs\.[{_TOKEN_CHARS}]{{24,400}}")),
    ("hvb.", "vault_token", re.compile(rf"hvb\.[{_TOKEN_CHARS}]{{24,400}}")),
    ("dapi", "databricks_token", re.compile(r"dapi[a-f0-9]{32}(?:-[0-9])?")),
    ("lin_api_", "linear_key", re.compile(r"lin_api_[A-Za-z0-9]{40}")),
    ("NRAK-", "newrelic_key", re.compile(r"NRAK-[A-Z0-9]{27}")),
    ("whsec_", "stripe_webhook_secret", re.compile(r"whsec_[A-Za-z0-9+/]{24,80}")),
    ("sq0", "square_token", re.compile(rf"sq0(?:atp|csp)-[{_TOKEN_CHARS}]{{22,60}}")),
    ("xapp-", "slack_token", re.compile(r"xapp-[0-9]-[A-Za-z0-9\-]{20,250}")),
    ("glsa_", "grafana_token", re.compile(r"glsa_[A-Za-z0-9_]{32,60}")),
    ("glc_", "grafana_token", re.compile(r"glc_[A-Za-z0-9+/_\-]{32,400}={0,2}")),
    ("ATATT3", "atlassian_token", re.compile(rf"ATATT3[{_TOKEN_CHARS}=]{{50,300}}")),
    ("dckr_pat_", "docker_token", re.compile(rf"dckr_pat_[{_TOKEN_CHARS}]{{20,60}}")),
    ("sntry", "sentry_token", re.compile(r"sntry[su]_[A-Za-z0-9_+/=\-]{40,400}")),
    ("figd_", "figma_token", re.compile(rf"figd_[{_TOKEN_CHARS}]{{30,60}}")),
    ("ntn_", "notion_token", re.compile(r"ntn_[A-Za-z0-9]{43,80}")),
    ("EAA", "facebook_token", re.compile(r"EAA[A-Za-z0-9]{60,600}")),
)
# Telegram bot tokens: the bot's id (8-10 digits), a colon, "AA" and 33 more characters.
# Searched from the colon, so the pattern starts with a literal; the id is read back.
_TELEGRAM_TOKEN = re.compile(rf":AA[{_TOKEN_CHARS}]{{33}}")
_TELEGRAM_BOT_ID = re.compile(r"(?<![0-9])[0-9]{8,10}$")
# One gate bit for the new token prefixes, told apart with plain tests. The other new families
# ride on gates that were there already (see find), since every needle and bit added to GATES
# costs every prompt a little (seven bits cost about 1% of a scan, measured).
_MORE_SECRETS = GATES.any_of(
    "gsk_", "r8_", "pplx-", "xai-", "tvly-", "ya29.", "hvs.", "hvb.", "dapi", "lin_api_",
    "nrak-", "whsec_", "sq0", "xapp-", "glsa_", "glc_", "atatt3", "dckr_pat_", "sntry",
    "figd_", "ntn_", "eaa", ":aa",
)  # fmt: skip
# Notion's older "secret_" tokens: "secret" is already an _ASSIGNMENT_WORD needle.
_NOTION_SECRET = re.compile(r"secret_[A-Za-z0-9]{43,80}")
# Airtable personal access tokens: "pat", 14 characters, a dot and 64 hex digits. "pat" is
# common in prose (path, pattern), so they are looked for where the text names a token, a key
# or a secret (_ASSIGNMENT_WORD), Airtable, a PAT or a bearer token (_AIRTABLE_WORDS).
_AIRTABLE_TOKEN = re.compile(r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}")
# Discord bot tokens: the bot's id in base64 (a snowflake's digits encode to text starting with
# M, N or O), a dot, a six-character timestamp, a dot, an HMAC. No literal to search from, so
# it is tried only on text long enough to hold one, with two dots, that names Discord, a bot or
# a token (as a word: "token", "DISCORD_TOKEN=").
_DISCORD_TOKEN = re.compile(
    rf"[MNO][{_TOKEN_CHARS}]{{23,27}}\.[{_TOKEN_CHARS}]{{6}}\.[{_TOKEN_CHARS}]{{27,38}}"
)
_DISCORD_MIN_LENGTH = 59
_AIRTABLE_WORDS = GATES.words("airtable", "pat", "pats", "bearer", "authorization")
_DISCORD_WORDS = GATES.words(
    "discord", "bot", "bots", "token", "discord_token", "bot_token", "discord_bot_token"
)
# Azure storage shared access signatures: the sig= of a URL or connection string that also
# carries the signed version (sv=) and expiry (se=). Searched in the folded text.
_SAS_SIGNATURE = re.compile(r"[?&;]sig=(?P<value>(?:[a-z0-9+/]|%2[bf]){30,200}(?:%3d|=){1,2})")
# A Google Cloud service-account key file: the private key's value, when it holds key material.
_SERVICE_ACCOUNT_TYPE = re.compile(r"[\"']type[\"']\s*:\s*[\"']service_account[\"']")
_SERVICE_ACCOUNT_KEY = re.compile(r"[\"']private_key[\"']\s*:\s*\"(?P<value>[^\"]{40,20000})\"")

_PEM_PRIVATE = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_REACH = 20_000
# The usual case, first: the material's first line, unbroken.
_PEM_BODY_LINE = re.compile(r"[ \t]{0,20}\r?\n?[A-Za-z0-9+/=]{40}")
# The rest of the material, line by line, where the END line is missing.
_PEM_MORE = re.compile(r"[A-Za-z0-9+/=]{0,5000}(?:(?:\r?\n|\\n)[A-Za-z0-9+/=]{16,5000}){0,400}")
# A header counts only with key material after it: 40 base64 characters, on the following
# lines or the same line, across line breaks (real or written "\n" inside a JSON string) and
# after an encrypted key's Proc-Type/DEK-Info lines. A header alone, or followed by "...", is
# someone asking about the format.
_PEM_BODY = re.compile(
    r"(?:\s|\\[rn]){0,200}"
    r"(?:(?:Proc-Type|DEK-Info|Comment):[^\n\\]{0,200}(?:\s|\\[rn]){0,200}){0,3}"
    r"(?:[A-Za-z0-9+/=](?:\s|\\[rn]){0,8}){40}"
)

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
# A password stated with no possessive or verb: "user is 'papa', password is pi3a745XBmEV9",
# "mot de passe provisoire jG4nVcjpFIJ3", "pw: Xk9#mv2Lq". Without the grammar the other
# patterns need, only a value that looks machine-made counts (is_strong_password).
# The word, then within _STATED_REACH characters on its line a separator (space, ":", "=", a
# bracket or CJK text: "密码是Xk9mv2Lq7") and a run of eight or more characters up to a space,
# comma or semicolon that holds a digit or a symbol (runs without one are skipped in the
# engine). The rest of is_strong_password is checked in code. Searched in the folded text.
_STATED_REACH = 40
_STATED_TAIL = (
    # A line without a digit or symbol soon after the word is given up at once.
    r"(?![a-z0-9\u00c0-\u024f])(?=[^\n]{0,140}?[0-9!#$%&*+=?@^~])"
    r"[^\n]{0,40}?[\s:=(\[\u3000-\u9fff\uff00-\uffef]"
    r"(?P<value>(?=[^\s,;\u3000-\u9fff\uff00-\uffef]{0,99}[0-9!#$%&*+=?@^~])"
    r"[^\s,;\u3000-\u9fff\uff00-\uffef]{8,100})"
)
# Found from the literal "pass" (a gate): password, passwd, passcode, passphrase, Passwort and
# "mot de passe". "password =", "passwd:" and "passphrase=" are _ASSIGNMENT's to judge (it
# knows code that reads a secret from elsewhere), so they are not looked at again.
_STATED_PASS = re.compile(
    r"pass(?:(?:word|wd|phrase)(?![\"']?[ \t]*[:=])|code|wort|e(?<=de passe))" + _STATED_TAIL
)
_STATED_OTHER = re.compile(
    r"(?:(?<![a-z])pwd?|kennwort|wachtwoord|senha|contrase[ñn]a|parola\s+d['’]ordine|has[łl]o|"
    r"l[öo]senord|adgangskode|salasana|パスワード|密码)" + _STATED_TAIL
)
_STATED_LEADING = "'\"“‘«(["
_STATED_TRAILING = "'\"”’».,;:)]"
# Symbols that make a password, not the ones that join words and versions (- _ . /).
_PASSWORD_SYMBOLS = frozenset("!#$%&*+=?@^~")
_CLASS_SWITCH = re.compile(r"[a-z](?=[A-Z0-9])|[A-Z](?=[a-z0-9])|[0-9](?=[A-Za-z])")
_EMAIL_LIKE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
# Every word for password that "pass" (already a gate) does not cover: words of
# text.GATES.words ("pw" among them). The Japanese and Chinese ones (written without spaces) are
# needles of _PASS.
_OTHER_PASSWORD_WORDS = GATES.words(
        "pw", "pwd", "kennwort", "wachtwoord", "senha", "contraseña", "contrasena", "parola",
        "hasło", "haslo", "lösenord", "losenord", "adgangskode", "salasana",
)  # fmt: skip
# Kubernetes Secret manifests: every value under data: (base64) and stringData: is a secret.
_K8S_KIND = re.compile(r"kind[\"']?:[ \t]*[\"']?secret[\"']?[ \t]*(?:,|\n|$)")
_K8S_DATA_KEY = re.compile(r"^([ \t]*)(?:data|stringdata):[ \t]*(?:#.*)?$", re.MULTILINE)
_K8S_ENTRY = re.compile(r"[\"']?[\w.\-]{1,253}[\"']?:(?:[ \t]+|$)")
_K8S_JSON_DATA = re.compile(r"\"(?:data|stringdata)\"\s*:\s*\{(?P<body>[^{}]{0,20000})\}")
_K8S_JSON_ENTRY = re.compile(r"\"[^\"\n]{1,253}\"\s*:\s*\"(?P<value>[^\"\n]{1,10000})\"")
_K8S_BLOCK_SCALAR = frozenset({"|", "|-", "|+", ">", ">-", ">+"})
_K8S_DOCUMENT_REACH = 50_000
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
_PLACEHOLDER_ANYWHERE = re.compile(
    r"your|here|example|placeholder|changeme|redacted|dummy|xxxx|\*\*\*|\.\.\.|<|>|\$\{|"
    r"\{\{|\}\}"
)
_WHOLE_TEMPLATE = re.compile(r"\{[\w\s.\-]*\}?")


def _is_placeholder(value: str) -> bool:
    """Whether value holds placeholder words or template syntax, in any case.

    Lower-cased once and searched with a pattern of literal-led branches, which the engine
    skips between; the same pattern with IGNORECASE and its anchored branches was tried at
    every position, about ten times the cost on a 40-character key.
    """
    if value.startswith(("$", "%")):
        return True
    if value.startswith("{") and _WHOLE_TEMPLATE.fullmatch(value):
        return True
    return _PLACEHOLDER_ANYWHERE.search(value.lower()) is not None
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
# password, passcode, passphrase; Japanese and Chinese passwords (_stated_passwords).
_PASS = GATES.any_of("pass", "パスワード", "密码")
# What sends a prompt to _more_secrets: a word for password, a needle of the new families, or
# (for Discord tokens) a word naming a bot or a token.
_MORE_GATES = _PASS | _MORE_SECRETS
_MORE_WORDS = _OTHER_PASSWORD_WORDS | _DISCORD_WORDS | _AIRTABLE_WORDS


def find(text: str, folded: str, found: list[Span], gates: int) -> None:
    """Append secret spans to found; gates:
    text.GATES.present(folded)."""
    tokens_from = len(found)
    if _may_hold_token(text, gates):
        _tokens(text, found)
    if "-----BEGIN " in text:
        _private_keys(text, found)
    # The families added in the fifth round, behind one bit test and one set test.
    more = gates & (_MORE_GATES | _MORE_WORDS)
    if more:
        _more_secrets(text, folded, found, gates)
    tokens_to = len(found)
    if gates & _HOOK:
        _webhooks(text, found)
    if gates & _URL_SCHEME:
        for match in _URL_CREDENTIALS.finditer(text):
            if _is_literal_secret(match.group("value"), quoted=True):
                found.append(
                    Span(match.start("value"), match.end("value"), "secret", "url_password")
                )
        if "sig=" in folded:  # Azure SAS URLs
            _sas_signatures(text, folded, found)
    if gates & _FOREIGN_PASSWORD_WORDS:
        _foreign_passwords(text, folded, found)
    if gates & _AUTH_HEADER_WORD:
        _auth_headers(text, folded, found)
    if gates & _MEMORABLE_WORD:
        for match in _MEMORABLE.finditer(folded):
            found.append(Span(match.start("value"), match.end("value"), "secret", "memorable_word"))
    if not _may_assign(folded, gates):
        if more:
            _stated_passwords(text, folded, found, gates)
        return
    if gates & _QUOTE_AFTER_PARENTHESIS and gates & _CLIENT_CALL_WORD:
        _client_calls(text, folded, found, set())
    if gates & _NAMED_KEY_WORD:
        named_from = len(found)
        if "service_account" in folded:  # '"private_key": ' has the needle 'key"'
            _service_account_keys(text, found)
        reported = {(span.start, span.end) for span in found[named_from:]}
        _values(_NAMED_KEY, "assigned_secret", text, folded, found, reported)
    if gates & _ASSIGNMENT_WORD:
        # "kind: Secret" and Notion's "secret_" hold the needle "secret"; Airtable's tokens are
        # looked for where a token, key or secret is named.
        more_from = len(found)
        if "kind" in folded:
            _kubernetes_secrets(text, folded, found)
        if "secret_" in text:
            _more_tokens(_NOTION_SECRET, text, found, "notion_token")
        if "pat" in text:
            _more_tokens(_AIRTABLE_TOKEN, text, found, "airtable_token")
        for match in _AWS_SECRET.finditer(folded):
            if "EXAMPLE" not in text[match.start("value") : match.end("value")]:
                found.append(
                    Span(match.start("value"), match.end("value"), "secret", "aws_secret_key")
                )
        # A provider key assigned to a variable is reported once, under its specific kind.
        tokens = {(span.start, span.end) for span in found[tokens_from:tokens_to]}
        tokens.update((span.start, span.end) for span in found[more_from:])
        _assignments(text, folded, found, tokens, gates)
    # Last, so that a password already found by the patterns above is not looked at again.
    if more:
        _stated_passwords(text, folded, found, gates)


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


def _stated_passwords(
    text: str, folded: str, found: list[Span], gates: int
) -> None:
    if gates & _PASS:
        _stated_after(_STATED_PASS, text, folded, found)
    if gates & _OTHER_PASSWORD_WORDS or (gates & _PASS and not text.isascii()):
        _stated_after(_STATED_OTHER, text, folded, found)


def _stated_after(pattern: re.Pattern[str], text: str, folded: str, found: list[Span]) -> None:
    """A strong value within _STATED_REACH characters after each match of pattern."""
    reported = None
    for match in pattern.finditer(folded):
        value_start, raw = match.start("value"), text[match.start("value") : match.end("value")]
        assigned = raw.lstrip("=:")  # "pw=…", "pw:…": what follows is the value
        value_start, raw = value_start + len(raw) - len(assigned), assigned
        lead = len(raw) - len(raw.lstrip(_STATED_LEADING))
        value = raw[lead:]
        if lead:  # quoted: the value ends at the closing quote
            closing = [i for i in (value.find(q) for q in _STATED_TRAILING[:5]) if i > 0]
            value = value[: min(closing)] if closing else value
        value = value.rstrip(_STATED_TRAILING)
        value_start += lead
        value_end = value_start + len(value)
        if not is_strong_password(value):
            continue
        if reported is None:
            reported = [(span.start, span.end) for span in found if span.category == "secret"]
        # Reported already, as an assignment or a spoken password: once is enough.
        if not any(start < value_end and value_start < end for start, end in reported):
            found.append(Span(value_start, value_end, "secret", "stated_password"))


def is_strong_password(value: str) -> bool:
    """Machine-made, or made to a password policy (letters, a digit and a symbol), and not a
    word, version, URL or placeholder: "pi3a745XBmEV9", "Xk9#mv2Lq", "Robin1948!", not
    "argon2id", "Summer2024", "SP800-63B" or "https://…"."""
    if len(value) < 8:
        return False
    has_symbol = not _PASSWORD_SYMBOLS.isdisjoint(value)
    has_digit = any(ch.isdigit() for ch in value)
    policy_made = has_symbol and has_digit and any(ch.isalpha() for ch in value)
    # Switches between lower case, upper case and digit from one character to the next:
    # random strings switch often, words and version numbers once or twice.
    if not policy_made and len(_CLASS_SWITCH.findall(value)) < 3:
        return False
    # Three switches mean letters, and without a digit both cases: a digit or a symbol is
    # what is left to require.
    if not has_symbol and not has_digit:
        return False
    if "://" in value or value.startswith("www."):
        return False
    if _EMAIL_LIKE.fullmatch(value):
        return False
    return _is_literal_secret(value, quoted=True)


# HTTP credentials: "Authorization: Basic c3Zj…" (base64 of user:password), "Bearer eyJ…".
_AUTH_HEADER = re.compile(
    r"(?:authorization[\"']?\s*[:=]\s*[\"']?(?:basic|bearer|token)|bearer)\s+"
    r"(?P<value>[a-z0-9+/=._~\-]{16,4096})"
)
_AUTH_HEADER_WORD = GATES.any_of("authorization", "bearer")
# UK banks' second factor: "memorable word 'bluebells'", "memorable information: …".
_MEMORABLE = re.compile(
    r"memorable\s+(?:word|information|info|phrase|answer)\s*(?:is\s+|:\s*|=\s*)?"
    r"[\"'“‘](?P<value>[^\"'”’\n]{3,40})[\"'”’]"
)
_MEMORABLE_WORD = GATES.any_of("memorable")


def _auth_headers(text: str, folded: str, found: list[Span]) -> None:
    for match in _AUTH_HEADER.finditer(folded):
        start, end = match.span("value")
        value = text[start:end]
        if _looks_random(value) and any(ch.isdigit() for ch in value):
            found.append(Span(start, end, "secret", "http_credentials"))


def _more_tokens(pattern: re.Pattern[str], text: str, found: list[Span], kind: str) -> None:
    def kind_of(token: str) -> str | None:
        if pattern is _DISCORD_TOKEN and not any(ch.isdigit() for ch in token):
            return None  # a dotted name; the id in the first part always has digits
        return kind

    _report_tokens(pattern, text, found, kind_of)


def _report_tokens(
    pattern: re.Pattern[str], text: str, found: list[Span], kind_of: Callable[[str], str | None]
) -> None:
    """Each match that stands alone, is not a documented example and looks random, under the
    kind kind_of gives it (None: not a key after all)."""
    for match in pattern.finditer(text):
        start, end = match.span()
        if (start and _TOKEN_CHAR.match(text, start - 1)) or _TOKEN_CHAR.match(text, end):
            continue  # part of a longer identifier, not a key of this shape
        token = match.group()
        if "EXAMPLE" in token or not _looks_random(token):
            continue
        kind = kind_of(token)
        if kind is not None:
            found.append(Span(start, end, "secret", kind))


def _telegram_tokens(text: str, found: list[Span]) -> None:
    for match in _TELEGRAM_TOKEN.finditer(text):
        bot_id = _TELEGRAM_BOT_ID.search(text, max(0, match.start() - 11), match.start())
        end = match.end()
        if bot_id is None or _TOKEN_CHAR.match(text, end) or not _looks_random(match.group()):
            continue
        if bot_id.start() and _TOKEN_CHAR.match(text, bot_id.start() - 1):
            continue  # part of a longer identifier
        found.append(Span(bot_id.start(), end, "secret", "telegram_bot_token"))


def _sas_signatures(text: str, folded: str, found: list[Span]) -> None:
    if "sv=" not in folded or "se=" not in folded:
        return
    for match in _SAS_SIGNATURE.finditer(folded):
        start, end = match.span("value")
        if _looks_random(text[start:end]):
            found.append(Span(start, end, "secret", "azure_sas_signature"))


def _service_account_keys(text: str, found: list[Span]) -> None:
    if _SERVICE_ACCOUNT_TYPE.search(text) is None:
        return
    for match in _SERVICE_ACCOUNT_KEY.finditer(text):
        value = match.group("value")
        header = _PEM_PRIVATE.match(value)
        body_from = header.end() if header else 0
        start, end = match.span("value")
        if any(span.start < end and start < span.end for span in found):
            continue  # the private key found there already
        if _PEM_BODY.match(value, body_from) and not _is_placeholder(value[body_from:]):
            found.append(
                Span(start, end, "secret", "gcp_service_account_key")
            )


def _kubernetes_secrets(text: str, folded: str, found: list[Span]) -> None:
    scanned_to = 0  # each stretch of text is searched once, however many "kind: Secret"
    for kind in _K8S_KIND.finditer(folded):
        if kind.start() < scanned_to:
            continue
        # The manifest around "kind: Secret": YAML documents are separated by "---".
        begin = folded.rfind("\n---", max(0, kind.start() - _K8S_DOCUMENT_REACH), kind.start())
        begin = max(scanned_to, 0 if begin < 0 else begin + 4)
        stop = folded.find("\n---", kind.end(), kind.end() + _K8S_DOCUMENT_REACH)
        stop = min(len(folded), kind.end() + _K8S_DOCUMENT_REACH) if stop < 0 else stop
        scanned_to = stop
        for data in _K8S_DATA_KEY.finditer(folded, begin, stop):
            _kubernetes_yaml_values(text, data.end(), stop, len(data.group(1)), found)
        for data in _K8S_JSON_DATA.finditer(folded, begin, stop):
            for entry in _K8S_JSON_ENTRY.finditer(text, data.start("body"), data.end("body")):
                _kubernetes_value(text, entry.start("value"), entry.end("value"), found)


def _kubernetes_yaml_values(text: str, at: int, stop: int, indent: int, found: list[Span]) -> None:
    """The entries of the data:/stringData: block whose key line ends at `at`."""
    child_indent = -1
    block: list[int] = []  # a block scalar's (|, >) first and last character
    position = at + 1
    while position < stop:
        line_end = text.find("\n", position, stop)
        line_end = stop if line_end < 0 else line_end
        line = text[position:line_end]
        content = line.lstrip(" \t")
        depth = len(line) - len(content)
        content = content.rstrip()
        if content and not content.startswith("#"):
            if depth <= indent:
                break
            if child_indent < 0:
                child_indent = depth
            if depth > child_indent and block:
                block[1] = position + depth + len(content)
            elif depth == child_indent:
                _kubernetes_block(text, block, found)
                block = []
                entry = _K8S_ENTRY.match(content)
                if entry is not None:
                    value_start = position + depth + entry.end()
                    value = text[value_start : position + depth + len(content)]
                    if value in _K8S_BLOCK_SCALAR:
                        block = [-1, -1]
                    elif value:
                        if value[0] in "\"'" and value[-1] == value[0] and len(value) >= 2:
                            value_start, value = value_start + 1, value[1:-1]
                        elif " #" in value:
                            value = value[: value.index(" #")].rstrip()
                        _kubernetes_value(text, value_start, value_start + len(value), found)
            if block and block[0] < 0 and depth > child_indent:
                block[0] = position + depth
        position = line_end + 1
    _kubernetes_block(text, block, found)


def _kubernetes_block(text: str, block: list[int], found: list[Span]) -> None:
    if block and block[0] >= 0:
        _kubernetes_value(text, block[0], block[1], found)


def _kubernetes_value(text: str, start: int, end: int, found: list[Span]) -> None:
    value = text[start:end]
    if len(value) < 4 or len(set(value)) < 3 or _is_placeholder(value):
        return
    if value.lower() in _PLACEHOLDER_WORDS or _decoded_placeholder(value):
        return
    found.append(Span(start, end, "secret", "kubernetes_secret"))


def _decoded_placeholder(value: str) -> bool:
    """A base64 value under data: that decodes to a placeholder ("Y2hhbmdlbWU=" is changeme)."""
    if len(value) > 200:
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.lower() in _PLACEHOLDER_WORDS or _is_placeholder(decoded)


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


def _may_hold_token(text: str, gates: int) -> bool:
    """Whether text has one of the prefixes every _TOKENS branch starts with.

    The pattern's first letters (s, r, e, g, x, A) are among the most common in prose, so on
    its own the engine would try it at about every fourth character. The prefixes are case
    sensitive, so their folded forms (_TOKEN_HINT) can only open the gate more often; Twilio's
    "SK" folds to the "sk" of every "ask" and stays a plain test.
    """
    return bool(gates & _TOKEN_HINT) or "SK" in text


def _more_secrets(
    text: str, folded: str, found: list[Span], gates: int
) -> None:
    """More providers' tokens: by prefix, Telegram's, Discord's and Airtable's."""
    if gates & _MORE_SECRETS:
        for prefix, kind, pattern in _MORE_TOKENS:
            if prefix in text:
                _more_tokens(pattern, text, found, kind)
        if ":AA" in text:
            _telegram_tokens(text, found)
    if gates & _AIRTABLE_WORDS and "pat" in text:
        _more_tokens(_AIRTABLE_TOKEN, text, found, "airtable_token")
    if (
        len(text) >= _DISCORD_MIN_LENGTH
        and gates & _DISCORD_WORDS
        and text.count(".") >= 2
    ):
        _more_tokens(_DISCORD_TOKEN, text, found, "discord_bot_token")


def _tokens(text: str, found: list[Span]) -> None:
    _report_tokens(_TOKENS, text, found, _token_kind)


def _token_kind(token: str) -> str:
    if token.startswith("AIza"):
        return "google_api_key"
    return next(kind for prefix, kind in _KIND_BY_PREFIX if token.startswith(prefix))


def _looks_random(token: str) -> bool:
    """Keys are random; "sk-xxxxxxxxxxxxxxxxxxxxxxxx" and "sk-your-api-key-here" are not."""
    return len(set(token)) >= min(8, len(token) // 3) and not _is_placeholder(token)


def _private_keys(text: str, found: list[Span]) -> None:
    for match in _PEM_PRIVATE.finditer(text):
        body = _PEM_BODY_LINE.match(text, match.end()) or _PEM_BODY.match(text, match.end())
        if body is None:
            continue  # "-----BEGIN RSA PRIVATE KEY-----" with nothing, or "...", after it
        end_marker = _PEM_END.search(text, match.end(), match.end() + _PEM_REACH)
        # Without its END line (a pasted fragment), the span runs over the material found.
        end = end_marker.end() if end_marker else _PEM_MORE.match(text, body.end()).end()
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
    if len(value) < 4 or value.lower() in _PLACEHOLDER_WORDS or _is_placeholder(value):
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

