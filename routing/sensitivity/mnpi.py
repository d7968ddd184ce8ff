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
    r"|\b(?:unreleased|preliminary)\s+(?:q[1-4]\s+)?(?:earnings|results|numbers|figures)\b"
    r"|\b(?:merger|acquisition|takeover|buyout|deal)\s+talks\b"
    r"|\bunder\s+embargo\s+until\b"
    r"|\bembargoed\s+(?:until|till)\b"
    r"|\b(?:don't|do\s+not)\s+trade\b"
)

_INSIDER = re.compile(r"\binsiders?\b")
_DEAL_WORDS = re.compile(
    r"\b(?:merger|acquisition|acquire[ds]?|takeover|buyout|tender\s+offer|deal|earnings|"
    r"guidance|spin-?off|ipo)\b"
)


# Every cue above contains one of these; texts without any skip the regex pass.
_NEEDLES = ("public", "announc", "release", "preliminary", "talks", "embargo", "trade", "mnpi")


def find(text: str, folded: str, found: list[Span]) -> None:
    """Append mnpi spans to found."""
    if contains_any(folded, _NEEDLES):
        _cues(folded, found)
    if "insider" in folded:
        _insiders(folded, found)


def _cues(folded: str, found: list[Span]) -> None:
    for match in _CUES.finditer(folded):
        if not is_discussion(folded, match.start(), match.end()):
            found.append(Span(match.start(), match.end(), "mnpi", "cue"))


def _insiders(folded: str, found: list[Span]) -> None:
    # "insider" alone is a job title or a threat model; with a deal in the same sentence it is
    # someone holding information the market does not have.
    for match in _INSIDER.finditer(folded):
        begin, stop, _ = sentence_around(folded, match.start(), match.end())
        if _DEAL_WORDS.search(folded, begin, stop) and not is_discussion(
            folded, match.start(), match.end()
        ):
            found.append(Span(match.start(), match.end(), "mnpi", "insider"))
