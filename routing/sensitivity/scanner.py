"""Runs every detector over a text and assembles the report.

Detectors append to one list rather than yield their spans: prompts are short (about 110
bytes), and creating and draining the twenty-odd generators a scan would otherwise go through
cost about as much as the pattern matching itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from routing.sensitivity import (
    access,
    context,
    credentials,
    custom,
    financial,
    health,
    mnpi,
    mnpi_signals,
    mrz,
    personal,
    privilege,
)
from routing.sensitivity.report import SensitivityReport, Span
from routing.sensitivity.text import GATES, fold_case

# Every identifier-based detector needs a digit; most ordinary prompts have none, so this one
# check lets them skip the bulk of the work.
_DIGIT = re.compile(r"\d")
# The same searches for ASCII text (most prompts), where [0-9] and \d agree: the engine tests
# a range in place, where \d looks every character up in the Unicode database. str.isascii()
# is free (CPython stores the flag).
_ASCII_DIGIT = re.compile(r"[0-9]")
# Phones, national IDs, cards, IBANs, routing and account numbers all have six or more digits
# in a run (single separators allowed); most prompts with digits hold only versions, prices or
# times, and skip those detectors.
_LONG_NUMBER = re.compile(r"\d(?:[ \-.()/]?\d){5}")
_ASCII_LONG_NUMBER = re.compile(r"[0-9](?:[ \-.()/]?[0-9]){5}")
# Number-led patterns may start a few characters before their first digit: "+44", "(415)",
# the UK postcode "NW8 9AY", the National Insurance number "AB 12 34 56 C". None starts
# earlier, so their searches begin that far before the text's first digit and skip the prose
# in front of it.
_NUMBER_LEAD = 3
# Categories that describe a situation rather than an identifier.
_SITUATIONS = frozenset({"privilege", "mnpi", "health", "hr", "litigation", "client_confidence"})
# Personal details with no checksum: in a story, a fixture or an example they are nobody's.
# Everything with a check digit or a fixed national format (national ids, passports, SSNs,
# NHS numbers, machine-readable zones), and every card, account and key, always counts.
# PINs and access codes (access.py) are as short and unchecked: a story's alarm code is nobody's.
_SOFT_PERSONAL = frozenset({"phone", "address", "date_of_birth", "email", "pin", "access_code"})
# Keyword findings that a lesson or the news quotes as its subject (context.discussed). Not
# a clinical word next to a person: that is somebody's health whatever the text is for.
_DISCUSSED = frozenset({"mnpi", "privilege"})
_NOTHING_FOUND = SensitivityReport(sensitive=False, categories=(), spans=())


def scan(text: str, *, custom_terms: Sequence[str] = (),
         context_threshold: float = context.DEFAULT_THRESHOLD) -> SensitivityReport:
    """Decide, offline, whether text holds privileged, personal or otherwise sensitive data.

    context_threshold: the score at which the contextual layer's cues make text sensitive
    (the policy's `[sensitivity] context_threshold`; see context.py).
    Pure and deterministic: no I/O, no network, no global state beyond compiled patterns.
    """
    if not isinstance(text, str):
        raise TypeError(f"scan() expects str, not {type(text).__name__}")
    if isinstance(custom_terms, str):
        raise TypeError("custom_terms must be a sequence of terms, not one string")
    if not text or text.isspace():  # the same test as "not text.strip()", without a copy
        return _NOTHING_FOUND
    folded = fold_case(text)
    is_ascii = text.isascii()
    first_digit = (_ASCII_DIGIT if is_ascii else _DIGIT).search(text)
    has_digits = first_digit is not None
    numbers_from = max(0, first_digit.start() - _NUMBER_LEAD) if first_digit else None
    long_number = _ASCII_LONG_NUMBER if is_ascii else _LONG_NUMBER
    has_long_number = (
        first_digit is not None and long_number.search(text, first_digit.start()) is not None
    )
    # Which detectors' substring pre-checks hold (see text.SubstringGates): one pass for all.
    gates = GATES.present(folded)
    spans: list[Span] = []
    privilege.find(text, folded, spans, gates)
    before_personal = len(spans)
    personal.find(
        text,
        folded,
        spans,
        numbers_from=numbers_from,
        has_long_number=has_long_number,
        gates=gates,
    )
    if "<" in text:  # every machine-readable zone has fillers
        mrz.find(text, spans)
    identifies_person = len(spans) > before_personal
    health.find(
        text,
        folded,
        spans,
        has_digits=has_digits,
        identifies_person=identifies_person,
        gates=gates,
    )
    if has_long_number and numbers_from is not None:
        financial.find(text, folded, spans, numbers_from, gates)
    credentials.find(text, folded, spans, gates)
    access.find(text, folded, spans, gates)
    before_mnpi = len(spans)
    mnpi.find(folded, spans, gates)
    if len(spans) == before_mnpi:  # the broad rules, for what the phrases above did not name
        mnpi_signals.find(folded, spans, gates)
    custom.find(text, custom_terms, spans)
    situation = context.assess(text, folded, gates, context_threshold, has_digits=has_digits)
    if any(_is_soft(span) or span.kind in _SOFT_PERSONAL for span in spans):
        says = context.invented(text, gates, situation)
        if says is not None:
            spans = [span for span in spans
                     if not (_is_soft(span) or span.kind in _SOFT_PERSONAL)]
        elif any(span.category in _DISCUSSED for span in spans):
            dampener = context.discussed(gates, situation)
            if dampener is not None:
                # News and general questions quote privilege as a subject; an event "not
                # announced until the 14th" in either is still news before it is public, so
                # only a lesson (a course, a textbook) drops the event findings too.
                dropped = _DISCUSSED if dampener.name in ("policy", "training") \
                    else {"privilege"}
                spans = [span for span in spans if span.category not in dropped]
                says = dampener.says
        if says is not None:
            if situation is None:
                situation = context.ContextAssessment(0.0, context_threshold, (), (says,), "")
            elif says not in situation.lowered_by:
                situation = replace(situation, lowered_by=(*situation.lowered_by, says))
    if situation is None:
        return SensitivityReport.from_spans(spans) if spans else _NOTHING_FOUND
    if situation.sensitive and not any(span.category in _SITUATIONS for span in spans):
        # The situation is the whole text's, not one phrase's: the span covers all of it. Only
        # where no detector described the situation already (a legend, a diagnosis next to a
        # name): their exact spans say more than a second, broader category would.
        spans.append(Span(0, len(text), situation.category, "context"))
    return SensitivityReport.from_spans(spans, situation)


def _is_soft(span: Span) -> bool:
    """A keyword finding about a situation, which invented text or a lesson only imitates
    (see context.invented and context.discussed): clinical words next to a person, an
    unannounced event, a privilege stamp or a sentence saying something is privileged."""
    return span.category in ("mnpi", "privilege") or span.kind == "clinical_context"
