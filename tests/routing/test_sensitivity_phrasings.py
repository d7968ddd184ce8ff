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
