"""The judge's pure parts (routing/sensitivity/judge.py): the schema, reading an answer,
redacting its reason for the audit log, windows, and what an outcome does to a decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.audit import JsonlAuditLog, record_for
from routing.decision import RouteDecision
from routing.sensitivity.judge import (
    JUDGE_CATEGORIES,
    REASON_MAX_CHARS,
    JudgeOutcome,
    JudgeOutputError,
    apply_outcome,
    judge_messages,
    judge_windows,
    parse_verdict,
    redact_reason,
    should_judge,
    verdict_schema,
    windows,
)

CLOUD = RouteDecision("cloud", "default", "the policy's default is fakecloud (gpt-4o-mini)",
                      provider="fakecloud", model="gpt-4o-mini",
                      trace=("sensitivity: nothing found",))


def outcome(status: str, **extra: object) -> JudgeOutcome:
    values = {"model": "Judge-3B", "status": status, "latency_s": 0.42, "timeout_s": 8.0,
              **extra}
    return JudgeOutcome(**values)  # type: ignore[arg-type]


def test_the_schema_asks_for_the_three_fields_in_order_and_our_categories_only() -> None:
    schema = verdict_schema()
    assert list(schema["properties"]) == ["sensitive", "category", "reason"]
    assert schema["required"] == ["sensitive", "category", "reason"]
    assert schema["properties"]["category"]["enum"] == list(JUDGE_CATEGORIES)
    assert schema["additionalProperties"] is False
    for category in ("payment_card", "bank_account", "secret", "government_id", "health",
                     "privilege", "mnpi", "hr", "litigation", "client_confidence", "none"):
        assert category in JUDGE_CATEGORIES


def test_the_prompt_carries_the_rubric_and_the_text_once() -> None:
    (system_role, rubric), (user_role, question) = judge_messages("Draft a memo to Ms. Ortiz")
    assert (system_role, user_role) == ("system", "user")
    assert "client_confidence" in rubric and "fiction" in rubric and "templates" in rubric
    assert question.count("Draft a memo to Ms. Ortiz") == 1


def test_a_well_formed_answer_is_read() -> None:
    verdict = parse_verdict('{"sensitive": true, "category": "privilege", '
                            '"reason": "legal advice to a client"}')
    assert (verdict.sensitive, verdict.category, verdict.reason) == (
        True, "privilege", "legal advice to a client")
    plain = parse_verdict('{"sensitive": false, "category": "none", "reason": "a poem"}')
    assert not plain.sensitive and plain.category == "none"
    fenced = parse_verdict('```json\n{"sensitive": false, "category": "none", '
                           '"reason": "a poem"}\n```')
    assert fenced == plain
    # Sensitive with no category still stands: the verdict, not the label, keeps it local.
    assert parse_verdict('{"sensitive": true, "category": "none", "reason": ""}').category \
        == "unspecified"


@pytest.mark.parametrize(("answer", "why"), [
    ("", "not JSON"),
    ('{"sensitive": true, "category": "privilege", "reas', "not JSON"),
    ("[true]", "not a JSON object"),
    ('{"sensitive": "yes", "category": "none", "reason": ""}', "true/false"),
    ('{"sensitive": false, "category": "weather", "reason": ""}', "not one of ours"),
    ('{"sensitive": false, "category": "none"}', "no 'reason'"),
])
def test_anything_else_is_an_output_error_with_a_reason(answer: str, why: str) -> None:
    with pytest.raises(JudgeOutputError, match=why):
        parse_verdict(answer)


def test_the_reason_loses_what_the_gate_finds_quotes_and_length() -> None:
    reason = ('mentions card 4111 1111 1111 1111, jane.doe@corp.example.org and '
              'Project Halyard, quoting "we will settle for 2M"')
    redacted = redact_reason(reason, custom_terms=["Project Halyard"])
    assert "4111" not in redacted and "jane.doe" not in redacted
    assert "Halyard" not in redacted and "settle for 2M" not in redacted
    assert "[custom]" in redacted and "[number]" in redacted and "[address]" in redacted
    # What the gate finds is named by its category (a phone number with its label).
    assert "[personal]" in redact_reason("it gives the client's phone: +44 20 7946 0958")
    long = redact_reason("word " * 200)
    assert len(long) == REASON_MAX_CHARS and long.endswith("…")
    parsed = parse_verdict(json.dumps({"sensitive": True, "category": "secret",
                                       "reason": "the key sk-proj-abcdefghijklmnopqrstuvwx"
                                                 "yz0123456789ABCD is in it"}))
    assert "sk-proj" not in parsed.reason and "[secret]" in parsed.reason


def test_the_reason_loses_what_it_copies_from_the_judged_text() -> None:
    source = "Hola Marta, te paso la propuesta: we gotta push the deadline, stuff came up."
    assert redact_reason("we gotta push the deadline, stuff came up", source=source) == "…"
    redacted = redact_reason("a message to Marta about a deadline", source=source)
    assert "Marta" not in redacted and redacted.startswith("a message to …")
    # Words of its own stay: the kind of information is what the reason is for.
    assert redact_reason("a settlement position", source=source) == "a settlement position"
    verdict = parse_verdict('{"sensitive": true, "category": "hr", "reason": "Marta, te '
                            'paso la propuesta"}', source=source)
    assert "Marta" not in verdict.reason and "propuesta" not in verdict.reason


def test_windows_cover_the_text_at_line_breaks_within_the_size() -> None:
    text = "\n".join(f"line {n} " + "x" * 70 for n in range(200))
    pieces = windows(text, 1000)
    assert "".join(pieces) == text
    assert all(len(piece) <= 1000 for piece in pieces)
    assert all(piece.endswith("\n") for piece in pieces[:-1])
    assert windows("short") == ["short"]
    assert judge_windows(["", "system prompt", "  ", "question"]) == ["system prompt",
                                                                       "question"]
    with pytest.raises(ValueError):
        windows("x", 0)


def test_only_cloud_bound_text_the_gate_let_through_is_judged() -> None:
    assert should_judge(CLOUD)
    assert not should_judge(RouteDecision("local", "default", "this machine"))
    assert not should_judge(RouteDecision("onprem", "default", "the office server",
                                          provider="office"))
    assert not should_judge(RouteDecision("cloud", "forced", "x", refused=True))
    assert not should_judge(RouteDecision("cloud", "forced", "x", sensitive=True))


def test_not_sensitive_lets_it_go_and_shows_the_latency() -> None:
    judged = apply_outcome(CLOUD, outcome("not-sensitive", category="none"))
    assert (judged.target, judged.provider, judged.rule) == ("cloud", "fakecloud", "default")
    assert judged.reason == f"{CLOUD.reason}; judge: not sensitive, 0.4 s"
    assert judged.trace[-1] == "judge: not sensitive, 0.4 s"
    assert not judged.sensitive and not judged.sticky
    loaded = outcome("not-sensitive", load_s=2.14).explain()
    assert loaded == "judge: not sensitive, 0.4 s (+2.1 s loading Judge-3B)"


def test_a_sensitive_verdict_keeps_it_local_sticky_with_category_and_reason() -> None:
    judged = apply_outcome(CLOUD, outcome("sensitive", category="litigation",
                                          reason="a settlement position"))
    assert (judged.target, judged.provider, judged.model, judged.rule) == (
        "local", None, None, "judge")
    assert judged.reason == (f"{CLOUD.reason}, but judge: sensitive (litigation: a "
                             f"settlement position), 0.4 s: kept local; answered on this "
                             f"machine")
    assert judged.sensitive and judged.sticky


@pytest.mark.parametrize(("status", "extra", "words"), [
    ("timeout", {}, "judge timed out after 8 s: kept local"),
    ("error", {"reason": "llama.cpp could not load Judge-3B"},
     "judge failed (llama.cpp could not load Judge-3B): kept local"),
    ("unparsable", {"reason": "the judge's answer was cut off"},
     "judge's answer could not be read (the judge's answer was cut off): kept local"),
    ("cancelled", {}, "judge was stopped before it decided: kept local"),
])
def test_no_verdict_fails_closed_for_this_message_only(status: str, extra: dict,
                                                       words: str) -> None:
    judged = apply_outcome(CLOUD, outcome(status, **extra))
    assert judged.target == "local" and judged.rule == "judge"
    assert words in judged.reason
    assert not judged.sticky and not judged.sensitive  # no finding, only no answer


def test_the_audit_record_carries_the_judge_and_its_mac_covers_it(tmp_path: Path) -> None:
    judged = apply_outcome(CLOUD, outcome("sensitive", category="hr",
                                          reason="a named employee's dismissal"))
    record = record_for(judged, conversation_id="c1")
    assert record.judge == {"model": "Judge-3B", "verdict": "sensitive", "category": "hr",
                            "reason": "a named employee's dismissal", "latency_s": 0.42,
                            "windows": 1}
    log = JsonlAuditLog(tmp_path / "audit.jsonl")
    log.append(record)
    log.append(record_for(CLOUD, conversation_id="c2"))  # no judge ran: no field
    rows = log.rows()
    assert rows[0]["judge"]["verdict"] == "sensitive" and "judge" not in rows[1]
    assert log.verify() is None
    rows[0]["judge"]["verdict"] = "not-sensitive"  # an edited verdict breaks the chain
    lines = [json.dumps(row) for row in rows]
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert log.verify() == 0
