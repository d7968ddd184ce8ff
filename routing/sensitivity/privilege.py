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
    # Short and bracketed stamps: "Priv & Conf", "[PRIVILEGED - ATTORNEY/CLIENT]",
    # "Privileged: legal advice".
    r"|priv\.?\s*(?:&|and)\s*conf\w*"
    rf"|privileged\s*[{_DASH[1:-1]}/:,(\[]?\s*(?:attorney|client|legal|counsel|solicitor|lawyer)"
    # Confidentiality footers, which name no privilege but mark the mail as one.
    r"|intended\s+(?:only|solely|exclusively)\s+for\s+(?:the\s+)?(?:use\s+of\s+the\s+)?"
    r"(?:named\s+)?(?:addressee|recipient|individual|person|entity)"
    r"|may\s+contain\s+(?:confidential|privileged|legally\s+privileged|proprietary)\b"
    r"|if\s+you\s+(?:have\s+)?received\s+this\s+(?:\w+\s+){0,2}in\s+error\b"
)
# The usual legends in French, German, Spanish and Italian documents; searched only when one of
# _FOREIGN_NEEDLES is there, so English texts never pay for them.
_FOREIGN_LEGENDS = re.compile(
    r"(?:couvert|prot[ée]g[ée])e?s?\s+par\s+le\s+secret\s+professionnel\b"
    r"|secret\s+professionnel\s+de\s+l['’]avocat\b"
    r"|confidentiel\s+(?:et|&)\s+privil[ée]gi[ée]\b"
    r"|correspondance\s+(?:confidentielle\s+)?entre\s+avocats\b"
    r"|anwalts(?:geheimnis|privileg)\w*"
    r"|anwaltliche[nrs]?\s+(?:schweigepflicht|berufsgeheimnis|korrespondenz|vertraulichkeit)\b"
    r"|vertraulich\s*(?:und|&)\s*(?:privilegiert|anwaltlich)\w*"
    r"|secreto\s+profesional\s+(?:del\s+)?abogad[oa]\b"
    r"|confidencial\s*(?:y|&)\s*privilegiad[oa]\b"
    r"|privilegio\s+(?:abogado\s*-?\s*cliente|legal)\b"
    r"|segreto\s+professionale\s+(?:dell['’]\s*)?avvocato\b"
    r"|riservat[oa]\s*(?:e|&)\s*(?:confidenziale|privilegiat[oa])\b"
    # Dutch and Portuguese: the lawyer's privilege (verschoningsrecht, sigilo profissional).
    r"|verschoningsrecht\w*"
    r"|geheimhoudingsplicht\s+(?:van\s+de\s+)?advoca\w*"
    r"|vertrouwelijk\s*(?:en|&)\s*(?:geprivilegieerd|privileged)\w*"
    r"|(?:sigilo|segredo)\s+profissional\b"
    r"|confidencial\s*(?:e|&)\s*privilegiad[oa]\b"
)
# Words an English prompt rarely has, so English texts (with "secret", "privilege", or an em
# dash that makes them non-ASCII) do not reach the pattern, which has no literal to start from.
# "vocat" takes avocat and avvocato; "privilegi" privilegiado, privilegiert, privilegiato.
_FOREIGN_NEEDLES = (
    "vocat", "anwalt", "abogad", "secret pro", "privilégi", "privilegi", "riservat",
)  # fmt: skip
# Dutch and Portuguese legends by their words (see text.word_list): one set test.
_MORE_FOREIGN_WORDS = frozenset(
    word.encode()
    for word in (
        "verschoningsrecht", "geheimhoudingsplicht", "vertrouwelijk", "advocaat", "advogado",
        "sigilo", "segredo",
    )
)  # fmt: skip
# Confidentiality footers ("intended only for the addressee", "received this in error"; "may
# contain confidential ..." has a word of _NEEDLES) and the short stamp "Priv & Conf": words,
# not substrings, since "priv" is in every "private". Not "error": every coding prompt has it.
_FOOTER_WORDS = frozenset((b"intended", b"received", b"priv"))
# What protects the document, in US, UK and Commonwealth terms, read backwards from the word
# "privilege" (a literal, where the engine is fastest): "Subject to Legal Advice Privilege",
# "covered by solicitor-client privilege", "solicitor-client privileged".
_COVERED_BY = re.compile(
    r"(?:subject\s+to|protected\s+by|covered\s+by)\s+(?:the\s+)?(?:legal\s+advice\s+|"
    rf"legal\s+professional\s+|litigation\s+|(?:solicitor|attorney|lawyer)\s*{_DASH}?\s*client\s+|"
    r"legal\s+)$"
)
_SOLICITOR_CLIENT = re.compile(rf"solicitor\s*{_DASH}?\s*client\s+$")
_COVERED_REACH = 60
# "without prejudice" in any case, unless followed by "to" (the court's "without prejudice to a
# later claim"); see _is_without_prejudice.
_WP_TO = re.compile(r"\s+to\b")
# Ordinary words in lower case ("work product", "do not forward",
# "attorney-client privilege" without the d): they are a legend only when stamped in capitals.
_STAMP_ONLY = re.compile(
    rf"work\s+product|(?:strictly|legally)\s+privileged"
    rf"|do\s+not\s+(?:forward|distribute)|confidential|attorney\s*{_DASH}?\s*client\s+privilege"
)
# A legend in Title Case ("Legally Privileged", "Without Prejudice") or in ordinary case right
# before a dash or colon ("Subject: Without prejudice – proposal") is a heading, not prose.
_HEADING_AFTER = re.compile(r"[ \t]*[-–—:|]")
# A lone CONFIDENTIAL is a stamp only where stamps go: first on its line, or set off by a
# dash, colon or bar ("CONFIDENTIAL — DO NOT FORWARD"); not "add a CONFIDENTIAL watermark".
_LINE_LEAD = re.compile(r"(?:^|\n)[ \t>*#]*(?:(?:strictly|highly)\s+)?$")
_SET_OFF = re.compile(r"\s*[-–—:|/]")
# Every legend above contains one of these; texts without any skip the regex pass.
_NEEDLES = (
    "privilege", "confidential", "counsel", "work product", "eyes only", "litigation", " nda",
    "non-disclosure", "prejudice", "settlement purposes", "do not forward", "do not distribute",
)  # fmt: skip


