"""Privilege, work-product and confidentiality legends.

Legends are stamped on documents, so two kinds of evidence count:
- upper-case legends ("PRIVILEGED & CONFIDENTIAL") always count: nobody types a question in
  capitals, but every pasted header or footer is;
- the same phrases in ordinary case count unless the sentence is a general question about them
  ("what does 'attorneys' eyes only' mean?"), see text.is_discussion.
A bare mention of a concept ("attorney-client privilege", "NDA", "confidential") is not a legend.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import contains_any, is_discussion

_DASH = r"[-–—]"

# One pass over the case-folded text; every branch starts with a literal so the regex engine
# can skip between candidates (see text.py), and the word boundary before it is checked in find.
_LEGENDS = re.compile(
    rf"privileged\s*(?:&|and)\s*confidential\b"
    rf"|attorney\s*{_DASH}?\s*client\s+(?:privileged?|communication)\b"
    r"|attorney\s+work\s+product\b"
    r"|attorneys['’]?\s+eyes\s+only\b"
    r"|privileged\s+communication\b"
    r"|prepared\s+(?:at\s+the\s+(?:direction|request)\s+of|by)\s+(?:\w+\s+)?counsel\b"
    r"|protected\s+by\s+(?:the\s+)?(?:attorney\s*[-–—]?\s*client|legal)\s+privilege\b"
    r"|in\s+anticipation\s+of\s+litigation\b"
    r"|subject\s+to\s+(?:an?\s+|the\s+)?(?:nda|non-disclosure\s+agreement)\b"
    r"|under\s+(?:an?\s+|the\s+)?nda\b"
    rf"|confidential\s*{_DASH}?\s*do\s+not\s+(?:forward|distribute|copy)\b"
    r"|confidential\b"
    r"|for\s+settlement\s+purposes\s+only\b"
    r"|this\s+(?:e-?mail|message|communication|memo(?:randum)?|document|letter|report)"
    r"(?:\s+and\s+any\s+attachments?)?\s+(?:is|are|may\s+be|contains?|may\s+contain)\s+"
    r"(?:strictly\s+|highly\s+)?(?:confidential|privileged)\b"
    r"|work\s+product\b"
    r"|without\s+prejudice\b"
    r"|strictly\s+privileged\b"
    r"|legally\s+privileged\b"
    r"|do\s+not\s+(?:forward|distribute)\b"
)
# Ordinary words in lower case ("work product", "without prejudice", "do not forward",
# "attorney-client privilege" without the d): they are a legend only when stamped in capitals.
_STAMP_ONLY = re.compile(
    rf"work\s+product|without\s+prejudice|(?:strictly|legally)\s+privileged"
    rf"|do\s+not\s+(?:forward|distribute)|confidential|attorney\s*{_DASH}?\s*client\s+privilege"
)
# A lone CONFIDENTIAL is a stamp only where stamps go: first on its line, or set off by a
# dash, colon or bar ("CONFIDENTIAL — DO NOT FORWARD"); not "add a CONFIDENTIAL watermark".
_LINE_LEAD = re.compile(r"(?:^|\n)[ \t>*#]*(?:(?:strictly|highly)\s+)?$")
_SET_OFF = re.compile(r"\s*[-–—:|/]")
# Every legend above contains one of these; texts without any skip the regex pass.
_NEEDLES = (
    "privilege", "confidential", "counsel", "work product", "eyes only", "litigation", " nda",
    "non-disclosure", "prejudice", "settlement purposes", "do not forward", "do not distribute",
)  # fmt: skip


def find(text: str, folded: str, found: list[Span]) -> None:
    """Append privilege spans to found."""
    if not contains_any(folded, _NEEDLES):
        return
    for match in _LEGENDS.finditer(folded):
        start, end = match.span()
        if start and folded[start - 1].isalnum():
            continue  # "unprivileged ...": not the word we are looking for
        if _is_legend(text, folded, start, end):
            found.append(Span(start, end, "privilege", "legend"))


def _is_legend(text: str, folded: str, start: int, end: int) -> bool:
    stamped = text[start:end].isupper()
    if folded.startswith("confidential", start) and end - start == len("confidential"):
        line_lead = _LINE_LEAD.search(folded, max(0, start - 40), start)
        return stamped and (line_lead is not None or _SET_OFF.match(folded, end) is not None)
    if stamped:
        return True  # a stamp, even inside a question
    if _STAMP_ONLY.fullmatch(folded, start, end):
        return False
    return not is_discussion(folded, start, end)
