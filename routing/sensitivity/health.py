"""Health data: medical identifiers, and clinical facts about an identifiable person.

Medical record, chart, NHS and NPI numbers count on their own. Clinical words (diagnoses,
medication doses, ICD-10 codes) count only when the text also names or identifies somebody:
"what are the side effects of metformin?" is a general question, "Ms. Shaw was prescribed
oxycodone 10 mg" is health information about a person.
"""

from __future__ import annotations

import re

from routing.sensitivity import checksums
from routing.sensitivity.report import Span
from routing.sensitivity.text import by_first_letter, contains_any

_RECORD_NUMBER = re.compile(
    r"\b(?:mrn|medical\s+record\s+(?:number|no\.?|#)|med\.?\s+rec(?:ord)?\.?\s*(?:no\.?|#)|"
    r"chart\s*(?:number|no\.?|#)|patient\s+id|hospital\s+(?:number|no\.?))"
    r"\s*[:#]?\s*(?P<value>[a-z0-9][a-z0-9\-]{3,14})(?![\w\-])"
)
_NPI = re.compile(r"\bnpi\b[^\n\d]{0,25}(?P<value>\d{10})(?!\d)")
_NHS = re.compile(
    r"\bnhs\s*(?:number|no\.?|#)?[^\n\d]{0,12}(?P<value>\d{3}[ \-]?\d{3}[ \-]?\d{4})(?![\d])"
)
# Insurance identifiers are health data only next to clinical content (a gym also has members).
_INSURANCE_ID = re.compile(
    r"\b(?:member\s+id|insurance\s+id|subscriber\s+id|policy\s+(?:number|no\.?))"
    r"\s*[:#]?\s*(?P<value>[a-z0-9][a-z0-9\-]{5,19})(?![\w\-])"
)

_CLINICAL_TERMS = (
    r"diagnos[ei]s", r"diagnosed", r"dx", r"prescribed", r"prescription", r"medications?",
    r"\d+\s?mg", r"presents?\s+with", r"presenting\s+with", r"history\s+of", r"hx\s+of",
    r"chief\s+complaint", r"admitted", r"discharged?", r"discharge\s+summary", r"biopsy",
    r"carcinoma", r"cancer", r"tumou?r", r"oncology", r"chemotherapy", r"radiotherapy", r"hiv",
    r"hepatitis", r"pregnan\w*", r"gestational", r"psychiatr\w*", r"psychotherapy", r"therapy",
    r"progress\s+note", r"depressi\w*", r"bipolar", r"schizophreni\w*", r"ptsd", r"anxiety",
    r"diabet\w*", r"hypertension", r"asthma", r"copd", r"ckd", r"dementia", r"allerg\w*",
    r"epipen", r"insulin", r"lab\s+results", r"hba1c", r"a1c", r"blood\s+pressure",
    r"viral\s+load", r"treated\s+(?:for|with)", r"surgery", r"fracture[ds]?", r"post-?op",
    r"triage", r"referral", r"prior\s+authori[sz]ation", r"care\s+plan", r"pneumonia",
    r"arthritis", r"sclerosis", r"overdose", r"substance\s+use", r"rehab\w*",
)  # fmt: skip
# About sixty terms, tried at every word start: grouped by first letter (see by_first_letter).
_CLINICAL = re.compile(rf"\b(?:{by_first_letter(_CLINICAL_TERMS)})\b")
# ICD-10-CM shape; U codes are reserved for emergency use and rarely seen in notes.
# Starts with a class, see text.py.
_ICD10 = re.compile(
    r"[A-TV-Z](?<![\w.\-][A-TV-Z])\d[0-9AB](?:\.[0-9A-Z]{1,4})?(?![\w]|\.\w)"
)

