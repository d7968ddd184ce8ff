"""Secret families added in the fifth round: more providers' tokens by their documented prefix
and shape, passwords stated without a possessive or a verb, Kubernetes Secret manifests, and
PEM private keys that must carry key material. Every token here is a fabricated random string,
split so that the source file does not read as a credential dump to secret scanners."""

import time

import pytest

from routing.sensitivity import scan


def found(text):
    """(kind, covered text) for every secret span; covered text proves the offsets."""
    return {(s.kind, text[s.start : s.end]) for s in scan(text).spans if s.category == "secret"}


def secrets(text):
    return [text[s.start : s.end] for s in scan(text).spans if s.category == "secret"]


# --- provider tokens by prefix ----------------------------------------------------------------
TOKENS = [
    ("gsk_" + "8xBobYgGsftSb2kdYrRCibppvxbeBOLVykDvao4aWrRNEbtnf2AY", "groq_key"),
    ("r8_" + "5E9nVXxTrXfS6JkCjF1m4mzQtmziFQnzADfF8", "replicate_token"),
    ("pplx-" + "tOK5xSXhUT4hYYXEdJPMqhc0rRiox9JH7RdTLGG3E1OaUVTw", "perplexity_key"),
    (
        "xai-" + "4k0DrxVcon3VXoa3OOicZ5fJHJvjZ9TRPDkSOd1XDu9UQ58ET5t8nPGXBgPPSEfSlaN4ER85oPbY8Wzh",
        "xai_key",
    ),
    ("tvly-" + "8mSV7462HZnHBMpNMaRNtcGLNugMYge7", "tavily_key"),
    (
        "ya29." + "7rY8rn8_41x5ydlioR8sCBkSI5OBj-9f-ZQ_MusPSSsPWTDzVDLJSFsIIhtnQ9mv4IyZ3vGNvg",
        "google_oauth_token",
    ),
    ("hvs." + "nWGfMebGDhIlC1s1wVBVngnwQ7vAqCgMbyZYvWnAEbSx_l_k05J6pq7FBpAzt6FL", "vault_token"),
    ("hvb." + "AAAAAQJzX1k2bW9wT0dGRnN4ZlR5c2l2N1lEb3hqdEtHRmRH", "vault_token"),
    ("dapi" + "ca9d4caaef86d5b71ef80cbf249de182", "databricks_token"),
    ("lin_api_" + "eKYMVmKlBvKMaRCg0bQMeK0dfmHv4UbapSlw6iQu", "linear_key"),
    ("NRAK-" + "383B4XOQH60JL0O6OS3GQVNJHDR", "newrelic_key"),
    ("whsec_" + "E9WyVGxycLwaYnPDiiEsbyWSwuS24a75", "stripe_webhook_secret"),
    ("sq0atp-" + "VsnzRI2AkBWCqZklL9ohZg", "square_token"),
    ("sq0csp-" + "Z--PIOiqJd8Jj3-V6Ya6DrljBaDMpj23xlNfEBx8Z-y", "square_token"),
    ("xapp-1-" + "A07QK3N2T8E-7512398406721-d83f0b6e2c9a41f7b5e8c2a6d9f0e1b3", "slack_token"),
    ("glsa_" + "nOdON4vxa7Bagw5OJlrWRC4C4P0ZkNHE_d83f0b6e", "grafana_token"),
    ("glc_" + "LkQ4jh6C6yzLO3azVivqZg4deSddpXfOpeqPnLPss1DBPAGgg803rKe3N3", "grafana_token"),
    (
        "ATATT3" + "xFfGF0YLUOi-OOZK9mbf7qSt5m1RQ8UWb10SLbarEl5viq0kiG9AKRkJEE5YAezUTJK88vBFx",
        "atlassian_token",
    ),
    ("dckr_pat_" + "bXjay46dGWcONlWlWUqNnbkuNZ6", "docker_token"),
    ("sntryu_" + "0ab4efd8f85e3876d67b3627cc299b58d06c55cea10361e7f71c0e2", "sentry_token"),
    ("sntrys_" + "eyJpYXQiOjE3MTk0NjQ0MDB9_Zk3pQ9rT2vX8mW4yB7nC5dF1gH6jK0lL", "sentry_token"),
    ("figd_" + "ckN0mGjNYLFDso44scwUeHLmhOs-50s3r0W-_N8x", "figma_token"),
    ("ntn_" + "9op1ohWflpjaxe11UPml2wW80jXCDp3K7z5D0QERNJqZCs", "notion_token"),
    (
        "EAA" + "ZlTjFHHysUfiFXti1Ghx1aDGJNhmFJlJOvfJBNloC4qtHs6tn0h2Ow9KtGqbH5C1CzKtylktdTGXp9"
        "VVXCqW2HCsWENsNPDdeNTWCfEz4hTfu3N8XjttV60YzDKdj5QEeQyQS1UoVV0T6opA9RWC4Ik0E7L8KK9",
        "facebook_token",
    ),
]
NOTION_LEGACY = "secret_" + "NKGX2iGzOLSWmMBE4jOir4VR5zb9D126agx4kMiLedV"
AIRTABLE = (
    "pat" + "jfPuU9oM9JGwNj." + "8e77626bbe9689f7eb746d5b1d96c48ce343cd5c89e32605e39ced5844997aa0"
)
TELEGRAM = "7012345678" + ":AA" + "vo_BXz21tMk2hz6QYwP51ByQ4T0Aamn2C"
DISCORD = "MTE5" + "IGiDaG6cOCTp4MI6WDMYz.Z6uJq3." + "3al718e-BtkRXUIqhSCYTIhn3W1GgGenmGoS40"


