"""Material non-public information cues: deal talks, embargoes, results before release.

These are phrases, not identifiers, so each one is ignored inside a general question
("what counts as material non-public information?"); see text.is_discussion.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import contains_any, is_discussion, sentence_around

_CUES = re.compile(
    r"\bnot\s+yet\s+(?:been\s+)?(?:made\s+)?public\b"
    r"|\b(?:isn't|is\s+not|aren't|are\s+not|not)\s+public\s+yet\b"
    r"|\b(?:hasn't|has\s+not|haven't|have\s+not)\s+been\s+(?:made\s+public|announced)\b"
    r"|\bmaterial(?:ly)?,?\s+(?:and\s+)?non-?public\b"
    r"|\bnon-?public\s+(?:until|information|figures|numbers|results|financials)\b"
    r"|\bmnpi\b"
    r"|\b(?:before|ahead\s+of|prior\s+to)\s+(?:the\s+|our\s+|its\s+|their\s+)?(?:public\s+)?"
    r"announcement\b"
    r"|\b(?:earnings|results|numbers)\s+ahead\s+of\s+(?:the\s+)?release\b"
    r"|\b(?:unreleased|preliminary)\s+(?:unaudited\s+)?(?:q[1-4]\s+|fy\s+)?"
    r"(?:earnings|results|numbers|figures)\b"
    r"|\b(?:merger|acquisition|takeover|buyout|deal)\s+talks\b"
    r"|\bunder\s+embargo\s+until\b"
    r"|\bembargoed\s+(?:until|till)\b"
    r"|\b(?:don't|do\s+not)\s+trade\b"
    # Not yet told to the market, in its many wordings: "it's not been announced", "we haven't
    # disclosed it yet", "hasn't been disclosed to the market", "nothing public yet". A bare
    # "were not disclosed" is left out: news reports say it of deal terms that stay private.
    r"|\bnot\s+(?:yet\s+)?been\s+(?:publicly\s+)?(?:announced|disclosed|made\s+public)\b"
    r"|\bnot\s+yet\s+(?:publicly\s+)?(?:announced|disclosed)\b"
    r"|\b(?:haven't|hasn't|have\s+not|has\s+not)\s+(?:yet\s+)?(?:publicly\s+)?"
    r"(?:disclosed|announced)\s+(?:it|this|that|them|anything)\s+yet\b"
    r"|\b(?:disclosed|announced)\s+to\s+the\s+(?:market|street|public|press)\s+yet\b"
    r"|\bnothing(?:'s|\s+is|\s+has\s+been)?\s+(?:public|announced|disclosed|official)\s+yet\b"
    r"|\b(?:won't|will\s+not|isn't|is\s+not|can't|cannot)\s+(?:going\s+to\s+)?be\s+"
    r"(?:announced|disclosed|made\s+public|public|released)\s+(?:until|till|before)\b"
    # Press-release and slide stamps: "NOT FOR RELEASE UNTIL 7:00 AM", "pre-announcement".
    r"|\bnot\s+for\s+(?:public\s+)?(?:release|distribution|publication)\s+(?:until|before)\b"
    r"|\bpre-?announcement\b"
    r"|\bbefore\s+(?:the\s+)?(?:market|street|public|press)\s+"
    r"(?:hears|knows|finds\s+out|learns|gets\s+wind)\b"
    r"|\bbefore\s+(?:it|this|the\s+news|anything)\s+(?:goes|becomes|is\s+made|gets)\s+public\b"
)

_INSIDER = re.compile(r"\binsiders?\b")
_DEAL_WORDS = re.compile(
    r"\b(?:merger|acquisition|acquire[ds]?|takeover|buyout|tender\s+offer|deal|earnings|"
    r"guidance|spin-?off|ipo)\b"
)

# "we haven't disclosed it yet — what's the timeline for the 8-K?" asks about the speaker's own
# undisclosed news, so a cue right after "we" or "I" counts even inside a question.
_FIRST_PERSON = re.compile(r"\b(?:we|i)\s+$")

# An announcement still to come is MNPI when what it announces moves a share price: "the
# dividend cut is going to be announced with Q4 results", "the company will announce on Monday
# that the CEO is stepping down", "announcement planned for next Wednesday" (a takeover).
# Results and earnings are left out of the event words: their dates are published in advance.
_SCHEDULED = re.compile(
    r"\b(?:will|shall|'ll|to|going\s+to|set\s+to|due\s+to)\s+(?:be\s+)?announc(?:e|ed)\b"
    r"|\bannouncement\s+(?:is\s+|was\s+)?(?:planned|scheduled|expected|due|set|slated)\s+"
    r"(?:for|on)\b"
)
_MATERIAL_EVENT = re.compile(
    r"\b(?:merger|acquisition|acquir\w*|takeover|buyout|tender\s+offer|offer\s+price|"
    r"per\s+share|dividend|buyback|restat\w*|layoffs?|redundanc\w*|job\s+cuts|"
    r"plant\s+clos\w*|ceo|cfo|chief\s+(?:executive|financial)\s+officer|stepping\s+down|"
    r"step\s+down|resign\w*|profit\s+warning|guidance|write-?down|impairment|bankruptcy|"
    r"chapter\s+11|insolven\w*|recall|spin-?off|ipo|divest\w*)\b"
)
# A handful of people hold it: "until then only the board knows".
_FEW_KNOW = re.compile(
    r"\bonly\s+(?:the\s+|a\s+)?(?:board|directors|execs?|executives|management|deal\s+team|"
    r"leadership(?:\s+team)?|c-suite|insiders|(?:few|handful)(?:\s+of\s+(?:us|people))?)\s+"
    r"(?:knows?|is\s+aware|are\s+aware|have\s+been\s+told)\b"
    r"(?!\s+(?:how|why|whether)\b)"  # "only the board knows how to ..." is about a procedure
)

# Every cue above contains one of these; texts without any skip the regex pass.
_NEEDLES = (
    "public", "announc", "release", "preliminary", "talks", "embargo", "trade", "mnpi", "disclos",
    "before the ", "before market",
)  # fmt: skip


def find(text: str, folded: str, found: list[Span]) -> None:
    """Append mnpi spans to found."""
    if contains_any(folded, _NEEDLES):
        _cues(folded, found)
    if "insider" in folded:
        _insiders(folded, found)
    if "announc" in folded:
        _scheduled(folded, found)
    if "only " in folded and ("know" in folded or "aware" in folded or "told" in folded):
        _cues_of(_FEW_KNOW, folded, found)


def _cues(folded: str, found: list[Span]) -> None:
    _cues_of(_CUES, folded, found)


def _cues_of(pattern: re.Pattern[str], folded: str, found: list[Span]) -> None:
    for match in pattern.finditer(folded):
        start = match.start()
        if _FIRST_PERSON.search(folded, max(0, start - 6), start) or not is_discussion(
            folded, start, match.end()
        ):
            found.append(Span(start, match.end(), "mnpi", "cue"))


def _scheduled(folded: str, found: list[Span]) -> None:
    for match in _SCHEDULED.finditer(folded):
        begin, stop, _ = sentence_around(folded, match.start(), match.end())
        if _MATERIAL_EVENT.search(folded, begin, stop) and not is_discussion(
            folded, match.start(), match.end()
        ):
            found.append(Span(match.start(), match.end(), "mnpi", "scheduled_announcement"))


def _insiders(folded: str, found: list[Span]) -> None:
    # "insider" alone is a job title or a threat model; with a deal in the same sentence it is
    # someone holding information the market does not have.
    for match in _INSIDER.finditer(folded):
        begin, stop, _ = sentence_around(folded, match.start(), match.end())
        if _DEAL_WORDS.search(folded, begin, stop) and not is_discussion(
            folded, match.start(), match.end()
        ):
            found.append(Span(match.start(), match.end(), "mnpi", "insider"))
