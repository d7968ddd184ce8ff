"""Issue 16, round 2: fiction, fixtures, templates, examples and lessons lower the soft findings
(personal details without a checksum, quoted privilege), explain it, and never touch a hard
identifier or a case where something particular was told."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.sensitivity import scan
from routing.sensitivity.evaluation import evaluate, read_cases

PROBES = Path(__file__).parents[1] / "data" / "sensitivity" / "decoys_round2.jsonl"

# One hard identifier of each family, each valid (checksum, check digits or format). A bare
# ten-digit number reads as a phone; the NHS number counts where it is named as one.
CARD = "4539 1488 0343 6467"
IBAN = "GB82 WEST 1234 5698 7654 32"
SSN = "536-90-4218"
NHS = "NHS number 943 476 5919"
ZONE = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
KEY = "AKIAIOSFODNN7EXAMPLF"

FRAMES = {
    "fiction": "Write a short story where the detective finds {} in the villain's drawer.",
    "fixture": "Test fixture for our unit tests, fake data: value = '{}'. Why does it fail?",
    "template": "Engagement letter template: Dear [CLIENT NAME], please note {} and sign ____.",
    "example": "For example, a value like {} in the docs: explain the format.",
    "lesson": "For a training course, explain in general why {} matters.",
}


def test_the_round2_probes_keep_recall_and_few_false_positives():
    result = evaluate(read_cases(PROBES))
    assert result["hard"]["missed"] == 0
    assert result["recall"] == 1.0, [m["text"] for m in result["misses"]]
    assert result["false_positive_rate"] <= 0.05, [m["text"] for m in result["false_positives"]]
    assert {case.lang for case in read_cases(PROBES)} >= {"en", "de", "fr", "it", "es", "nl"}


@pytest.mark.parametrize("frame", sorted(FRAMES))
@pytest.mark.parametrize("identifier", [CARD, IBAN, SSN, NHS, ZONE],
                         ids=["card", "iban", "ssn", "nhs", "mrz"])
def test_no_frame_ever_dampens_a_hard_identifier(frame, identifier):
    report = scan(FRAMES[frame].format(identifier))
    assert report.sensitive, report.explain()
    assert report.categories and set(report.categories) & {"financial", "personal", "health"}


@pytest.mark.parametrize("frame", sorted(FRAMES))
def test_no_frame_ever_dampens_a_secret(frame):
    report = scan(FRAMES[frame].format(f"aws_access_key_id={KEY}"))
    assert "secret" in report.categories, report.explain()


@pytest.mark.parametrize(("text", "says"), [
    ("Write a short story where the detective calls Mrs. Hargreave on 07700 900123 and visits "
     "her at 14 Larkspur Lane, Bristol BS1 4DJ.", "reads as fiction"),
    ("Testdaten für unseren Unit-Test: Max Mustermann, geb. 01.01.1980, Musterstraße 1, 12345 "
     "Musterstadt, Tel. 0123 456789.", "reads as a template with blanks"),
    ("HR form: Employee name: ________ Date of birth: 01/02/1975 Phone: 020 7946 0000.",
     "reads as a template with blanks"),
    ("What format should a UK phone number have? For example 020 7946 0000.",
     "reads as an example or sample"),
    ("Screenplay scene: the associate whispers 'this is privileged and confidential' as the "
     "partner reads the client's confession.", "reads as fiction"),
])
def test_soft_findings_in_invented_text_are_dropped_and_explained(text, says):
    report = scan(text)
    assert not report.sensitive, report.explain()
    assert says in report.explain()


@pytest.mark.parametrize("text", [
    # The same details, as somebody's: no frame.
    "Call Mrs. Hargreave on 07700 912345 tomorrow, she lives at 14 Larkspur Lane, Bristol.",
    # A template named by its word, but something particular was told about our client.
    "Use this template for the reply to our client Ms. Park: she told us she destroyed the "
    "emails after the litigation hold. What do we tell the court?",
    # Blanks to fill in with a real person's details.
    "Fill in the blanks: ____\nTo: Mr Gareth Llewellyn, 42 Heol y Felin, Pontypridd CF37 2RT\n"
    "Date of birth: 11/09/1977\nOur client offers £22,500 to settle his dismissal claim.",
    # News that is not public yet is not news.
    "The deal won't be announced until the 14th.",
    # A clinical finding about somebody stays theirs, whatever the question sounds like.
    "my husband (52) got diagnosed with early onset parkinsons yesterday and we havent told the "
    "kids yet. how do we start that conversation? he works as a surveyor",
    # An embargoed press release, though it says "announced".
    "Polish this press release. EMBARGOED - NOT FOR RELEASE UNTIL 7:00 AM ET MONDAY. Verantis "
    "today announced that its Phase 3 trial did not meet its primary endpoint.",
])
def test_cases_stay_sensitive(text):
    assert scan(text).sensitive, scan(text).explain()


def test_a_lesson_drops_quoted_privilege_but_a_stamp_on_a_case_stays():
    lesson = ("For a training course: what does 'privileged and confidential' on a memo mean, "
              "and when is attorney work product protected?")
    report = scan(lesson)
    assert not report.sensitive, report.explain()
    memo = ("PRIVILEGED & CONFIDENTIAL - ATTORNEY WORK PRODUCT. Our client told us the "
            "shipment was late; our advice on the claim follows.")
    assert "privilege" in scan(memo).categories
