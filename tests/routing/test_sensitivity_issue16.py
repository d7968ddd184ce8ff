"""Issue 16: hard categories without exceptions, machine-readable zones, the contextual layer
(score, dampeners, explanation) and its threshold in the policy."""

from __future__ import annotations

import pytest

from routing.policy import PolicyError, parse_policy_text
from routing.sensitivity import CATEGORIES, scan
from routing.sensitivity.context import DEFAULT_THRESHOLD
from routing.sensitivity.mrz import check_digit

# ICAO 9303's own specimens (Part 4, 5 and 6): Anna Maria Eriksson of Utopia.
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
       "D231458907UTO7408122F1204159<<<<<<<6")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
       "7408122F1204159UTO<<<<<<<<<<<6\n"
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def mrz_spans(text: str) -> list[str]:
    return [text[s.start : s.end] for s in scan(text).spans if s.kind == "mrz"]


# --- machine-readable zones -------------------------------------------------------------------
def test_check_digit_follows_7_3_1_weights():
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("<<<<") == "0"


@pytest.mark.parametrize("zone", [TD3, TD2, TD1], ids=["TD3", "TD2", "TD1"])
def test_each_zone_format_is_a_government_id(zone):
    text = f"Please check this scan before I send it:\n{zone}\nthanks"
    report = scan(text)
    assert report.sensitive and "personal" in report.categories
    spans = mrz_spans(text)
    assert len(spans) == 1
    assert zone.splitlines()[1] in spans[0]


@pytest.mark.parametrize(
    ("zone", "position"),
    [(TD3, len(TD3) - 1), (TD3, 45 + 9), (TD3, 45 + 19), (TD3, 45 + 27),  # composite, number,
     (TD2, len(TD2) - 1), (TD2, 37 + 19),  # birth date, expiry; TD2's composite and birth
     (TD1, 31 + 29), (TD1, 14), (TD1, 31 + 14)],  # TD1: composite, number, expiry
)
def test_a_wrong_check_digit_is_not_a_zone(zone, position):
    wrong = str((int(zone[position]) + 1) % 10)
    broken = zone[:position] + wrong + zone[position + 1 :]
    assert mrz_spans(broken) == []


@pytest.mark.parametrize(
    "pasted",
    [TD3.replace("\n", " "), TD3.replace("\n", ""), TD3[:60] + "\n" + TD3[60:],
     TD3.replace("<<<<<<<<<<", "<<<<< <<<<<"), TD1.replace("\n", "  ")],
    ids=["one-line", "run-together", "broken-elsewhere", "spaces-inside", "td1-one-line"],
)
def test_pasted_zones_are_found_despite_spaces_and_line_breaks(pasted):
    assert len(mrz_spans(f"passport: {pasted}")) == 1


def test_text_with_fillers_but_no_zone_is_left_alone():
    text = "Use <<<<<<<<< as padding; HEADER<<NAME<<<<<<<<<<<<<<<<<<<<< is a sample"
    assert mrz_spans(text) == []


# --- hard categories: no exemption for documentation numbers ---------------------------------
@pytest.mark.parametrize(
    "text",
    ["Wire the retainer to this account: DE89 3704 0044 0532 0130 00, reference Hartley.",
     "Charge my card 4242 4242 4242 4242, exp 04/27.",
     "Test with 4111111111111111 in the sandbox."],
)
def test_documentation_numbers_are_sensitive_like_any_valid_number(text):
    assert "financial" in scan(text).categories


def test_hard_categories_are_never_dampened():
    text = "Write a short story: the villain reads out card 4242 4242 4242 4242 (fake, test data)."
    report = scan(text)
    assert "financial" in report.categories


# --- the contextual layer ---------------------------------------------------------------------
CONFIDENCE = ("Our client told us in confidence that he signed the backdated invoices himself. "
              "How should we advise him before the hearing?")


def test_who_what_and_secrecy_together_are_sensitive_and_explained():
    report = scan(CONFIDENCE)
    assert report.sensitive
    situation = report.context
    assert situation is not None and situation.sensitive
    families = {family for family, _ in situation.cues}
    assert {"role", "matter", "secrecy", "stake"} <= families
    assert situation.score >= situation.threshold == DEFAULT_THRESHOLD
    explained = report.explain()
    assert "told in confidence (secrecy)" in explained and "a client (role)" in explained
    assert f">= {DEFAULT_THRESHOLD:.2f}" in explained
    span = next(s for s in report.spans if s.kind == "context")
    assert (span.start, span.end) == (0, len(CONFIDENCE))
    assert span.category in CATEGORIES


@pytest.mark.parametrize(
    "text",
    ["What advice do clients usually need when they make a will?",
     "Salary bands for data engineers in Berlin?",
     "INTERNAL ONLY: the 3rd floor kitchen is closed on Friday.",
     "Explain how a settlement conference works."],
)
def test_one_or_two_weak_cues_stay_below_the_threshold(text):
    report = scan(text)
    assert not report.sensitive, report.explain()
    assert report.context is not None and not report.context.sensitive


