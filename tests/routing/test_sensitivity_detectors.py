"""One group of tests per detector: what it must catch, with the exact text each span covers,
and the look-alikes it must leave alone."""

import pytest

from routing.sensitivity import scan

# Fabricated with tests/data/sensitivity/fabricate.py; split so the source file itself does not
# read as a credential dump to secret scanners.
GITHUB_TOKEN = "ghp_" + "zzgEOzdmenCkhvMdgaKjIg8xNbe3nNyjOq9w"
OPENAI_KEY = "sk-proj-" + "U8po_799NksnRH9ucAUsdMlHUvTCQCyEZDz-TddJ8HyS5SUk"
ANTHROPIC_KEY = "sk-ant-api03-" + "kCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3-YNBDRzrZSgqbjG3uhkWKFLf"
AWS_KEY_ID = "AKIA" + "OGO6MVN6A6WFHYM6"
AWS_SECRET = "w3QlY7Zkuvqdt7s8Stqcbnr3" + "yBdGBLEPH1qhT61q"
SLACK_TOKEN = "xoxb-" + "801412690604-4319829657249-Pjc01T5GOBUSZGi6HWGK10Zb"
GOOGLE_KEY = "AIza" + "DkdfrUnW5gcF_Ha6ili8GjHEAD6-Wj9Kfzj"
STRIPE_KEY = "sk_live_" + "MjvqPVStNKiaEdFrRgSnRFsT"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY_uCu3."
    "ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt-PlJhx2jIclH"
)


def found(text, **kwargs):
    """(category, kind, covered text) for every span; covered text proves the offsets."""
    report = scan(text, **kwargs)
    return {(s.category, s.kind, text[s.start : s.end]) for s in report.spans}


def categories(text, **kwargs):
    return scan(text, **kwargs).categories


# --- privilege -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "legend",
    [
        "PRIVILEGED & CONFIDENTIAL",
        "ATTORNEY-CLIENT PRIVILEGED",
        "ATTORNEY WORK PRODUCT",
        "Prepared at the direction of counsel",
        "Attorneys' Eyes Only",
        "WITHOUT PREJUDICE",
        "subject to NDA",
    ],
)
def test_privilege_legends_are_found_with_exact_span(legend):
    text = f"Summarise this.\n{legend}\nThe client wants to settle."
    assert ("privilege", "legend", legend) in found(text)


def test_confidential_do_not_forward_stamp():
    text = "CONFIDENTIAL — DO NOT FORWARD\nSettlement authority is $2m."
    assert categories(text) == ("privilege",)


def test_legend_split_across_lines_is_found():
    assert categories("ATTORNEY-CLIENT\nPRIVILEGED | memo to the board") == ("privilege",)


@pytest.mark.parametrize(
    "question",
    [
        "What is attorney-client privilege?",
        "Explain the work product doctrine.",
        "What does 'attorneys' eyes only' mean in a protective order?",
        "Can you explain what 'privileged & confidential' on a footer protects?",
        "How do courts decide if a memo was prepared in anticipation of litigation?",
        "How do I add a CONFIDENTIAL watermark in Word?",
        "Explain what --privileged does in docker run.",
    ],
)
def test_talking_about_privilege_is_not_sensitive(question):
    assert not scan(question).sensitive


def test_question_about_a_concrete_document_still_counts():
    assert categories("Is this memo attorney-client privileged?") == ("privilege",)


def test_upper_case_stamp_counts_even_inside_a_question():
    assert categories("Can you summarise the attached? PRIVILEGED & CONFIDENTIAL") == (
        "privilege",
    )


# --- personal --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "covered"),
    [
        ("Mail maria.delgado@northwindbio.com today", "email", "maria.delgado@northwindbio.com"),
        ("Call (312) 496-0147 after six", "phone", "(312) 496-0147"),
        ("Her number: +44 20 7946 0958.", "phone", "+44 20 7946 0958"),
        ("Mobile +91 98765 43210 please", "phone", "+91 98765 43210"),
        ("Ring 020 7946 0321 tomorrow", "phone", "020 7946 0321"),
        ("Ship it to 1187 Larchmont Avenue, please", "address", "1187 Larchmont Avenue"),
        ("Lives at 8 rue des Lilas in Lyon", "address", "8 rue des Lilas"),
        ("Columbus, OH 43215 is the office", "address", "OH 43215"),
        ("Patient DOB: 14/03/1988, seen today", "date_of_birth", "14/03/1988"),
        ("She was born on March 3, 1979 in Dayton", "date_of_birth", "March 3, 1979"),
        ("SSN 123-45-6789 on the form", "us_ssn", "123-45-6789"),
        ("His NI number is AB 12 34 56 C.", "uk_ni", "AB 12 34 56 C"),
        ("SIN: 244-026-852", "ca_sin", "244-026-852"),
        ("Her passport number X4821973 was lost", "passport", "X4821973"),
    ],
)
def test_personal_data_is_found_with_exact_span(text, kind, covered):
    assert ("personal", kind, covered) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Compute (415 * 555) - 0132 and divide by 7.",
        "Simplify: 212 + 555 - 0198 + 7946 - 0321.",
        "Connect to 192.168.1.254 from 10.0.0.15",
        "The meeting is on 2024-03-14 at 10:30.",
        "Born in 1990? List things only 90s kids remember.",
        "Write a regex that matches e-mail addresses",
        "Use jane@example.com and test@foo.test in the fixture",
        "git clone git@github.com:org/repo.git",
        "SSN 666-12-3456 is not a real one",  # area 666 is never issued
        "Match phone numbers like (555) 123-4567",  # exchange may not start with 1
        "Python 3.11.7 and numpy 1.26.4",
    ],
)
def test_personal_look_alikes_are_ignored(text):
    assert "personal" not in categories(text)