def find(text: str, folded: str, found: list[Span], words: frozenset[bytes]) -> None:
    """Append privilege spans to found; words: text.word_list(folded)."""
    if contains_any(folded, _FOREIGN_NEEDLES) or not _MORE_FOREIGN_WORDS.isdisjoint(words):
        _foreign(folded, found)
    if not contains_any(folded, _NEEDLES) and _FOOTER_WORDS.isdisjoint(words):
        return
    if "privilege" in folded:
        _covered_by(folded, found)
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
    if folded.startswith("without", start):
        return _is_without_prejudice(folded, start, end)
    if _STAMP_ONLY.fullmatch(folded, start, end):
        return _is_heading(text, start, end) and not is_discussion(folded, start, end)
    return not is_discussion(folded, start, end)


def _is_without_prejudice(folded: str, start: int, end: int) -> bool:
    """A letter's "without prejudice" in any case, but not the court's "dismissed without
    prejudice (to a later claim)", which is procedure, nor a question about the concept."""
    if _WP_TO.match(folded, end) or "dismiss" in folded[max(0, start - 40) : start]:
        return False
    return not is_discussion(folded, start, end)


def _is_heading(text: str, start: int, end: int) -> bool:
    """Whether an ordinary-case legend stands as a heading: every word capitalised, or set off by
    a dash, colon or bar; "marking a letter 'without prejudice'" in prose is neither."""
    words = text[start:end].split()
    if all(word[:1].isupper() for word in words):
        return True
    return _HEADING_AFTER.match(text, end) is not None


def _covered_by(folded: str, found: list[Span]) -> None:
    at = folded.find("privilege")
    while at >= 0:
        end = at + len("privilege")
        window = max(0, at - _COVERED_REACH)
        before = folded[window:at]
        # An anchored search tries every start in the window: look for its words first.
        lead = None
        if "subject to" in before or " by " in before:
            lead = _COVERED_BY.search(folded, window, at)
        if lead is None and "solicitor" in before and folded.startswith(("d", " comm"), end):
            lead = _SOLICITOR_CLIENT.search(folded, window, at)
            end += 1 if folded.startswith("d", end) else len(" communication")
        if lead is not None and not is_discussion(folded, lead.start(), end):
            found.append(Span(lead.start(), end, "privilege", "legend"))
        at = folded.find("privilege", end)


def _foreign(folded: str, found: list[Span]) -> None:
    for match in _FOREIGN_LEGENDS.finditer(folded):
        if not is_discussion(folded, match.start(), match.end()):
            found.append(Span(match.start(), match.end(), "privilege", "legend"))


# The words this module's gates look for; the scanner keeps only these of a prompt's words.
GATE_WORDS = _MORE_FOREIGN_WORDS | _FOOTER_WORDS