# Somebody identifiable: an honorific, or a role label, followed by a capitalised name. The
# honorific pattern starts with its literal "M" so the engine can skip to candidates.
_HONORIFIC_NAME = re.compile(r"M(?<![\w]M)(?:rs?|s|iss|x)\.?\s+[A-ZÀ-Ý][\w'’\-]+")
# A role label followed by a capitalised name: "patient John Abernathy", "Client: Elena Petrova".
_LABELLED_NAME = re.compile(
    r"\b(?i:patient|pt|client|claimant|plaintiff|member|employee|resident|name)\b\.?:?\s+"
    r"[A-ZÀ-Ý][a-zà-ÿ'’\-]+\s+[A-ZÀ-Ý][\w'’\-]+"
)
# The same, faster for ASCII text: the label is searched in the folded copy, where its pattern
# can start with a literal (see text.py), and the name after it read from the original. Only
# ASCII: (?i) above also takes "İ" and "ı" for i and "ſ" for s, which lower-casing does not give.
_LABEL = re.compile(r"(?:patient|pt|client|claimant|plaintiff|member|employee|resident|name)\b")
_NAME_AFTER_LABEL = re.compile(r"\.?:?\s+[A-ZÀ-Ý][a-zà-ÿ'’\-]+\s+[A-ZÀ-Ý][\w'’\-]+")
_LABEL_NEEDLES = (
    "patient", "pt ", "pt.", "client", "claimant", "plaintiff", "member", "employee", "resident",
    "name",
)  # fmt: skip
_IDENTIFIER_NEEDLES = (
    "mrn", "medical record", "med rec", "med. rec", "chart", "patient id", "hospital",
)  # fmt: skip

def find(
    text: str, folded: str, found: list[Span], *, has_digits: bool, identifies_person: bool
) -> None:
    """Append health spans to found; identifies_person: other detectors found personal data."""
    spans_before = len(found)
    if has_digits:
        _identifiers(folded, found)
    has_identifier = len(found) > spans_before
    if not (
        identifies_person
        or has_identifier
        or ("M" in text and _HONORIFIC_NAME.search(text))
        or (contains_any(folded, _LABEL_NEEDLES) and _has_labelled_name(text, folded))
    ):
        return
    clinical = [
        Span(match.start(), match.end(), "health", "clinical_context")
        for match in _CLINICAL.finditer(folded)
    ]
    if not clinical:
        return
    found += clinical
    if not has_digits:
        return
    for match in _ICD10.finditer(text):
        found.append(Span(match.start(), match.end(), "health", "icd10"))
    for match in _INSURANCE_ID.finditer(folded):
        if sum(ch.isdigit() for ch in match.group("value")) >= 4:
            found.append(
                Span(match.start("value"), match.end("value"), "health", "insurance_id")
            )


def _has_labelled_name(text: str, folded: str) -> bool:
    if not text.isascii():
        return _LABELLED_NAME.search(text) is not None
    for label in _LABEL.finditer(folded):
        start = label.start()
        if start and (folded[start - 1].isalnum() or folded[start - 1] == "_"):
            continue  # inside a longer word: "outpatient", "surname"
        if _NAME_AFTER_LABEL.match(text, label.end()):
            return True
    return False


def _identifiers(folded: str, found: list[Span]) -> None:
    if contains_any(folded, _IDENTIFIER_NEEDLES):
        for match in _RECORD_NUMBER.finditer(folded):
            if sum(ch.isdigit() for ch in match.group("value")) >= 4:
                found.append(
                    Span(match.start("value"), match.end("value"), "health", "medical_record")
                )
    if "npi" in folded:
        for match in _NPI.finditer(folded):
            if checksums.npi_valid(match.group("value")):
                found.append(Span(match.start("value"), match.end("value"), "health", "npi"))
    if "nhs" in folded:
        for match in _NHS.finditer(folded):
            digits = re.sub(r"\D", "", match.group("value"))
            if checksums.nhs_number_valid(digits):
                found.append(
                    Span(match.start("value"), match.end("value"), "health", "nhs_number")
                )