@pytest.mark.parametrize(
    "text",
    ["Unser Mandant hat uns im Vertrauen gesagt, dass er die Zahlungen verschwiegen hat. "
     "Wie beraten wir ihn?",
     "Notre cliente nous a confié qu'elle avait détruit les relevés. Quelle stratégie ?",
     "Entre nosotros: el consejo aprobó la adquisición, todavía no es público.",
     "Il nostro cliente ci ha detto in confidenza che ha firmato dopo la scadenza. Che strategia?",
     "Onder ons: de directie wil medewerker Jansen ontslaan, hij weet het nog niet.",
     "O nosso cliente contou-nos em confiança que assinou sem ler. Que estratégia sugerimos?",
     "Między nami: zarząd planuje zwolnienie pracownika, jeszcze nie wie.",
     "ここだけの話ですが、依頼者から和解金は3000万円まで出せると聞いた。",
     "客户私下告诉我们，他们打算在公告前收购一家竞争对手。"],
    ids=["de", "fr", "es", "it", "nl", "pt", "pl", "ja", "zh"],
)
def test_core_cues_in_every_claimed_language(text):
    report = scan(text)
    assert report.sensitive, report.explain()


@pytest.mark.parametrize(
    ("text", "says"),
    [("Write a short story where a lawyer's client confesses in confidence that he hid the "
      "money; the board must not find out before the merger.", "reads as fiction"),
     ("Dear [CLIENT NAME], as our client you told us in confidence that the settlement "
      "figure is ________; we advise you to accept.", "reads as a template with blanks"),
     ("Generate fake test data: employees with made-up names, salaries and a termination "
      "reason, told us in confidence, at example.com.", "reads as made-up test data"),
     ("What is attorney-client privilege, and when does advice from in-house counsel lose "
      "it?", "reads as a general question"),
     ("Reuters reported that the board announced the acquisition of Kellner; summarise the "
      "deal for our client.", "reads as news already public")],
    ids=["fiction", "template", "synthetic", "general", "public"],
)
def test_dampeners_lower_the_score_and_say_why(text, says):
    report = scan(text)
    assert report.context is not None
    assert any(says in line for line in report.context.lowered_by), report.explain()
    assert "lowered: " + says.split(",")[0] in report.explain()
    assert not report.sensitive, report.explain()


def test_the_threshold_decides():
    text = "Our client wants advice on the settlement with Mr. Hartley."
    score = scan(text).context.score
    assert scan(text, context_threshold=score).sensitive
    assert not scan(text, context_threshold=score + 0.01).sensitive


def test_plain_prompts_carry_no_context():
    assert scan("Rewrite this sentence so it sounds friendlier.").context is None


def test_report_json_carries_the_explanation():
    document = scan(CONFIDENCE).to_json()
    assert document["context"]["sensitive"] is True
    assert {"family": "secrecy", "cue": "told in confidence"} in document["context"]["cues"]


# --- the policy's threshold ----------------------------------------------------------------------
def test_policy_reads_the_threshold_with_a_default():
    assert parse_policy_text("", "p.toml").sensitivity.context_threshold == DEFAULT_THRESHOLD
    policy = parse_policy_text("[sensitivity]\ncontext_threshold = 0.8\n", "p.toml")
    assert policy.sensitivity.context_threshold == 0.8


@pytest.mark.parametrize("value", ["0", "-1", "7.5", "\"high\"", "true"])
def test_a_bad_threshold_is_refused_with_its_place(value):
    with pytest.raises(PolicyError, match=r"p\.toml \[sensitivity\].*context_threshold"):
        parse_policy_text(f"[sensitivity]\ncontext_threshold = {value}\n", "p.toml")


def test_router_uses_the_policy_threshold_and_explains(tmp_path):
    from routing.decision import RouteRequest
    from routing.router import POLICY_FILE, Router

    text = "Our client wants advice on the settlement with Mr. Hartley."
    (tmp_path / POLICY_FILE).write_text("[sensitivity]\ncontext_threshold = 3\n",
                                        encoding="utf-8")
    lenient = Router.load(tmp_path).decide(RouteRequest(text=text))
    assert not lenient.sensitive
    (tmp_path / POLICY_FILE).write_text("[sensitivity]\ncontext_threshold = 0.5\n",
                                        encoding="utf-8")
    strict = Router.load(tmp_path).decide(RouteRequest(text=text))
    assert strict.sensitive and strict.target == "local"
    assert any(step.startswith("sensitivity context ") and ">= 0.50" in step
               for step in strict.trace)


# --- the tuning set of situations, as a regression guard ---------------------------------------
def test_context_tuning_set_keeps_its_figures():
    from routing.sensitivity.evaluation import evaluate, read_cases
    from tests.conftest import REPO_ROOT

    cases = read_cases(REPO_ROOT / "tests/data/sensitivity/context_tuning.jsonl")
    result = evaluate(cases)
    assert result["hard"]["missed"] == 0
    assert result["recall"] >= 0.9, [m["text"][:80] for m in result["misses"]]
    assert result["false_positive_rate"] <= 0.1, [f["text"][:80] for f in result["false_positives"]]
    languages = {case.lang for case in cases}
    assert {"en", "de", "fr", "es", "it", "nl", "pt", "pl", "ja", "zh"} <= languages


def test_invented_text_drops_keyword_situations_but_keeps_identifiers():
    outline = ("Outline chapter 3 of my thriller: Dr. Reyes learns her patient's diagnosis was "
               "falsified by the hospital board.")
    report = scan(outline)
    assert not report.sensitive, report.explain()
    assert "lowered: reads as fiction" in report.explain()
    # The same sentence as a note about a real patient is kept local.
    assert scan("Dr. Reyes learned her patient's diagnosis was falsified.").sensitive
    # An identifier in a story is still an identifier.
    assert scan(outline + " Her NHS number is 943 476 5919.").sensitive
