"""Sensitive spans out of every line Stillroom shows or writes beside a conversation.

A conversation's own messages keep what the user typed. Everything else that carries user
text — titles (the sidebar, the window title, `/history`), previews, status lines, log lines
and crash reports — goes through `redact`, which puts a placeholder where the offline
sensitivity gate (routing.sensitivity.scan) finds something: "Charge card [card] for the
client". Those lines are seen over a shoulder, in a screen share, in a bug report.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.sensitivity import Span, scan

# The placeholder for the kinds a reader recognises at a glance; the others by category.
_BY_KIND = {
    "payment_card": "[card]",
    "iban": "[IBAN]",
    "account_number": "[account]",
    "email": "[email]",
    "phone": "[phone]",
    "address": "[address]",
    "date_of_birth": "[date of birth]",
    "passport": "[passport]",
    "us_ssn": "[SSN]",
    "us_itin": "[ITIN]",
    "uk_ni": "[NI number]",
    "ca_sin": "[SIN]",
    "nhs_number": "[NHS number]",
    "medical_record": "[medical record]",
}
_BY_CATEGORY = {
    "financial": "[financial]",
    "personal": "[personal]",
    "health": "[health]",
    "secret": "[secret]",
    "privilege": "[privileged]",
    "mnpi": "[MNPI]",
    "custom": "[redacted]",
}


def placeholder(span: Span) -> str:
    return _BY_KIND.get(span.kind) or _BY_CATEGORY.get(span.category, "[redacted]")


def redact(text: str, *, custom_terms: Sequence[str] = ()) -> str:
    """`text` with each span the sensitivity gate finds replaced by its placeholder.

    Overlapping spans (a phone number inside an address) become one placeholder, the
    first one's. Text with nothing found comes back unchanged (the same object).
    """
    if not text:
        return text
    spans = sorted(scan(text, custom_terms=custom_terms).spans)
    if not spans:
        return text
    pieces, position = [], 0
    for span in spans:
        if span.end <= position:
            continue  # inside the span just replaced
        if span.start < position:  # overlaps it: extend the replaced range
            position = span.end
            continue
        pieces.append(text[position:span.start])
        pieces.append(placeholder(span))
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)
