"""Wider families of phrasings and formats, added after a blind test set showed the first
detectors caught mostly the wordings their author thought of. Each family has positives in
several wordings and the near misses it must leave alone."""

import pytest

from routing.sensitivity import scan


def categories(text, **kwargs):
    return scan(text, **kwargs).categories


# --- mnpi: not yet told to the market --------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "The restructuring has not been announced yet; draft the staff memo.",
        "It's not been announced and won't be until after the vote.",
        "We haven't disclosed it yet, so keep the board pack tight.",
        "The customer loss hasn't been disclosed to the market yet.",
        "Nothing is public yet, codename Bluebird.",
        "The deal won't be announced until the 14th.",
        "The results will not be made public before Friday.",
        "EMBARGOED - NOT FOR RELEASE UNTIL 7:00 AM ET",
        "Preliminary unaudited figures (pre-announcement): revenue $1.8bn.",
        "Before the market hears about it, outline the restatement plan.",
        "Summarise this before it goes public next week.",
        "we haven't disclosed it yet - what's the timeline for the 8-K?",
    ],
)
def test_mnpi_not_yet_public_wordings(text):
    assert "mnpi" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "The dividend cut is going to be announced with Q4 results on Feb 6.",
        "The company will announce on Monday that the CEO is stepping down.",
        "Offer price 182p per share, announcement planned for next Wednesday.",
        "Until then only the board knows.",
        "Only a handful of us are aware of the layoffs.",
    ],
)
def test_mnpi_announcements_to_come_and_few_who_know(text):
    assert "mnpi" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Microsoft acquired the studio; terms were not disclosed.",
        "Apple will announce its Q4 results on October 30. Summarise analyst expectations.",
        "Write an announcement for our product launch next Tuesday.",
        "Draft an email announcing the new holiday calendar.",
        "What typically happens to a share price when a takeover is announced?",
        "Has the release date of the game not been announced yet?",
        "Write a generic template for a press release embargo notice.",
        "Only the board knows how to approve this budget line.",
        "Before the meeting starts, list three icebreakers.",
        "Only the manager knows the Wi-Fi name.",
    ],
)
def test_mnpi_near_misses_are_ignored(text):
    assert "mnpi" not in categories(text)


# --- privilege: other legends, headings and languages ----------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Legally Privileged – Subject to Legal Advice Privilege\nPrepared for the Board.",
        "Confidential — subject to solicitor-client privilege. We advise that ...",
        "This note is protected by legal professional privilege.",
        "Covered by litigation privilege: draft expert instructions.",
        "Subject: Without prejudice – proposal to resolve",
        "On a without prejudice basis, our client would withdraw the grievance.",
        "WITHOUT PREJUDICE SAVE AS TO COSTS",
        "Without Prejudice Save As To Costs\nDear Sirs,",
        "« Confidentiel – couvert par le secret professionnel de l'avocat. »",
        "Confidentiel et privilégié : note au client.",
        "Vertraulich – unterliegt dem Anwaltsgeheimnis.",
        "Anwaltliche Korrespondenz, bitte nicht weiterleiten.",
        "Confidencial y privilegiado: comunicación del abogado.",
        "Protegido por el secreto profesional del abogado.",
        "Riservato e confidenziale – segreto professionale dell'avvocato.",
    ],
)
def test_privilege_legends_in_other_forms_and_languages(text):
    assert "privilege" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "In English law, does marking a letter 'Without Prejudice' make it inadmissible?",
        "Is the phrase 'subject to contract' the same as 'without prejudice'?",
        "What is legal advice privilege and how does it differ from litigation privilege?",
        "Explain when solicitor-client privilege is waived.",
        "The dismissal was without prejudice to a later claim, the court said.",
        "Qu'est-ce que le secret professionnel de l'avocat ?",
        "Write a blog intro on mixing business and legal advice in one email.",
        "My doctor is bound by professional secrecy, right?",
    ],
)
def test_privilege_talk_and_prose_are_ignored(text):
    assert "privilege" not in categories(text)


# --- secrets: connection strings, webhooks, client calls, spoken passwords --------------------
# Fabricated values, split so this file does not read as a credential dump to secret scanners.
AZURE_KEY = "NrtUvOA0lKSvNdc6QfBVtZOa/LBLRcPu197mDe8WDphQ" + "IQcEZ6aT5fi/X4j1hqrBtmWnffhm3gJ=="
SLACK_HOOK = "T5SGTINLKPJ/BO871JFUNK6/" + "kVGuBsXJ6dfVw75x5ElzLiIW"
DISCORD_HOOK = "112233445566778899/" + "q9Zr-Kx3vB7mN2pL8sT4wY6eU1iO5aDf0gHj"


