"""Comma- and semicolon-separated exports with banking or identifier columns, and credentials
not called a password (network keys, login pairs, PINs, access codes), in several languages,
with the near misses that must stay ordinary. The strings are our own; none comes from a blind
set."""

import random

import pytest

from routing.sensitivity import scan
from tests.data.sensitivity import fabricate


def kinds(text):
    return {span.kind for span in scan(text).spans}


def covered(text, kind):
    return {text[span.start : span.end] for span in scan(text).spans if span.kind == kind}


# --- CSV and semicolon exports ---------------------------------------------------------------
def test_a_csv_payment_run_reports_sort_codes_and_account_numbers():
    text = (
        "supplier run for Thursday, check the sums pls\n\n"
        "Supplier,Sort Code,Account Number,Amount\n"
        "Hartley Plumbing,09-01-28,31926819,£480.00\n"
        "M. Adeyemi (freelance),60-83-71,44120987,£1,250.00\n"
        "Total,,,£1730.00"
    )
    assert covered(text, "sort_code") == {"09-01-28", "60-83-71"}
    assert covered(text, "account_number") == {"31926819", "44120987"}


@pytest.mark.parametrize(
    "text",
    [
        # A European spreadsheet's semicolons, German and Dutch headers.
        "Empfänger;Kontonummer;BLZ;Betrag\nSchreinerei Vogt;7712004411;37040044;1.850,00\n"
        "Petra Lang;0081234567;50010517;95,00",
        '"Naam";"Rekeningnummer";"Bedrag"\n"Joost Visser";"0417164300";"120,00"',
        # Australian BSB beside an account number; a quoted amount with its comma.
        'Payee,BSB,Account No,Amount\nK. Tran,082-140,503912847,"$2,400.00"',
        # A routing column checked by its checksum, in lower-case snake_case headers.
        "employee_id,routing_number,bank_account\n118,{routing},000123456789",
        # Identifier columns are read in CSV too.
        "name,passport no,nationality\nAsha Verma,Z7316024,IND\nLeo Brandt,C4RJ81K92,DEU",
    ],
    ids=["de-semicolon", "nl-quoted", "bsb", "routing", "passport"],
)
def test_exports_in_other_shapes_and_languages(text):
    routing = fabricate.aba_routing(random.Random(5))
    report = scan(text.format(routing=routing))
    assert report.sensitive, report.explain()


def test_a_routing_cell_still_needs_its_checksum():
    bad = fabricate.aba_failing_checksum(random.Random(5))
    assert "aba_routing" not in kinds(f"employee_id,routing_number,plan\n118,{bad},gold")


@pytest.mark.parametrize(
    "text",
    [
        # A CRM export: "Account" is the customer, the number is theirs in our system.
        "Name,Account,Plan,MRR\nAcme,100234,Pro,1200\nGlobex,100877,Team,400",
        # Prose with commas after a line naming an account: not a header row.
        "Hi team, the account number is in the portal, not here.\nThanks, Priya, 12345678",
        # A row that does not have the header's shape is prose, not a record.
        "Sort code, account and amount are below, as discussed.\nwe paid 40116271 in total",
        # A ledger's account codes beside a payee: six digits, not a bank account.
        "Invoice,Payee,Account,Amount\nINV-2291,Acme Ltd,400100,120.00\n"
        "INV-2292,Globex,620300,80.00",
        # Numbers under a banking header that are not account numbers.
        "Payee,Sort code,Account no,Amount\nBright Ltd,n/a,pending,£12.00",
        "Passport photos, sizes, prices\n35x45 mm, 2 photos, 12.50",
    ],
)
def test_csv_look_alikes_stay_ordinary(text):
    report = scan(text)
    assert "financial" not in report.categories, report.explain()
    assert "personal" not in report.categories, report.explain()