def test_bare_nine_digits_need_the_word_for_them():
    assert "personal" not in categories("The GCD of 123456789 and 987654321")
    assert ("personal", "us_ssn", "123456789") in found("SSN: 123456789")


# --- health ----------------------------------------------------------------------------------
def test_medical_record_number_counts_on_its_own():
    assert ("health", "medical_record", "00482913") in found("MRN 00482913, follow-up Tuesday")


def test_npi_needs_valid_check_digit():
    assert ("health", "npi", "1122330792") in found("Referring NPI: 1122330792")
    assert "health" not in categories("Referring NPI: 1122330793")


def test_clinical_context_needs_an_identifiable_person():
    named = "Ms. Evelyn Shaw was prescribed oxycodone 10 mg after the collision."
    assert "health" in categories(named)
    assert ("health", "clinical_context", "prescribed") in found(named)
    assert not scan("What are the side effects of metformin 500 mg?").sensitive
    assert not scan("A 54-year-old presents with chest pain; what is the workup?").sensitive


def test_icd10_code_counts_only_with_a_patient():
    text = "Patient: Maria Gonzalez\nDx: type 2 diabetes (E11.9), continue metformin."
    assert ("health", "icd10", "E11.9") in found(text)
    assert not scan("What does ICD-10 code E11.9 mean?").sensitive


def test_explaining_hipaa_is_not_sensitive():
    assert not scan("Explain HIPAA's minimum necessary rule.").sensitive


# --- financial -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "covered"),
    [
        ("Card 4260 1815 9083 0167 exp 08/27", "payment_card", "4260 1815 9083 0167"),
        ("Card 4260181590830167 was declined", "payment_card", "4260181590830167"),
        ("Amex 3713-186091-39099 charged twice", "payment_card", "3713-186091-39099"),
        ("Card 4260 1815 9083 0167 123 (cvv)", "payment_card", "4260 1815 9083 0167"),
        ("IBAN: DE32 8657 9754 3231 9487 57", "iban", "DE32 8657 9754 3231 9487 57"),
        ("pay GB50JTCD86252760189555 EUR", "iban", "GB50JTCD86252760189555"),
        ("ABA routing number: 681276842", "aba_routing", "681276842"),
        ("Account number: 004417729381", "account_number", "004417729381"),
        ("sort code 20-45-77 account 43981276", "sort_code", "20-45-77"),
    ],
)
def test_financial_identifiers_are_found_with_exact_span(text, kind, covered):
    assert ("financial", kind, covered) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Order number 4821993518190932 has not shipped",  # fails Luhn
        "Serial 2211-8834-5567-9021 on the router",  # no card brand, fails Luhn
        "Cite ISBN 978-0-13-468599-1 in APA",
        "IBAN DE98974650752917034236 fails validation",  # bad check digits
        "Is 096846560 a valid routing number?",  # fails 3-7-1
        "The checksum of 681276842 is interesting",  # valid ABA, but no banking word
    ],
)
def test_numbers_failing_their_checksum_or_context_are_ignored(text):
    assert "financial" not in categories(text)


# --- secrets ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (OPENAI_KEY, "openai_key"),
        (ANTHROPIC_KEY, "anthropic_key"),
        (AWS_KEY_ID, "aws_access_key_id"),
        (GITHUB_TOKEN, "github_token"),
        (SLACK_TOKEN, "slack_token"),
        (GOOGLE_KEY, "google_api_key"),
        (STRIPE_KEY, "stripe_key"),
        (JWT, "jwt"),
    ],
)
def test_provider_tokens_are_found_with_exact_span(token, kind):
    assert ("secret", kind, token) in found(f'client = Client(api_key="{token}")\n')