def secrets_in(text):
    return {text[s.start : s.end] for s in scan(text).spans if s.category == "secret"}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('db:\n  password: "p@ss:w0rd{2026}Qx"\n', "p@ss:w0rd{2026}Qx"),
        (f"AccountName=prod;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net", AZURE_KEY),
        (f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey={AZURE_KEY}", AZURE_KEY),
        (f"POST to https://hooks.slack.com/services/{SLACK_HOOK} fails", SLACK_HOOK),
        (f"https://discord.com/api/webhooks/{DISCORD_HOOK}", DISCORD_HOOK),
        (
            'client = Client("AC5d7b62819d0edf2a11f04e1836966304",\n'
            '                "f97128954986bcea91a974868518a8c3")',
            "f97128954986bcea91a974868518a8c3",
        ),
        ("my wifi password is Clementine!Harbour42 and", "Clementine!Harbour42"),
        ("The password for the router is Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("our vpn passphrase is 7-correct-horse-battery", "7-correct-horse-battery"),
    ],
)
def test_secret_families_with_exact_span(text, secret):
    assert secret in secrets_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "password: ${DB_PASSWORD}",
        "password: '{{ secrets.DB_PASSWORD }}'",
        "password: {password}",
        "AccountKey=<your-account-key>;EndpointSuffix=core.windows.net",
        "Post to https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX per the docs.",
        'client = Client(os.environ["TWILIO_SID"], os.environ["TWILIO_TOKEN"])',
        'conn = connect("localhost", "application-name")',
        "the wifi password is wrong again",
        "my password is too short, what should I pick?",
        "Why does Slack say my incoming webhook URL is invalid?",
    ],
)
def test_secret_family_look_alikes_are_ignored(text):
    assert "secret" not in categories(text)


# --- health: Medicare identifiers, disclosures about someone named ---------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Medicare MBI for the patient is 4TQ7-HM2-RK58, please file it.",
        "MBI: 1EG4TE5MK73",
        "Medicare number 2AC9-DE3-FG45 on the claim.",
    ],
)
def test_medicare_beneficiary_identifier_counts_on_its_own(text):
    assert "health" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "One of our members, Nadia Flores, had a relapse and attempted self-harm last week.",
        "My colleague Priya Shah is off on sick leave after a stroke.",
        "Ms Moretti's medical records show she was signed off with work-related stress.",
        "Name Walter Brennan, 81. He's on dialysis three times a week.",
        "my brother Tom Walsh was diagnosed with epilepsy.",
    ],
)
def test_clinical_disclosure_about_a_named_person(text):
    assert "health" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "MBI format: what do the 11 characters of a Medicare number mean?",
        "Medicare Part B covers dialysis; explain the rules.",
        "What are early warning signs of relapse in addiction recovery?",
        "How do support groups respond when a member discloses self-harm?",
        "Members, please read the mental health policy before Friday.",
        "Order ref 1EG4TE5MK73 shipped today.",
    ],
)
def test_health_near_misses_are_ignored(text):
    assert "health" not in categories(text)


# --- financial: card groups separated by dots ------------------------------------------------
def test_card_number_grouped_with_dots():
    text = "my card number 4134.1163.3973.5925 leaked"
    assert {(s.category, text[s.start : s.end]) for s in scan(text).spans} == {
        ("financial", "4134.1163.3973.5925")
    }


@pytest.mark.parametrize(
    "text",
    [
        "Upgrade from 4134.1163.3973.5926 to the next build.",  # fails Luhn
        "Mixed separators 4134.1163-3973.5925 are not a printed card.",
        "Test card 4242.4242.4242.4243 from the docs.",  # fails Luhn
    ],
)
def test_dotted_number_look_alikes_are_ignored(text):
    assert "financial" not in categories(text)


# --- personal: identifiers in a table column --------------------------------------------------
def test_passport_numbers_in_a_table_column():
    text = (
        "| Name | Passport No. | Nationality |\n"
        "| Ingrid Solheim | 31829475 | NOR |\n"
        "| Rahul Mehta | Z4918273 | IND |\n"
        "| Chloé Marchand | 19FV38261 | FRA |"
    )
    covered = {text[s.start : s.end] for s in scan(text).spans if s.kind == "id_in_table"}
    assert covered == {"31829475", "Z4918273", "19FV38261"}


def test_tab_separated_ssn_column():
    text = "name\tssn\tteam\nAna Ruiz\t123-45-6789\tops\nBo Chen\t987 65 4320\tops"
    covered = {text[s.start : s.end] for s in scan(text).spans if s.category == "personal"}
    assert {"123-45-6789", "987 65 4320"} <= covered


@pytest.mark.parametrize(
    "text",
    [
        "| Name | Passport No. |\n| Ana Ruiz | pending |\n| Bo Chen | XXXXXXXX |",
        "| Name | Passport expiry |\n| Ana Ruiz | 2031 |",
        "| Item | Qty | Price |\n| Passport cover | 12345 | 9.99 |",
        "Passport photos, sizes, prices\n35x45 mm, 2 photos, 12.50",
    ],
)
def test_table_cells_that_are_not_identifiers_are_ignored(text):
    assert "personal" not in categories(text)


# --- the new patterns stay linear ------------------------------------------------------------
@pytest.mark.parametrize(
    "hostile",
    [
        "my password is " * 20_000,
        "my wifi router password for the " * 10_000,
        "subject to legal advice privilege " * 10_000,
        "will be announced " * 20_000,
        "not been " * 30_000,
        "only the board " * 20_000,
        "my colleague " * 30_000,
        "| passport | ssn |\n" * 20_000,
        "|\n" * 100_000 + "| passport |\n" + "| 12345678 |\n" * 20_000,
        'client("a1b2c3d4e5f6g7h8", "' * 10_000,
        "hooks.slack.com/services/" * 10_000,
        "AccountKey=" * 30_000,
        "Medicare MBI " * 20_000,
        "é secret professionnel " * 20_000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_new_patterns_finish_on_pathological_input(hostile):
    assert scan(hostile) is not None
