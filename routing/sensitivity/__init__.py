"""The sensitivity gate: decides offline, before any network code runs, whether a prompt must
stay on this machine.

    >>> from routing.sensitivity import scan
    >>> report = scan("PRIVILEGED & CONFIDENTIAL - draft the reply")
    >>> report.sensitive, report.categories
    (True, ('privilege',))

Standard library only (re, unicodedata); see docs/SENSITIVITY.md for what each category covers.
"""

from routing.sensitivity.report import CATEGORIES, SensitivityReport, Span
from routing.sensitivity.scanner import scan

__all__ = ["CATEGORIES", "SensitivityReport", "Span", "scan"]
