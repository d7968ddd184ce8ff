"""Families written for the third round, after a second blind set showed phrase lists tuned on
one set catch little of the next: broad co-occurrence rules (an event with a sign it is not
public, a person with clinical content), legends by position and vocabulary, token prefixes,
checksum-validated national IDs. The strings here are our own, not the blind sets'; each family
has positives in several wordings and languages and the near misses it must leave alone."""

import pytest

from routing.sensitivity import scan


def categories(text):
    return scan(text).categories


# --- mnpi: a price-moving event and a sign it is not public ----------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Keep this quiet until the 8-K goes out: we're acquiring Pellucid Labs for $310M.",
        "My neighbour who works at Ostara Pharma says the FDA rejected their drug.",
        "Internal only — Q4 revenue missed plan by 18%. Draft the board memo.",
        "Our CFO resigns next week, not public yet. Help me write the staff note.",
        "Heads up from my cousin at Brightline: layoffs of 900 people, announcement is Tuesday.",
        "We will cut the dividend to zero; the release goes out on the 3rd. Draft the Q&A.",
        "Do not circulate: the regulator fined us and we publish on Monday.",
        "Vertraulich: die Übernahme von Kessler AG wird am Montag veröffentlicht.",
    ],
)
def test_mnpi_event_with_a_sign_it_is_not_public(text):
    assert "mnpi" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Apple will announce its Q4 results on October 30. Summarise analyst expectations.",
        "Microsoft announced yesterday that its CEO will step down; what did the press say?",
        "How do companies decide when to announce a merger?",
        "My friend works at a bakery and wants to know how dividends are taxed.",
        "Write a blog post about how buybacks affect share prices.",
    ],
)
def test_mnpi_public_or_general_talk_passes(text):
    assert "mnpi" not in categories(text)


# --- privilege: legends by position and vocabulary --------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "PRIV & CONF\nRe: lease dispute with Harbor Estates",
        "[Privileged & Confidential – Attorney/Client]\nNotes from the call with outside counsel",
        "Privileged - Legal Advice\nOur view on the supplier's termination notice follows.",
        "This e-mail is intended solely for the named recipient. If you have received this "
        "message in error, please delete it.",
        "Vertrouwelijk - valt onder de geheimhoudingsplicht van de advocaat",
        "Documento confidencial e privilegiado. Sigilo profissional.",
        "Without prejudice\nDear Mr Hale, we propose the following settlement",
    ],
)
def test_privilege_legends_by_position_and_vocabulary(text):
    assert "privilege" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "The case was dismissed without prejudice to a later claim.",
        "What does 'without prejudice' mean in a letter?",
        "Our privacy policy explains how we use private data.",
        "Which error did I make in this Python function?",
    ],
)
def test_privilege_near_misses(text):
    assert "privilege" not in categories(text)


# --- secrets: token prefixes, passwords in other languages, key settings ---------------------
@pytest.mark.parametrize(
    "text",
    [
        "export HF_TOKEN=hf_Qm3xVb7LpR2sT9wYkC4nZ8dF1gH6jK0aEu",
        "git clone https://oauth2:glpat-Ab3dE5fG7hJ9kL1mN2pQ@gitlab.com/x/y.git",
        "//registry.npmjs.org/:_authToken=npm_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "Mein Passwort lautet Tannenbaum!77, wie ändere ich es?",
        "Mi contraseña es Girasol_2023 y no me deja entrar.",
        "mijn wachtwoord is Fietsen2024! maar het werkt niet",
        'storage_key = "8fJ2kLq9Zx0Vb3Nm7Pq1Rs4Tu6Wy8Za"',
        "token: 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",
    ],
)
def test_secret_prefixes_and_passwords(text):
    assert "secret" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Password reset: what makes a strong mot de passe?",
        "Mijn wachtwoord is vergeten, hoe stel ik een nieuw in?",
        "The hf_hub_download function takes a repo id.",
        'cache_key = "user-profile"',
    ],
)
def test_secret_near_misses(text):
    assert "secret" not in categories(text)


# --- financial and personal: MICR, national IDs with their checks ---------------------------
@pytest.mark.parametrize(
    "text, category",
    [
        ("Cheque MICR: ⑆011000015⑆ 000123456789⑈ 0042", "financial"),
        ("Mijn BSN is 111222333, mag ik dat mailen?", "personal"),
        ("My tax file number is 123 456 782.", "personal"),
        ("DNI: 12345678Z", "personal"),
        ("Mi NIE es X1234567L", "personal"),
        ("Il mio codice fiscale è RSSMRA85T10A562S", "personal"),
        ("Meine Steuer-ID lautet 65929970489.", "personal"),
        ("Numéro de sécurité sociale : 2 85 05 78 123 456 39", "personal"),
    ],
)
def test_micr_and_national_ids(text, category):
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mijn BSN is 111222334, klopt dat?",  # fails the 11-test
        "DNI: 12345678A",  # wrong check letter
        "Call the Medicare helpline on 800-633-4227 for help.",
        "Our docs use 987-65-4321 as the example ITIN.",
        "Tracking 1Z 999 AA1 02 3456 7890 still says in transit.",
    ],
)
def test_national_id_and_phone_near_misses(text):
    assert "personal" not in categories(text)


# --- health: an identifiable person and clinical content, health-system IDs -----------------
@pytest.mark.parametrize(
    "text",
    [
        "My dad was diagnosed with type 2 diabetes and started metformin.",
        "Paciente: María López García, diagnóstico de insuficiencia renal.",
        "Herr Becker, 64, Befund: Bronchialkarzinom rechts.",
        "Versichertennummer A123456789 – bitte an die Kasse schicken.",
        "PID|1||99812^^^GENHOSP^MR||DOE^JANE||19800101|F",
        "Blue Cross member ID XJH448812345 — they refused the physiotherapy claim.",
        "A colleague told me in confidence she is in rehab for alcoholism.",
        "Our daughter started atorvastatin last month; is grapefruit a problem?",
    ],
)
def test_health_person_and_clinical(text):
    assert "health" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "What are common side effects of metformin?",
        "My gym member ID is 88812345, how do I cancel?",
        "Explain how insulin resistance develops.",
        "My son wants to learn chess; any good books?",
    ],
)
def test_health_near_misses(text):
    assert "health" not in categories(text)


# --- the new patterns stay linear ------------------------------------------------------------
@pytest.mark.parametrize(
    "hostile",
    [
        "internal only deal " * 20_000,
        "my cousin at " * 30_000,
        "we will report on the " * 20_000,
        "announcement is " * 30_000,
        "Versichertennummer 1 " * 20_000,
        "member id 12 " * 20_000,
        "BSN 1 2 3 " * 20_000,
        "mot de passe est " * 20_000,
        "⑆0110000" * 20_000,
        "PID|" * 50_000,
        "hf_" * 50_000,
        "privileged - " * 20_000,
        "intended only for the " * 20_000,
        "Dr " * 50_000,
        "xxxxxsemide " * 20_000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_cooccurrence_patterns_finish_on_pathological_input(hostile):
    assert scan(hostile) is not None
