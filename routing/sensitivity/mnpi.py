"""Material non-public information cues: deal talks, embargoes, results before release.

These are phrases, not identifiers, so each one is ignored inside a general question
("what counts as material non-public information?"); see text.is_discussion.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import (
    GATES,
    by_first_letter,
    is_discussion,
    sentence_around,
)

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
)
# Searched only in texts that also have one of _NOT_YET_NEEDLES, so the common cues above stay
# one short pattern (an alternation is tried branch by branch at every candidate).
# No \b before the branches: a pattern that starts with letters lets the engine skip to
# candidates (see text.py); a match inside a longer word is refused in _cues_of.
_NOT_YET = re.compile(
    # Not yet told to the market, in its many wordings: "it's not been announced", "we haven't
    # disclosed it yet", "hasn't been disclosed to the market", "nothing public yet". A bare
    # "were not disclosed" is left out: news reports say it of deal terms that stay private.
    r"not\s+(?:yet\s+)?been\s+(?:publicly\s+)?(?:announced|disclosed|made\s+public)\b"
    r"|not\s+yet\s+(?:publicly\s+)?(?:announced|disclosed)\b"
    r"|(?:haven't|hasn't|have\s+not|has\s+not)\s+(?:yet\s+)?(?:publicly\s+)?"
    r"(?:disclosed|announced)\s+(?:it|this|that|them|anything)\s+yet\b"
    r"|(?:disclosed|announced)\s+to\s+the\s+(?:market|street|public|press)\s+yet\b"
    r"|nothing(?:'s|\s+is|\s+has\s+been)?\s+(?:public|announced|disclosed|official)\s+yet\b"
    r"|(?:won't|will\s+not|isn't|is\s+not|can't|cannot)\s+(?:going\s+to\s+)?be\s+"
    r"(?:announced|disclosed|made\s+public|public|released|filed|published)\s+"
    r"(?:until|till|before)\b"
    # Press-release and slide stamps: "NOT FOR RELEASE UNTIL 7:00 AM", "pre-announcement".
    r"|not\s+for\s+(?:public\s+)?(?:release|distribution|publication)\s+(?:until|before)\b"
    r"|pre-?announcement\b"
)
_NOT_YET_WORD = GATES.any_of(
    " yet", "until", "till", "not be", "n't be", "not for", "pre-announ", "preannoun", "been ",
)  # fmt: skip
# Starts with its literal, so the engine skips straight to each "before".
_BEFORE_THE_MARKET = re.compile(
    r"before\s+(?:the\s+)?(?:market|street|public|press)\s+"
    r"(?:hears|knows|finds\s+out|learns|gets\s+wind)\b"
    r"|before\s+(?:it|this|the\s+news|anything)\s+(?:goes|becomes|is\s+made|gets)\s+public\b"
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
# Found from the literal "announc", then checked around it: "to" and "will" are too common to
# start a search with.
_ANNOUNCE = re.compile(r"announc(?:e|ed|ement)\b")
_FUTURE_BEFORE = re.compile(r"\b(?:will|shall|'ll|to|going\s+to|set\s+to|due\s+to)\s+(?:be\s+)?$")
_FUTURE_AFTER = re.compile(
    r"\s+(?:is\s+|was\s+)?(?:planned|scheduled|expected|due|set|slated)\s+(?:for|on)\b"
)
_FUTURE_REACH = 20
_MATERIAL_EVENT = re.compile(
    r"\b(?:merger|acquisition|acquir\w*|takeover|buyout|tender\s+offer|offer\s+price|"
    r"per\s+share|dividend|buyback|restat\w*|layoffs?|redundanc\w*|job\s+cuts|"
    r"plant\s+clos\w*|ceo|cfo|chief\s+(?:executive|financial)\s+officer|stepping\s+down|"
    r"step\s+down|resign\w*|profit\s+warning|guidance|write-?down|impairment|bankruptcy|"
    r"chapter\s+11|insolven\w*|recall|spin-?off|ipo|divest\w*)\b"
)
# A handful of people hold it: "until then only the board knows".
_FEW_KNOW = re.compile(
    r"only\s+(?:the\s+|a\s+)?(?:board|directors|execs?|executives|management|deal\s+team|"
    r"leadership(?:\s+team)?|c-suite|insiders|(?:few|handful)(?:\s+of\s+(?:us|people))?)\s+"
    r"(?:knows?|is\s+aware|are\s+aware|have\s+been\s+told)\b"
    r"(?!\s+(?:how|why|whether)\b)"  # "only the board knows how to ..." is about a procedure
)

# Every cue above contains one of these; texts without any skip the regex pass.
_CUE_WORD = GATES.any_of(
    "public", "announc", "release", "preliminary", "talks", "embargo", "trade", "mnpi", "disclos",
)  # fmt: skip
_ANNOUNC = GATES.any_of("announc")
_BEFORE = GATES.any_of("before ")
_INSIDER_WORD = GATES.any_of("insider")
_ONLY = GATES.any_of("only ")
_KNOWING = GATES.any_of("know", "aware", "told")


# Fourth round: cues that need no event, found from their words (see text.GATES.words): over the
# wall (market soundings, insider lists), the market not told yet, embargoes in German, French,
# Spanish and Italian.
_MORE_CUES = re.compile(
    by_first_letter(
        (
            r"insider\s*-?\s*lists?", r"insiderliste\w*", r"insiderinformation\w*",
            r"wall[-\s]crossed", r"wall[-\s]crossing", r"over\s+the\s+wall",
            r"market\s+sounding", r"liste\s+d['’]initiés", r"information\s+privilégiée",
            r"sperrfrist", r"unter\s+embargo", r"sous\s+embargo", r"bajo\s+embargo",
            r"sotto\s+embargo", r"embargo\s+(?:jusqu|hasta|fino|bis)\b",
            r"constitutes\s+inside\s+information", r"contains\s+inside\s+information",
            r"is\s+inside\s+information",
            r"haven['’]t\s+(?:yet\s+)?told\s+the\s+(?:market|street|exchange|public)",
            r"have\s+not\s+(?:yet\s+)?told\s+the\s+(?:market|street|exchange|public)",
            r"before\s+(?:it['’]s|it\s+is|this\s+is)\s+(?:public|announced|out)\b",
            r"noch\s+nicht\s+(?:öffentlich|veröffentlicht|bekannt\s?gegeben|bekanntgemacht)",
            r"pas\s+encore\s+(?:été\s+)?(?:public|publique|annoncée?|rendue?\s+publique?)\b",
            r"todavía\s+no\s+(?:es\s+)?(?:público|pública|anunciad[oa])",
            r"non\s+ancora\s+(?:pubblic\w*|annunciat\w*)",
        )
    )
)
# Fifth round: inside information named as such in Spanish, Portuguese, Italian, French and
# Dutch; price-sensitive stamps; "not public" in Dutch. Behind words of their own.
_INSIDE_INFORMATION = re.compile(
    r"informaci[oó]n\s+privilegiada|informa[cç][aã]o\s+privilegiada"
    r"|informazion[ei]\s+privilegiat[ae]|informations\s+privil[ée]gi[ée]es"
    r"|koersgevoelig\w*|voorwetenschap|kursrelevant\w*"
    r"|price[-\s]sensitive\s+(?:information|announcement|news|results|data|matters?)"
    r"|(?:nog\s+)?niet\s+(?:openbaar|bekendgemaakt)\b"
)
_INSIDE_INFORMATION_WORD = GATES.any_of(
    "privilegiad", "privilegiat", "privilégiées", "privilegiees", "koersgevoelig",
    "voorwetenschap", "kursrelevant", "sensitive info", "sensitive ann", "sensitive news",
    "sensitive res", "sensitive data", "sensitive matter", "niet openbaar", "niet bekend",
)  # fmt: skip
_MORE_CUE_WORDS = GATES.words(
        "insider", "insiders", "insiderliste", "insiderinformation", "insiderinformationen",
        "wall-crossed", "wall", "sounding", "initiés", "privilégiée", "sperrfrist", "embargo",
        "inside", "told", "before", "noch", "encore", "todavía", "ancora", "wall-crossing",
        "wall-crossings",
)  # fmt: skip


def find(folded: str, found: list[Span], gates: int) -> None:
    """Append mnpi spans to found; gates:
    text.GATES.present(folded)."""
    if gates & _MORE_CUE_WORDS:
        _cues_of(_MORE_CUES, folded, found)
    if gates & _INSIDE_INFORMATION_WORD:
        _cues_of(_INSIDE_INFORMATION, folded, found)
    if gates & _CUE_WORD:
        _cues(folded, found)
        if gates & _NOT_YET_WORD:
            _cues_of(_NOT_YET, folded, found)
        if gates & _ANNOUNC:
            _scheduled(folded, found)
    if gates & _BEFORE:
        _cues_of(_BEFORE_THE_MARKET, folded, found)
    if gates & _INSIDER_WORD:
        _insiders(folded, found)
    if gates & _ONLY and gates & _KNOWING:
        _cues_of(_FEW_KNOW, folded, found)


def _cues(folded: str, found: list[Span]) -> None:
    _cues_of(_CUES, folded, found)


def _cues_of(pattern: re.Pattern[str], folded: str, found: list[Span]) -> None:
    for match in pattern.finditer(folded):
        start = match.start()
        if start and folded[start - 1].isalnum():
            continue  # inside a longer word ("cannot", "bonly"): the boundary is checked here
        if _FIRST_PERSON.search(folded, max(0, start - 6), start) or not is_discussion(
            folded, start, match.end()
        ):
            found.append(Span(start, match.end(), "mnpi", "cue"))


def _scheduled(folded: str, found: list[Span]) -> None:
    for match in _ANNOUNCE.finditer(folded):
        start, end = match.span()
        if end - start == len("announcement"):
            after = _FUTURE_AFTER.match(folded, end)
            if after is None:
                continue
            end = after.end()
        else:
            before = _FUTURE_BEFORE.search(folded, max(0, start - _FUTURE_REACH), start)
            if before is None:
                continue
            start = before.start()
        begin, stop, _ = sentence_around(folded, match.start(), match.end())
        if _MATERIAL_EVENT.search(folded, begin, stop) and not is_discussion(folded, start, end):
            found.append(Span(start, end, "mnpi", "scheduled_announcement"))


def _insiders(folded: str, found: list[Span]) -> None:
    # "insider" alone is a job title or a threat model; with a deal in the same sentence it is
    # someone holding information the market does not have.
    for match in _INSIDER.finditer(folded):
        begin, stop, _ = sentence_around(folded, match.start(), match.end())
        if _DEAL_WORDS.search(folded, begin, stop) and not is_discussion(
            folded, match.start(), match.end()
        ):
            found.append(Span(match.start(), match.end(), "mnpi", "insider"))

