"""Families written for the sixth round, after the fifth blind set's first run: Polish, Nordic
and Czech legends, PRIVILEGED in capitals, tables of dates of birth and bank details, cards
after CJK text, BSB numbers, HTTP credentials, passwords made to a policy, memorable words,
colleagues named in HR writing about health, Chinese and other not-yet-public signals; and the
kinds of false positive that set showed (invented text, examples, definitions, historical
dates of birth, fiction numbers, landmarks). The strings are our own; none comes from a blind
set."""

import base64
import random

import pytest

from routing.sensitivity import scan
from tests.data.sensitivity import fabricate


def categories(text):
    return scan(text).categories


def kinds(text):
    return {span.kind for span in scan(text).spans}


# --- privilege -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "POUFNE – TAJEMNICA ADWOKACKA\nSzanowni Państwo, w załączeniu nasza opinia. Przetłumacz.",
        "Objęte tajemnicą radcowską. Streść tę notatkę w trzech punktach.",
        "KONFIDENTIELLT – omfattas av advokatsekretess. Sammanfatta brevet.",
        "FORTROLIGT: underlagt advokatens tavshedspligt. Oversæt til engelsk.",
        "Luottamuksellinen – asianajajan vaitiolovelvollisuus. Käännä englanniksi.",
        "[Drafting note – PRIVILEGED/INTERNAL – remove before sending] We cannot accept cl. 9.",
    ],
)
def test_more_legends_are_privilege(text):
    assert "privilege" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Co to jest tajemnica adwokacka i kogo obowiązuje?",
        "Explain what 'PRIVILEGED' means for a Docker container.",
        "Write the opening scene of a legal thriller: a trainee finds a memo stamped PRIVILEGED "
        "& CONFIDENTIAL on the office printer at midnight.",
        "Draft a generic email footer for a four-person agency. Something like \"this email is "
        'confidential and intended only for the addressee" but friendlier.',
        '"Confidential Information" means any information designated as confidential by the '
        "Discloser. Rewrite this clause in plain English.",
    ],
)
def test_invented_text_questions_and_definitions_are_not_privilege(text):
    assert "privilege" not in categories(text)


# --- personal and financial: tables ----------------------------------------------------------
def test_a_payroll_export_reports_routing_and_account_columns():
    rng = random.Random(11)
    routing = fabricate.aba_routing(rng)
    text = (
        "Check the totals of this export:\nid|name|routing|account|net\n"
        f"7|Dana Ruiz|{routing}|004471190236|2,150.00\n"
    )
    assert {"aba_routing", "account_number"} <= kinds(text)
    bad = fabricate.aba_failing_checksum(rng)
    assert "aba_routing" not in kinds(text.replace(routing, bad))


def test_a_date_of_birth_column_is_personal():
    text = "time\tpatient\tdob\n09:20\tAda Moss\t1961-04-02\n09:40\tLiam Ode\t03/11/1974"
    assert "date_of_birth" in kinds(text)
    assert "date_of_birth" not in kinds("time\tpatient\troom\n09:20\tAda Moss\t1961-04-02")


def test_a_card_right_after_cjk_text_is_found():
    number = fabricate.card(random.Random(3), "unionpay")
    assert "payment_card" in kinds(f"我的银联卡号是{number}，请用这张卡付款")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Pay into BSB 062-000, acc 10293847 by Friday.", "bsb"),
        ("Nationwide, sort code 07-04-36, acc 31829047.", "account_number"),
    ],
)
def test_bsb_and_short_account_labels(text, kind):
    assert kind in kinds(text)


def test_acc_is_an_account_label_only_before_its_number():
    assert "financial" not in categories("I need access 24/7 to the portal, ref 10293847.")


# --- secret ----------------------------------------------------------------------------------
def test_http_basic_and_bearer_credentials():
    basic = base64.b64encode(b"svc_sync:Vq7#pL2mZx9").decode()
    assert "http_credentials" in kinds(f"GET /api HTTP/1.1\nAuthorization: Basic {basic}\n")
    rng = random.Random(8)
    token = "".join(rng.choice("abcdefghijkmnopqrstuvwxyz0123456789") for _ in range(40))
    assert "http_credentials" in kinds(f'curl -H "Authorization: Bearer {token}" https://x.io')
    assert "secret" not in categories('curl -H "Authorization: Bearer $TOKEN" https://x.io')
    assert "secret" not in categories("Authorization: Bearer <your-token-here>")


@pytest.mark.parametrize(
    "text",
    [
        "Set up grandad's banking app: customer no 8812, passcode Heron1947!",
        "memorable word 'tulips', please help me log in",
    ],
)
def test_passwords_made_to_a_policy_and_memorable_words(text):
    assert "secret" in categories(text)


@pytest.mark.parametrize(
    "text",
    ["Is Summer2024 a good password?", "passcode must have 8 characters and a symbol"],
)
def test_password_advice_is_not_a_secret(text):
    assert "secret" not in categories(text)


# --- health -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Draft a reasonable adjustments letter for Maya Collins in Finance: she has Crohn's "
        "disease and a hospital admission last month.",
        "Heads up, Omar from platform eng will be out for 4 weeks doing chemo.",
        "Ravi Menon (night shift supervisor) has been signed off with depression; draft the "
        "return-to-work plan.",
        "client: R. Okafor, session 3 — panic attacks twice a week, sleeping badly.",
    ],
)
def test_colleagues_and_clients_with_clinical_context_are_health(text):
    assert "health" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "What is a reasonable adjustment for an employee with depression?",
        "Summarise our sick leave policy for the staff handbook.",
    ],
)
def test_policies_and_questions_without_a_person_are_not_health(text):
    assert "health" not in categories(text)


# --- mnpi ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "请润色：【内幕信息，严禁外传】公司拟收购星河科技全部股权，下周一停牌。",
        "Project Kestrel: non-public approach to the target, indicative offer $18/sh, LOI Friday.",
        "For the leadership team only: we will miss FY guidance by about 6%.",
        "Board will declare a special dividend on the 14th; intimation to NSE after the meeting. "
        "Trading window closed from today.",
    ],
)
def test_more_not_yet_public_signals_are_mnpi(text):
    assert "mnpi" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "What is a trading window and who decides when it closes?",
        "Our leadership team only meets on Mondays; move the offsite planning call.",
        "什么是内幕交易？请解释相关法律。",
    ],
)
def test_questions_and_ordinary_uses_are_not_mnpi(text):
    assert "mnpi" not in categories(text)


# --- personal: false positives ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Write a school poster bio of Ada Lovelace (born 10 December 1815 in London).",
        'Example body: {"name": "Jane Roe", "phone": "+1-555-0176"}',
        "How long is the walk from Westminster station to 10 Downing Street?",
    ],
)
def test_history_fiction_numbers_and_landmarks_are_not_personal(text):
    assert "personal" not in categories(text)


def test_a_living_persons_date_of_birth_still_counts():
    assert "personal" in categories("Patient intake: date of birth 10 December 1985.")


# --- pathological input ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "PRIVILEGED" * 20_000,
        "Authorization: Basic " + "A" * 200_000,
        "memorable word '" * 20_000,
        "dob|" * 50_000,
        "Tom Smith in " * 20_000 + "fit note",
        "内幕" * 50_000,
        "poufne - " * 30_000,
        "write a " * 40_000,
    ],
)
def test_sixth_round_patterns_finish_on_pathological_input(text):
    # No wall-clock limit (shared machines are noisy): a quadratic pattern would make these run
    # for hours, and the suite's own runtime is the signal, as in test_sensitivity_report.py.
    assert scan(text).spans is not None
