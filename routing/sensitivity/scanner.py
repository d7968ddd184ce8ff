"""Runs every detector over a text and assembles the report."""

from __future__ import annotations

import re
from collections.abc import Sequence

from routing.sensitivity import credentials, custom, financial, health, mnpi, personal, privilege
from routing.sensitivity.report import SensitivityReport, Span
from routing.sensitivity.text import fold_case

# Every identifier-based detector needs a digit; most ordinary prompts have none, so this one
# check lets them skip the bulk of the work.
_DIGIT = re.compile(r"\d")
# Phones, national IDs, cards, IBANs, routing and account numbers all have six or more digits
# in a run (single separators allowed); most prompts with digits hold only versions, prices or
# times, and skip those detectors.
_LONG_NUMBER = re.compile(r"\d(?:[ \-.()/]?\d){5}")
_NOTHING_FOUND = SensitivityReport(sensitive=False, categories=(), spans=())


def scan(text: str, *, custom_terms: Sequence[str] = ()) -> SensitivityReport:
    """Decide, offline, whether text holds privileged, personal or otherwise sensitive data.

    Pure and deterministic: no I/O, no network, no global state beyond compiled patterns.
    """
    if not isinstance(text, str):
        raise TypeError(f"scan() expects str, not {type(text).__name__}")
    if isinstance(custom_terms, str):
        raise TypeError("custom_terms must be a sequence of terms, not one string")
    if not text.strip():
        return _NOTHING_FOUND
    folded = fold_case(text)
    has_digits = _DIGIT.search(text) is not None
    has_long_number = has_digits and _LONG_NUMBER.search(text) is not None
    spans: list[Span] = []
    spans.extend(privilege.find(text, folded))
    personal_spans = list(
        personal.find(text, folded, has_digits=has_digits, has_long_number=has_long_number)
    )
    spans.extend(personal_spans)
    spans.extend(
        health.find(text, folded, has_digits=has_digits, identifies_person=bool(personal_spans))
    )
    if has_long_number:
        spans.extend(financial.find(text, folded))
    spans.extend(credentials.find(text, folded))
    spans.extend(mnpi.find(text, folded))
    spans.extend(custom.find(text, custom_terms))
    return SensitivityReport.from_spans(spans) if spans else _NOTHING_FOUND
