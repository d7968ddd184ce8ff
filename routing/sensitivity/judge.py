"""The judge: a local instruct model's second opinion on text the policy would send to the
cloud after the fast gate (``scan``) found nothing sensitive in it.

Pure: the written rubric, the prompt, the JSON schema the engine constrains the answer to,
reading that answer, and what the outcome does to a route decision. Running the model is the
app's job (app/turn/judge_step.py), so this module stays free of engines and threads; the
messages it builds are plain (role, content) pairs.

Fail closed: anything but a readable "not sensitive" (a timeout, an engine error, an answer
that does not parse) keeps the text on this machine, and the explanation says why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

# Re-exported: the outcome lives in judge_outcome.py so that routing.decision can name it.
from routing.sensitivity.judge_outcome import JudgeOutcome as JudgeOutcome
from routing.sensitivity.judge_outcome import Status as Status
from routing.sensitivity.scanner import scan

if TYPE_CHECKING:
    from routing.decision import RouteDecision

# The labels the judge may give; "none" goes with sensitive = false.
JUDGE_CATEGORIES: tuple[str, ...] = (
    "none", "payment_card", "bank_account", "secret", "personal_id", "government_id",
    "health", "privilege", "mnpi", "hr", "litigation", "client_confidence",
)

# The judge's reason is model-written text about the user's text: the audit log keeps at
# most this many characters of it (after redaction), and the schema asks for no more.
REASON_MAX_CHARS = 160
# One judge request reads at most this much text: about 3,000 tokens even in Chinese or
# Japanese, so it fits a 4,096-token context with the rubric. A longer prompt or document
# chunk is judged window by window (any sensitive window keeps the whole text local).
WINDOW_CHARS = 3000
# A verdict is a few dozen tokens; the cap keeps a rambling model from running on. Room
# for a reason of REASON_MAX_CHARS even at one token per character (a copied hash): a
# verdict cut off is unreadable, and keeps the text local.
VERDICT_MAX_TOKENS = 200

RUBRIC = """You are a privacy reviewer at a law firm. Text is about to be sent to an outside \
cloud AI service. Decide whether it is SENSITIVE: whether sending it outside would expose \
information that must stay inside the firm.

SENSITIVE (choose the category that fits best):
- payment_card: a card number, CVV or expiry of a real card.
- bank_account: an account number, IBAN, routing number or wire instructions for a real account.
- secret: passwords, API keys, tokens, private keys, connection strings with credentials.
- personal_id: contact details or identifiers of a real, private person (address, phone, \
e-mail, date of birth).
- government_id: passport, national id, social security, tax or driving licence numbers, \
passport machine-readable lines.
- health: a real, identifiable person's diagnosis, treatment, medication or medical leave.
- privilege: legal advice between lawyer and client, attorney work product, text marked \
privileged or confidential by counsel.
- mnpi: material non-public information: results, deals, mergers, layoffs or approvals \
before they are announced.
- hr: terminations, discipline, performance reviews, complaints or the pay of named employees.
- litigation: depositions, settlement positions, litigation strategy, what a party will \
argue or accept.
- client_confidence: what a client told the firm in confidence, their plans, disputes or \
affairs, matters under NDA.

NOT SENSITIVE (category "none"):
- fiction, role play, invented or obviously synthetic examples and test fixtures;
- templates and forms with blanks or placeholders;
- general questions and discussion of law, medicine, finance or technology that name no \
real client, patient or employee;
- public news, published results, public figures' public acts, documentation examples.

Answer only with JSON: {"sensitive": true or false, "category": one of the categories \
above, "reason": one short sentence naming the kind of information}. Do not quote or \
repeat the text in the reason."""


def verdict_schema() -> dict[str, Any]:
    """The JSON schema the engine turns into a grammar: every answer parses, and the
    category is one of ours. Keys in this order, so the verdict comes before the reason."""
    return {
        "type": "object",
        "properties": {
            "sensitive": {"type": "boolean"},
            "category": {"enum": list(JUDGE_CATEGORIES)},
            "reason": {"type": "string", "maxLength": REASON_MAX_CHARS},
        },
        "required": ["sensitive", "category", "reason"],
        "additionalProperties": False,
    }


def judge_messages(text: str) -> list[tuple[str, str]]:
    """(role, content) pairs for one judge request over ``text`` (one window)."""
    return [("system", RUBRIC),
            ("user", f"Text to review:\n<<<\n{text}\n>>>\nIs this text sensitive?")]


def windows(text: str, size: int = WINDOW_CHARS) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at a paragraph or line break
    where one falls in the second half of a piece, so a sentence is rarely split."""
    if size <= 0:
        raise ValueError("the window size must be positive")
    pieces, start = [], 0
    while len(text) - start > size:
        end = start + size
        cut = max(text.rfind("\n\n", start + size // 2, end), text.rfind("\n", start + size // 2,
                                                                         end))
        end = cut + 1 if cut > 0 else end
        pieces.append(text[start:end])
        start = end
    pieces.append(text[start:])
    return [piece for piece in pieces if piece.strip()] or [text]


@dataclass(frozen=True, slots=True)
class Verdict:
    sensitive: bool
    category: str
    reason: str


class JudgeOutputError(ValueError):
    """The judge's answer is not the JSON the schema asks for."""