# --- network keys ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "The office VPN pre-shared key is Rq7v-8KpZ-w2Nx-4Ltb, please set up Anna's laptop.",
        "PSK: 5hT9qLm2Xw8Rz",
        "WLAN-Schlüssel für das Gästenetz: fK83-pQz2-Lm7w",
        "La clé Wi-Fi du cabinet est Xb7r9TqL2m!, tu peux la noter ?",
        "La clave wifi de la oficina es Mv4q8TzLp2, ¿me ayudas a cambiarla?",
        "De netwerksleutel is 8Hj3kPq9Wm, kun je uitleggen hoe ik hem wijzig?",
        "ルーターの事前共有鍵は Gq4nT8vX2p です。設定方法を教えて。",
    ],
    ids=["en", "psk", "de", "fr", "es", "nl", "ja"],
)
def test_network_keys_are_secrets(text):
    assert "network_key" in kinds(text), scan(text).explain()


@pytest.mark.parametrize(
    "text",
    [
        "What is a pre-shared key and how long should it be?",
        "The VPN pre-shared key is stored in 1Password, ask IT for access.",
        "Der WLAN-Schlüssel steht auf der Rückseite des Routers.",
        "How do I change the WPA2 key on a FritzBox 7590?",
    ],
)
def test_network_keys_without_a_value_stay_ordinary(text):
    assert "secret" not in scan(text).categories, scan(text).explain()


# --- login pairs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "router login: admin / 9vKq2mXz7L — how do I reset it?",
        "Zugangsdaten NAS: verwaltung / Hz8!kLp2qW",
        "identifiants du portail : cabinet.morel / Qp9xT4mWz",
        "inloggegevens van het ERP: j.devries / Wt5kR8mq2Z",
    ],
)
def test_user_and_password_pairs_are_secrets(text):
    assert "login_pair" in kinds(text), scan(text).explain()


@pytest.mark.parametrize(
    "text",
    [
        "log in as admin / guest and open the settings page",  # no machine-made value
        "the login page is at src/Tr0utLake88/docs",  # a path: no space around the slash
        "account revenue Q3 / Q4FY2024 by region",  # an upper-case code, not a password
        "user / password fields must not be empty",
    ],
)
def test_slashes_that_are_not_login_pairs(text):
    assert "login_pair" not in kinds(text), scan(text).explain()


# --- PINs and access codes -------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "The PIN for the company card is 4821, don't lose it.",
        "Mijn pincode van de bankpas is 8341, kun je die onthouden?",
        "Die Geheimzahl der EC-Karte lautet 7315.",
        "Le code PIN de la carte bancaire : 6092",
        "El PIN de la tarjeta es 2957, apúntalo.",
        "SIM card PIN 3817, PUK in the drawer",
    ],
    ids=["en", "nl", "de", "fr", "es", "sim"],
)
def test_pins_with_what_they_open_are_secrets(text):
    assert "pin" in kinds(text), scan(text).explain()


@pytest.mark.parametrize(
    "text",
    [
        "The PIN has to be 4 digits for the card.",
        "The default PIN is 0000 on this phone.",
        "Connect pin 13 of the Arduino to the LED.",
        "My card was blocked after 3 wrong PIN attempts, what now?",
        "Can a bank ask for my card PIN by phone?",
    ],
)
def test_pin_look_alikes_stay_ordinary(text):
    assert "secret" not in scan(text).categories, scan(text).explain()


@pytest.mark.parametrize(
    "text",
    [
        "Alarm code is 4471#, door code 2580 — please write the cleaner a note.",
        "De deurcode is 7391, de alarmcode 1456*.",
        "Türcode 1893, Schlüssel im Kasten.",
        "Le digicode de l'immeuble est 4827B, troisième étage.",
    ],
)
def test_access_codes_are_secrets(text):
    assert "access_code" in kinds(text), scan(text).explain()


@pytest.mark.parametrize(
    "text",
    [
        "Our building code requires 2 exits per 1000 sqft.",
        "the error code is 40413 when I log in",
        "In my novel, the alarm code is 4471 and the hero forgets it.",
        "Write a template note for guests: the door code is ____.",
    ],
)
def test_access_code_look_alikes_stay_ordinary(text):
    assert "secret" not in scan(text).categories, scan(text).explain()


def test_a_pin_in_a_story_is_dropped_but_a_network_key_is_not():
    story = "Write a short story where the heroine's card PIN is 4821 and she forgets it."
    assert not scan(story).sensitive, scan(story).explain()
    key = "Write a short story; by the way our real VPN pre-shared key is Rq7v-8KpZ-w2Nx-4Ltb."
    assert "network_key" in kinds(key)
