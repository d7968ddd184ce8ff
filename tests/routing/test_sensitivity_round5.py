"""Families written for the fifth round, after the fourth blind set's first run: relatives,
honorifics and clinical words in more languages, Japanese and Chinese clinical context, a
person's own diagnosis in a pasted message, tables with a name column; inside-information and
do-not-disclose stamps in more languages, filings held back, workforce cuts; Dutch, Nordic and
Portuguese street addresses and CJK address labels; and the kinds of false positive that set
showed (codes, service lines, fiction numbers, sample addresses, topics, fiction requests).
The strings are our own; none comes from a blind set."""

import random

import pytest

from routing.sensitivity import scan
from tests.data.sensitivity import fabricate


def categories(text):
    return scan(text).categories


def kinds(text):
    return {span.kind for span in scan(text).spans}


# --- health: who it is about --------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Mi padre tiene diabetes y toma metformina 850 mg, ¿cómo le explico la dieta?",
        "Ma mère a été hospitalisée la semaine dernière pour une pneumonie, aide-moi à écrire "
        "à son employeur.",
        "Mein Sohn hat Asthma, schreib bitte eine Notiz für die Schule.",
        "Mijn vader heeft kanker, hoe vertel ik het aan mijn kinderen?",
        "Mio marito è stato ricoverato ieri dopo un infarto.",
        "A minha filha está grávida de cinco meses, escreve uma mensagem para a escola.",
        "M. Laurent Petit, 64 ans, hospitalisé pour pneumonie : rédige la lettre de sortie.",
        "母が入院しました。手術は来週です。会社への連絡文を書いて。",
        "我的父亲被诊断为糖尿病，帮我写一封请假邮件。",
        "Reply kindly to this:\n\"Hi Priya, I have been diagnosed with MS and will start "
        'treatment next month. Please keep it to yourself. – Tom"',
        "name | team | leave_reason\nAna Silva | Ops | chemotherapy\nBo Chen | IT | parental",
        "my wife had a cholecystectomy on Monday, draft a note to her manager",
        "our son has tonsillitis again, write to the school",
        "my daughter's ER visit last night cost $900, help me appeal the bill",
    ],
)
def test_a_person_with_clinical_context_is_health(text):
    assert "health" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mi casa es su casa: translate this idiom.",
        "病気とは何ですか？",
        "I was diagnosed with asthma as a kid — which inhalers exist today?",
        "name | team | leave_reason\nAna Silva | Ops | vacation\nBo Chen | IT | parental",
        "Write a thank-you note to Dr. Lee for her talk on diabetes management last week.",
        "Summarise the seminar on heart failure for the nursing newsletter.",
    ],
)
def test_no_person_or_only_a_topic_is_not_health(text):
    assert "health" not in categories(text)


def test_a_clinical_word_after_a_doctor_is_still_health_when_it_is_somebodys():
    assert "health" in categories("Dr. Lee says my diabetes is getting worse, what now?")


# --- mnpi ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "INFORMACIÓN PRIVILEGIADA: el consejo aprobará la fusión el lunes. Resume el correo.",
        "Informação privilegiada – a administração aprovou a venda da fábrica de Braga.",
        "Informazioni privilegiate: il CdA approva l'acquisizione giovedì.",
        "Koersgevoelige informatie – niet verspreiden. Vat deze notitie samen.",
        "Price-sensitive information: Q3 revenue fell 12%. Draft the board summary.",
        "The CFO resigned on Friday; the 8-K won't be filed until Monday. Draft the memo.",
        "RIF approved: 300 roles in EMEA. Nobody outside the exec team knows yet.",
        "Fato relevante – NÃO DIVULGAR: a incorporação da Beta S.A. foi aprovada.",
    ],
)
def test_unannounced_events_in_more_wordings_are_mnpi(text):
    assert "mnpi" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "¿Qué es la información privilegiada según la ley española?",
        "Our price-sensitive customers respond best to discounts. Suggest a promo.",
        "The company announced a RIF of 300 roles yesterday, per Reuters. Summarise the news.",
    ],
)
def test_talk_about_the_concepts_or_public_news_is_not_mnpi(text):
    assert "mnpi" not in categories(text)


# --- personal: addresses ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Envia para Rua da Alegria 45, Porto.", "Rua da Alegria 45"),
        ("Scrivi a Via della Spiga 7, Milano.", "Via della Spiga 7"),
        ("Hon bor på Drottninggatan 12 i Stockholm.", "Drottninggatan 12"),
        ("Het kantoor is verhuisd naar Keizersgracht 99.", "Keizersgracht 99"),
        ("住所：大阪府大阪市北区梅田1-2-3 グランビル5F", "大阪府大阪市北区梅田1-2-3 グランビル5F"),
    ],
)
def test_more_street_address_shapes(text, address):
    report = scan(text)
    assert "personal" in report.categories
    assert address in [text[span.start : span.end] for span in report.spans]


@pytest.mark.parametrize(
    "text",
    [
        "Is Drottninggatan the longest shopping street in Stockholm?",
        "Format this sample: name: Jane Roe, address: 42 Elm Street, Anytown, NY 12345",
    ],
)
def test_street_names_without_a_number_and_sample_addresses_are_not_personal(text):
    assert "personal" not in categories(text)


# --- personal: numbers that are not somebody's ---------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Call the switchboard on 020 7946 0000 for the Birmingham office opening hours.",
        "Is +33 1 70 36 39 50 still the number of the Air France service centre?",
        "phone: 415-555-0123 (sample data for the docs)",
        "Order no. 123 45 6789 shipped on Monday, where is it now?",
        "The NHS number 401 023 2137 fails my validator, explain the mod 11 steps.",
    ],
)
def test_organisations_codes_and_fiction_numbers_are_not_personal(text):
    assert "personal" not in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "My mobile is 020 7946 0321, the switchboard is always busy.",
        "phone: 415-555-0234",
        "Her SSN is 123 45 6789, fill in the form.",
    ],
)
def test_the_same_shapes_are_personal_when_they_are_somebodys(text):
    assert "personal" in categories(text)


def test_card_shaped_groups_inside_an_iban_are_not_a_card():
    rng = random.Random(5)
    number = fabricate.card(rng, "visa")
    grouped = fabricate.group_card(number)
    text = f"The bank rejected GB00 {grouped} 12 as an invalid IBAN, why?"
    assert "payment_card" not in kinds(text)
    assert "payment_card" in kinds(f"Card {grouped}, expiry 09/28.")


# --- privilege: fiction -------------------------------------------------------------------------
def test_a_fiction_request_that_mentions_privilege_is_not_a_legend():
    text = (
        "Write a courtroom scene in which counsel argues that the email is covered by "
        "attorney-client privilege."
    )
    assert "privilege" not in categories(text)
    assert "privilege" in categories(
        "This email is covered by attorney-client privilege. Summarise it for the partner."
    )


# --- linear time ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "mi " * 50_000,
        "住所" * 50_000,
        "name | " * 30_000,
        "Hi Tom, i was diagnosed " * 8_000,
        "1Z 4E7 " * 30_000,
        "lecture on " * 20_000 + "diabetes",
        "ectomy" * 30_000,
        "M. " * 60_000,
    ],
)
def test_new_patterns_finish_on_pathological_input(text):
    # No wall-clock limit (shared machines are noisy): a quadratic pattern would make these run
    # for hours, and the suite's own runtime is the signal, as in test_sensitivity_report.py.
    assert scan(text).spans is not None