def parse_verdict(answer: str, *, custom_terms: Iterable[str] = (),
                  source: str = "") -> Verdict:
    """Read the judge's answer to ``source``. The reason comes back redacted and capped
    (redact_reason), ready for the explanation and the audit log."""
    try:
        value = json.loads(answer)
    except json.JSONDecodeError as exc:
        # An engine without grammars (the server's batched engine, MLX) may wrap the object
        # in prose or a code fence: the first {...} in the answer, if that one parses.
        start, end = answer.find("{"), answer.rfind("}")
        try:
            value = json.loads(answer[start:end + 1]) if 0 <= start < end else None
        except json.JSONDecodeError:
            value = None
        if value is None:
            raise JudgeOutputError(f"the judge's answer is not JSON ({exc.msg})") from exc
    if not isinstance(value, dict):
        raise JudgeOutputError("the judge's answer is not a JSON object")
    sensitive, category, reason = (value.get("sensitive"), value.get("category"),
                                   value.get("reason"))
    if not isinstance(sensitive, bool):
        raise JudgeOutputError("the judge's answer has no true/false 'sensitive'")
    if category not in JUDGE_CATEGORIES:
        raise JudgeOutputError(f"the judge's category {str(category)[:40]!r} is not one of ours")
    if not isinstance(reason, str):
        raise JudgeOutputError("the judge's answer has no 'reason'")
    if sensitive and category == "none":
        category = "unspecified"  # a sensitive verdict stands without a category
    return Verdict(sensitive, category,
                   redact_reason(reason, custom_terms=custom_terms, source=source))


_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»|'[^'\n]{3,}'")
# What the gate may let through as an example (a documentation card, an example.org
# address) is still nothing the audit log needs: every run of four or more digits and
# every address goes.
_NUMBER = re.compile(r"\d(?:[\d \-./]{2,}\d)")
_ADDRESS = re.compile(r"[^\s@]+@[^\s@]+")


_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _copied_words(reason: str, source: str) -> list[tuple[int, int]]:
    """Spans of ``reason`` copied from ``source``: words in a two-word sequence that the
    source also has, and capitalised words the source has (names, places). Small models
    repeat the text they were told not to quote."""
    if not source:
        return []
    source_words = [w.casefold() for w in _WORD.findall(source)]
    pairs = set(pairwise(source_words))
    present = set(source_words)
    words = list(_WORD.finditer(reason))
    copied = [False] * len(words)
    for index, (first, second) in enumerate(pairwise(words)):
        if (first.group().casefold(), second.group().casefold()) in pairs:
            copied[index] = copied[index + 1] = True
    for index, word in enumerate(words):
        text = word.group()
        if text[0].isupper() and index > 0 and text.casefold() in present:
            copied[index] = True
    spans: list[tuple[int, int]] = []
    for index, word in enumerate(words):
        if not copied[index]:
            continue
        if spans and copied[index - 1] and index > 0:
            spans[-1] = (spans[-1][0], word.end())
        else:
            spans.append((word.start(), word.end()))
    return spans


def redact_reason(reason: str, *, custom_terms: Iterable[str] = (), source: str = "") -> str:
    """The judge's reason as the audit log may keep it. The audit log is content-free by
    design, and the reason is the one field a model writes about the user's text: every
    span the gate finds in it (numbers, names of the policy's custom terms, keys...) becomes
    [category], passages copied from ``source`` (the judged text) and quoted passages
    become "…" (a model told not to quote may still quote),
    numbers of four or more digits and e-mail addresses go too, and the whole is capped at
    REASON_MAX_CHARS."""
    text = " ".join(reason.split())
    for start, end in reversed(_copied_words(text, source)):
        text = f"{text[:start]}…{text[end:]}"
    report = scan(text, custom_terms=list(custom_terms))
    for span in sorted(report.spans, key=lambda s: s.start, reverse=True):
        text = f"{text[:span.start]}[{span.category}]{text[span.end:]}"
    text = _QUOTED.sub('"…"', text)
    text = _ADDRESS.sub("[address]", _NUMBER.sub("[number]", text))
    if len(text) > REASON_MAX_CHARS:
        text = text[:REASON_MAX_CHARS - 1].rstrip() + "…"
    return text


def apply_outcome(decision: RouteDecision, outcome: JudgeOutcome) -> RouteDecision:
    """The decision after the judge: unchanged but for the explanation when the text may
    go, otherwise answered on this machine, with why.

    A sensitive verdict makes the conversation sticky, as a finding of the gate does: the
    next message of a conversation the judge found sensitive is likely about the same
    matter. A timeout or error is no finding, so it keeps only this message local.
    """
    clause = outcome.explain()
    trace = (*decision.trace, clause)
    if not outcome.keeps_local:
        return replace(decision, reason=f"{decision.reason}; {clause}", trace=trace,
                       judge=outcome)
    found = outcome.status == "sensitive"
    return replace(
        decision, target="local", provider=None, model=None, rule="judge",
        reason=f"{decision.reason}, but {clause}; answered on this machine",
        sensitive=decision.sensitive or found, sticky=decision.sticky or found,
        trace=(*trace, "-> judge: this machine"), judge=outcome)


def should_judge(decision: RouteDecision) -> bool:
    """Only text about to leave for a cloud-tier provider: local answers never pay for the
    judge, and on-premises servers are trusted with what the gate lets through."""
    return decision.target == "cloud" and not decision.refused and not decision.sensitive


def judge_windows(texts: Iterable[str]) -> list[str]:
    """Everything that would be sent (system prompt, earlier messages, this message,
    attached text) as judge windows, blank parts left out."""
    pieces: list[str] = []
    for part in texts:
        if part.strip():
            pieces.extend(windows(part))
    return pieces
