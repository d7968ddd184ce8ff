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
    spans: list[Span] = []
    spans.extend(privilege.find(text, folded))
    personal_spans = list(personal.find(text, folded, has_digits=has_digits))
    spans.extend(personal_spans)
    spans.extend(
        health.find(text, folded, has_digits=has_digits, identifies_person=bool(personal_spans))
    )
    if has_digits:
        spans.extend(financial.find(text, folded))
    spans.extend(credentials.find(text, folded))
    spans.extend(mnpi.find(text, folded))
    spans.extend(custom.find(text, custom_terms))
    return SensitivityReport.from_spans(spans)