def test_aws_secret_access_key_in_credentials_file():
    text = f"[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n"
    assert ("secret", "aws_secret_key", AWS_SECRET) in found(text)


def test_pem_private_key_span_runs_to_its_end_line():
    # A header counts only with key material after it (40 base64 characters or more).
    body = "MIIEowIBAAKCAQEA" + "q7Xw2Lm9Rt4Vz8Kp3Nd6Hs1Jf5Gb0Yc2Ue7Wa4Qx"
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    assert ("secret", "private_key", key) in found(f"fix this:\n{key}\nthanks")
    public = "-----BEGIN PUBLIC KEY-----\nMIIBIj\n-----END PUBLIC KEY-----"
    assert not scan(public).sensitive


@pytest.mark.parametrize(
    ("text", "password"),
    [
        ('create_engine("postgresql://app:Xk9#vLq2@db.lan:5432/orders")', "Xk9#vLq2"),
        ("MYSQL_ROOT_PASSWORD: Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("DB_PASSWORD=hunter22", "hunter22"),
        ('"password": "correct-horse-9"', "correct-horse-9"),
        ('server.login("reports@firm.com", "Wint3r!!")', "Wint3r!!"),
    ],
)
def test_passwords_in_code_and_config(text, password):
    assert any(c == "secret" and covered == password for c, _, covered in found(text))


@pytest.mark.parametrize(
    "text",
    [
        "connect with postgres://user:password@localhost:5432/mydb",
        'db_password = os.environ["DB_PASSWORD"]',
        "password: ${{ secrets.REGISTRY_PASSWORD }}",
        "password: str = Field(..., env='APP_PASSWORD')",
        "export OPENAI_API_KEY=sk-your-key-here",
        "Keys look like AKIAIOSFODNN7EXAMPLE in the AWS docs",
        "token = tokenizer.encode(text)",
        "mask keys as sk-****abcd",
        "What's the safest way to hash passwords?",
        "sk-" + "x" * 30,
    ],
)
def test_secret_look_alikes_are_ignored(text):
    assert "secret" not in categories(text)


def test_token_inside_a_longer_identifier_is_ignored():
    assert "secret" not in categories("x" + GITHUB_TOKEN + "y")


# --- mnpi ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Q3 revenue beat consensus by 18% - this is not yet public.",
        "We're in merger talks with Halcyon Freight.",
        "The FDA approval is under embargo until 9am Monday.",
        "Draft the memo before the announcement goes out.",
        "I'm an insider and the takeover offer lands Monday.",
    ],
)
def test_mnpi_cues(text):
    assert categories(text) == ("mnpi",)


@pytest.mark.parametrize(
    "text",
    [
        "What counts as material non-public information?",
        "Is it insider trading to buy after reading merger rumours in the FT?",
        "Cuba has been under a US trade embargo since 1962.",
        "How do I become an insider threat analyst?",
        "Apple's earnings were announced publicly last week; summarise them.",
    ],
)
def test_mnpi_discussion_is_not_sensitive(text):
    assert not scan(text).sensitive


# --- custom terms ----------------------------------------------------------------------------
def test_custom_terms_are_whole_word_and_case_insensitive():
    text = "HARROW's reply is due; the film was harrowing."
    assert found(text, custom_terms=["Harrow"]) == {("custom", "user_term", "HARROW")}


def test_custom_terms_match_across_line_breaks_and_prefer_the_longest():
    text = "Update on Kestrel\nAerospace and Kestrel."
    spans = found(text, custom_terms=["Kestrel", "Kestrel Aerospace"])
    assert ("custom", "user_term", "Kestrel\nAerospace") in spans
    assert ("custom", "user_term", "Kestrel") in spans


@pytest.mark.parametrize(
    ("term", "text", "covered"),
    [
        ("Müller-Straße", "Timeline for the MÜLLER-STRASSE deal", None),  # no full case folding
        ("Müller-Straße", "Timeline for the müller-straße deal", "müller-straße"),
        ("Ōkami", "Zoë from the ŌKAMI team", "ŌKAMI"),
        ("北斗", "北斗项目的启动会议", "北斗"),
        ("C++", "Port the C++ module", "C++"),
        ("2024-0173", "matter 2024-0173 closes", "2024-0173"),
    ],
)
def test_custom_terms_unicode(term, text, covered):
    spans = found(text, custom_terms=[term])
    if covered is None:
        assert not spans
    else:
        assert ("custom", "user_term", covered) in spans


def test_empty_and_blank_custom_terms_are_ignored():
    assert not scan("nothing to see", custom_terms=["", "  "]).sensitive


def test_custom_terms_must_be_a_sequence_not_a_string():
    with pytest.raises(TypeError):
        scan("text", custom_terms="Harrow")