@pytest.mark.parametrize(("token", "kind"), TOKENS, ids=[kind for _, kind in TOKENS])
def test_provider_token_in_prose_is_found_with_exact_span(token, kind):
    assert (kind, token) in found(f"the integration fails with {token} — any idea why?")


@pytest.mark.parametrize(("token", "kind"), TOKENS, ids=[kind for _, kind in TOKENS])
def test_provider_token_assigned_in_code_keeps_its_kind(token, kind):
    assert (kind, token) in found(f'client = Client(api_key="{token}")\n')


@pytest.mark.parametrize(
    ("text", "kind", "covered"),
    [
        (f"NOTION_TOKEN={NOTION_LEGACY}", "notion_token", NOTION_LEGACY),
        (f"curl -H 'Authorization: Bearer {AIRTABLE}' https://x.io/", "airtable_token", AIRTABLE),
        (f"my Airtable PAT is {AIRTABLE}", "airtable_token", AIRTABLE),
        (f"bot = telebot.TeleBot('{TELEGRAM}')", "telegram_bot_token", TELEGRAM),
        (f"my telegram bot token {TELEGRAM} stopped working", "telegram_bot_token", TELEGRAM),
        (f"client.run('{DISCORD}')  # discord bot", "discord_bot_token", DISCORD),
        (f"Why does my Discord bot reject {DISCORD}?", "discord_bot_token", DISCORD),
    ],
)
def test_tokens_found_by_shape_with_their_context(text, kind, covered):
    assert (kind, covered) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "export GROQ_API_KEY=gsk_your_key_here_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "tokens look like gsk_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "The header is ya29.<access_token>, how do I refresh it?",
        "Vault tokens start with hvs. or hvb. — what is the difference?",
        "what does the dapi prefix mean in Databricks?",
        "Use the NRAK- key, not the license key.",
        "GSK_" + "8xBobYgGsftSb2kdYrRCibppvxbeBOLVykDvao4aWrRNEbtnf2AY",  # wrong case
        "x" + TOKENS[0][0],  # inside a longer identifier
        "path/to/pattern.json and compatible.settings",
        "version 12345678:AAB is not a token",
        "MTE5NjQ4.abcdef.ghijkl is too short for a Discord token",
        "EAA is the prefix of Meta's access tokens; how long do they live?",
        "secret_key_base = Rails.application.credentials.secret_key_base",
    ],
)
def test_token_look_alikes_are_ignored(text):
    assert "secret" not in scan(text).categories


# --- Azure SAS and GCP service-account files -------------------------------------------------
SIG = "MxNBVMSYnw5mvu41msRKOVCMS863FV5ihPwNfNsNsiy" + "%3D"


def test_azure_sas_signature_in_a_url():
    url = (
        "https://acct.blob.core.windows.net/reports/q3.xlsx?sv=2022-11-02&ss=b&srt=o&sp=r"
        "&se=2026-01-01T00:00:00Z&st=2025-01-01T00:00:00Z&spr=https&sig=" + SIG
    )
    assert ("azure_sas_signature", SIG) in found(f"download fails: {url}")


@pytest.mark.parametrize(
    "text",
    [
        "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2026-01-01&sig=<signature>",
        "https://example.org/page?sig=MxNBVMSYnw5mvu41msRKOVCMS863FV5ihPwNfNsN%3D",  # no sv=/se=
        "What do sv=, se= and sig= mean in an Azure SAS URL?",
    ],
)
def test_sas_look_alikes_are_ignored(text):
    assert "secret" not in scan(text).categories


KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "BKcwggSjAgEAAoIBAQC7Xw2Lm9Rt4Vz8Kp3Nd6Hs"


