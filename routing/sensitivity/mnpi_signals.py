"""MNPI by co-occurrence: a price-moving internal event together with a sign it is not public.

Phrase lists ("not yet been announced", "merger talks") caught the set they were tuned on and
little of the next one, because people say the same thing in many ways. What stays constant is
the pair: something that moves a share price (results, a deal, a dividend cut, layoffs, a CEO
leaving) and a sign the market has not heard it (a disclosure still to come, an instruction to
keep it quiet, a friend who works there). Either one alone is ordinary business talk.

A false positive only keeps a prompt on the local model, a miss sends inside information to a
cloud provider, so the signals are broad; news that is already out ("announced yesterday") is
let through when nothing says it is secret.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import contains_any

_DAY = (
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|tonight|next\s+\w+|this\s+\w+|"
    r"the\s+(?:\d{1,2}(?:st|nd|rd|th)?|morning|evening|open|close)|\d{1,2}(?:st|nd|rd|th)?\b|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|in\s+(?:~|about\s+)?"
    r"(?:\d+|a|two|three|four|ten)\s+(?:days?|weeks?)"
)
# Signs the news is not out yet. Searched in the folded text.
_NOT_PUBLIC = re.compile(
    r"internal(?:\s+use)?\s+only"
    r"|(?:do\s+not|don't|dont|please\s+don't)\s+(?:circulate|share|forward|leak|repeat)"
    r"|keep\s+(?:it|this|that|things|the\s+\w+)\s+(?:quiet|under\s+wraps|between\s+us|"
    r"confidential|tight|secret)"
    r"|(?:quiet|wraps)\s+(?:till|until)"
    r"|confidential|vertraulich|confidentiel|confidencial|riservat"
    # Not "terms were not disclosed": news reports say it of deals that are public.
    r"|not\s+(?:yet\s+)?(?:public|announced|out\s+yet)|not\s+yet\s+disclosed"
    r"|(?:till|until|before)\s+(?:we|they|the\s+company)\s+(?:file|announce|report|publish|"
    r"release|disclose|go\s+public)"
    r"|(?:till|until|before)\s+the\s+(?:8-k|announcement|release|press\s+release|filing)"
    r"|ad-?hoc"
    # A disclosure still to come: "we report on Aug 6", "announcement is Monday before the
    # open", "release goes out the morning of the 12th", "decision is published in two weeks".
    # Weaker than the rest (see find), hence the group.
    r"|(?P<scheduled>(?:file|filing)\s+(?:the\s+|an\s+|our\s+)?8-k"
    r"|before\s+the\s+(?:open|bell|market\s+opens)|after\s+(?:the\s+)?(?:close|bell)\b"
    rf"|(?:we|they|it)\s+(?:will\s+|'ll\s+|are\s+going\s+to\s+|plan\s+to\s+)?"
    rf"(?:report|announce|release|publish|disclose)\s+(?:it\s+|them\s+)?(?:on\s+|in\s+)?(?:{_DAY})"
    rf"|(?:announcement|release|disclosure|decision|press\s+release|8-k|filing)\s+"
    rf"(?:is\s+|goes\s+out\s+|will\s+be\s+|comes\s+out\s+|is\s+published\s+|published\s+|"
    rf"is\s+scheduled\s+|is\s+planned\s+)?(?:for\s+|on\s+)?(?:{_DAY})"
    r"|(?:will|'ll|going\s+to|plan\s+to)\s+(?:announce|publish|disclose|release|veröffentlich)"
    r"|werden\s+[^.\n]{0,60}veröffentlichen)"
    # Insider framing: somebody at the company told the writer.
    r"|(?:works?|working)\s+(?:at|for)\s+[a-z]"
    r"|(?:friend|brother|sister|cousin|uncle|aunt|relative|neighbou?r|buddy|contact|source)"
    r"(?:-in-law)?\s+(?:who\s+works\s+)?at\s+[a-z]"
    r"|heard\s+(?:informally|privately|through|from\s+(?:a|my|our|someone))|heads\s+up\s+from"
    r"|told\s+(?:me|us)\s+(?:in\s+confidence|privately|off\s+the\s+record)"
)
# Each _NOT_PUBLIC branch holds one of these; texts without any skip the pass.
_SIGNAL_NEEDLES = (
    "internal", "circulat", "share", "forward", "leak", "quiet", "wraps", "keep ", "confiden",
    "vertraulich", "riservat", "not ", "till", "until", "before", "8-k", "after", "ad-hoc",
    "adhoc", "report", "announc", "releas", "publish", "disclos", "decision", "filing",
    "veröffentlich", "work", "at ", "heard", "heads up", "told",
)  # fmt: skip
# Results come out on dates published in advance ("Apple will announce its Q4 results on
# October 30"), so a date alone does not make them secret; the writer's own ("we report on
# Aug 6") are, until then.
_ROUTINE = re.compile(
    r"\b(?:earnings|revenue|eps|same-store\s+sales|comparable\s+sales|ebit(?:da)?|"
    r"profit|q[1-4]|fy\s?\d\d|results)\b"
)
_FIRST_PERSON = re.compile(r"\b(?:we|we're|we'll|our|us)\b")
# Events that move a share price when they come out, whenever that is.
_EVENT = re.compile(
    r"\b(?:guidance|merger|acquisition|acquir\w*|takeover|buyout|term\s+sheet|deal|offer\s+price|"
    r"per\s+share|enterprise\s+value|ev\b|tender\s+offer|"
    r"dividend|buyback|share\s+repurchase|layoffs?|restructur\w*|redundanc\w*|job\s+cuts|"
    r"write-?downs?|write\s+(?:down|off)|impairment|profit\s+warning|gewinnwarnung|"
    r"restat\w*|breach|regulator\w*|fda|cma|ftc|antitrust|drill\s+results|"
    r"ceo|cfo|stepping\s+down|step\s+down|resign\w*|bankruptcy|insolven\w*|recall)"
)
_EVENT_NEEDLES = (
    "earning", "revenue", "eps", "guidance", "sales", "ebit", "profit", "q1", "q2", "q3", "q4",
    "fy", "result", "merger", "acqui", "takeover", "buyout", "term sheet", "deal", "offer",
    "per share", "value", "ev", "dividend", "buyback", "repurchase", "layoff", "restructur",
    "redundanc", "job cuts", "write", "impairment", "warnung", "restat", "breach", "regulat",
    "fda", "cma", "ftc", "antitrust", "drill", "ceo", "cfo", "step", "resign", "bankrupt",
    "insolven", "recall",
)  # fmt: skip
# News already out: "announced yesterday", "reported last week". Let through unless something
# says the matter is still secret.
_ALREADY_OUT = re.compile(
    r"\b(?:announced|reported|released|published|disclosed|said)\s+(?:[\w$.,%]+\s+){0,3}?"
    r"(?:yesterday|earlier|last\s+\w+|this\s+(?:morning|week)|today|publicly)\b"
    r"|\bpublic(?:ly)?\s+(?:coverage|available|filings?|information|sources)\b"
    r"|\b(?:news\s+article|headlines?|reuters|bloomberg|wsj|financial\s+times)\b"
)
_STRONG = re.compile(
    r"internal(?:\s+use)?\s+only|not\s+(?:yet\s+)?(?:public|announced)|"
    r"keep\s+(?:it|this|that)\s+quiet|circulate|confidential|vertraulich|works?\s+(?:at|for)"
)


def find(folded: str, found: list[Span]) -> None:
    """Append mnpi spans to found when an event and a not-public signal share the text."""
    if not contains_any(folded, _SIGNAL_NEEDLES) or not contains_any(folded, _EVENT_NEEDLES):
        return
    material = _EVENT.search(folded) is not None
    if not material and _ROUTINE.search(folded) is None:
        return
    for match in _NOT_PUBLIC.finditer(folded):
        start = match.start()
        if start and folded[start - 1].isalnum():
            continue  # inside a longer word
        if match.group("scheduled"):
            if _ALREADY_OUT.search(folded) or not (material or _FIRST_PERSON.search(folded)):
                continue
        elif _ALREADY_OUT.search(folded) and not _STRONG.search(folded):
            continue
        found.append(Span(start, match.end(), "mnpi", "event_not_public"))
        return
