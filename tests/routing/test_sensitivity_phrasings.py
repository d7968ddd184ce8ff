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