def test_gcp_service_account_private_key_value():
    value = f"-----BEGIN PRIVATE KEY-----\\n{KEY_BODY}\\n-----END PRIVATE KEY-----\\n"
    text = (
        '{\n  "type": "service_account",\n  "project_id": "ledger-prod",\n'
        f'  "private_key": "{value}",\n  "client_email": "etl@ledger.iam.gserviceaccount.com"\n}}'
    )
    # Short enough for the private_key assignment rule, which reports it first; either way the
    # whole value is one secret span.
    assert value in secrets(text)


def test_gcp_key_without_header_is_found_by_the_service_account_rule():
    value = (KEY_BODY + "\\n") * 6  # longer than an assignment's value may be
    text = f'{{"type": "service_account", "private_key": "{value}"}}'
    assert ("gcp_service_account_key", value) in found(text)


def test_truncated_service_account_key_is_not_a_secret():
    text = (
        '{"type": "service_account", "private_key": '
        '"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg...\\n-----END PRIVATE KEY-----\\n"}'
    )
    assert "secret" not in scan(text).categories


# --- passwords stated without a possessive or a verb -----------------------------------------
@pytest.mark.parametrize(
    ("text", "password"),
    [
        ("user is 'papa', password is pi3a745XBmEV9", "pi3a745XBmEV9"),
        ("login c.roux, mot de passe provisoire jG4nVcjpFIJ3", "jG4nVcjpFIJ3"),
        ("pw: Xk9#mv2Lq", "Xk9#mv2Lq"),
        ("Passwort (vorläufig) Tq7uZ2pL", "Tq7uZ2pL"),
        ("VPN: user jdoe / passcode 7hQ2mZ9xLk", "7hQ2mZ9xLk"),
        ("admin / pwd 'Qz8!vB3nLr' for the staging box", "Qz8!vB3nLr"),
        ("usuario ana.ruiz, contraseña temporal Rt5kW9pXq2", "Rt5kW9pXq2"),
        ("Kennwort für den Drucker: Hn4Lq8zWv", "Hn4Lq8zWv"),
        ("wachtwoord tijdelijk: Rr8kP2xqZ", "Rr8kP2xqZ"),
        ("senha inicial bV7nQ2kLp9", "bV7nQ2kLp9"),
        ("parola d'ordine provvisoria Kp3Zx9Lm2Q", "Kp3Zx9Lm2Q"),
        ("hasło: Zq4!rtY8pp", "Zq4!rtY8pp"),
        ("lösenord Wm7Rk2Qz9t", "Wm7Rk2Qz9t"),
        ("adgangskode: Fj8Lq2Xz7v", "Fj8Lq2Xz7v"),
        ("salasana on tilapäisesti Yt6Kp3Wq8z", "Yt6Kp3Wq8z"),
        ("初期パスワード：Xk9mv2Lq7z", "Xk9mv2Lq7z"),
        ("数据库密码是Xk9mv2Lq7，请勿外传", "Xk9mv2Lq7"),
    ],
)
def test_stated_password_with_exact_span(text, password):
    assert password in secrets(text)


@pytest.mark.parametrize(
    "text",
    [
        "password must be 12 characters",
        "reset your password at https://acme.io/reset/aB3dE5fG7hJ9",
        "the password field",
        # A weak, well-known password being discussed: not machine-made, not reported.
        "password123 is a bad password — why?",
        "password: ********",
        "password hashing with argon2id, see NIST SP800-63B",
        "passwords such as Summer2024 are easy to guess",
        "the password was sent to j.doe@corp-mail.com",
        "wifi password: <your-password-here>",
        "Password manager: 1Password vs Bitwarden",
        "set a passphrase of at least 14 characters with 2 digits",
        "the upward trend in 8AbcDe9fGh",
        "PIN 4821 for the door",
    ],
)
def test_stated_password_near_misses(text):
    assert "secret" not in scan(text).categories


# --- Kubernetes Secret manifests -------------------------------------------------------------
MANIFEST = """apiVersion: v1
kind: Secret
metadata:
  name: ledger-db
type: Opaque
data:
  username: bGVkZ2VyX2FwcA==
  password: """ + "aWpmSDZSNldoT3o4STdVY1pScUFrQjhX" + """
  placeholder: <base64>
  blank: ""
stringData:
  api-url: "https://ledger.internal/api"
  config.yaml: |
    retries: 3
    signing: """ + "ijfH6R6WhOz8I7UcZRqAkB8W" + """
  from-env: ${LEDGER_TOKEN}
  default: changeme
  encoded-default: Y2hhbmdlbWU=
---
apiVersion: v1
kind: ConfigMap
data:
  log-level: debug-verbose-2
"""


def test_kubernetes_secret_values_are_reported_one_by_one():
    covered = secrets(MANIFEST)
    assert "bGVkZ2VyX2FwcA==" in covered
    assert "aWpmSDZSNldoT3o4STdVY1pScUFrQjhX" in covered
    assert "https://ledger.internal/api" in covered
    assert "retries: 3\n    signing: ijfH6R6WhOz8I7UcZRqAkB8W" in covered
    for placeholder in ("<base64>", "${LEDGER_TOKEN}", "changeme", "Y2hhbmdlbWU=", '""'):
        assert not any(placeholder in value for value in covered)
    assert not any("debug-verbose" in value for value in covered)  # the ConfigMap


def test_kubernetes_secret_as_json():
    value = "aWpmSDZSNldoT3o4STdVY1pScUFrQjhX"
    text = '{"apiVersion": "v1", "kind": "Secret", "data": {"db-pass": "' + value + '"}}'
    assert ("kubernetes_secret", value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "kind: Secret\ndata:\n  password: <base64-encoded>\n  user: ${DB_USER}\n",
        "kind: SecretProviderClass\nmetadata:\n  name: vault\n",
        "How do I write a kind: Secret manifest with a data: block?",
        "kind: ConfigMap\ndata:\n  mode: production-2\n",
    ],
)
def test_kubernetes_look_alikes_are_ignored(text):
    assert "secret" not in scan(text).categories


# --- PEM private keys need key material ------------------------------------------------------
PEM_LINE = "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2zn8" + "Kp1Q9wXvTq7Xw2Lm9Rt4Vz8Kp3Nd6Hs1Jf5Gb"


@pytest.mark.parametrize(
    "text",
    [
        "what's the difference between '-----BEGIN RSA PRIVATE KEY-----' and "
        "'-----BEGIN PRIVATE KEY-----'?",
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "my key file starts with -----BEGIN EC PRIVATE KEY----- and then what?",
    ],
)
def test_pem_header_without_material_is_not_a_key(text):
    assert "secret" not in scan(text).categories


def test_pem_key_on_one_line_counts():
    text = f"key: -----BEGIN RSA PRIVATE KEY----- {PEM_LINE}"
    assert ("private_key", f"-----BEGIN RSA PRIVATE KEY----- {PEM_LINE}") in found(text)


def test_encrypted_pem_key_counts_after_its_headers():
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        "DEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n" + PEM_LINE + "\n-----END RSA PRIVATE KEY-----"
    )
    assert ("private_key", key) in found(f"can't decrypt this:\n{key}\n")


def test_pem_fragment_without_end_line_spans_its_material():
    text = f"-----BEGIN PRIVATE KEY-----\n{PEM_LINE}\n{PEM_LINE[::-1]}\nthanks"
    assert ("private_key", text[: -len("\nthanks")]) in found(text)


# --- linear time -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hostile",
    [
        "gsk_" * 30_000,
        "gsk_" + "a" * 100_000,
        "ya29." * 25_000,
        "EAA" + "a" * 100_000,
        "EAA" * 40_000,
        "1234567890:AA" * 10_000,
        "1" * 100_000 + ":AA" + "a" * 100,
        "pat" * 40_000,
        "token M" + "a" * 100_000,
        "discord bot M" + "a." * 50_000,
        "discord " + "Maaaaaaaaaaaaaaaaaaaaaaaa.aaaaaa." * 4_000,
        "?sv=1&se=2&sig=" + "a" * 100_000,
        "sv= se= sig=" * 10_000,
        '"type": "service_account", "private_key": "' + "a" * 100_000,
        '"type": "service_account"' + ' "private_key": "' * 10_000,
        "password " * 20_000,
        "password " + "a1" * 50_000,
        "pw: " * 30_000,
        "密码" * 50_000,
        "password" + " " * 100_000 + "Xk9#mv2Lq",
        "kind: Secret\ndata:\n" + "  k: v\n" * 20_000,
        "kind: Secret\n" * 10_000,
        "kind: Secret\nstringData:\n  a: |\n" + "    line\n" * 20_000,
        '"kind": "Secret", "data": {' * 5_000,
        "-----BEGIN RSA PRIVATE KEY-----\n" + " " * 100_000,
        "-----BEGIN RSA PRIVATE KEY-----\n" + "A\n" * 50_000,
        "-----BEGIN PRIVATE KEY-----" + "\\n" * 50_000,
        "-----BEGIN PRIVATE KEY----- " + "Proc-Type: x\n" * 10_000,
    ],
    ids=lambda text: repr(text[:14]),
)
def test_new_secret_patterns_finish_on_pathological_input(hostile):
    started = time.perf_counter()
    scan(hostile)
    assert time.perf_counter() - started < 10
