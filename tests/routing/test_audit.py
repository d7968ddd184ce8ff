"""The audit chain catches any edited, inserted, deleted or reordered row, and holds no text."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from routing.audit import (
    GENESIS_HASH,
    RECORD_FIELDS,
    ROW_FIELDS,
    AuditRecord,
    JsonlAuditLog,
    chain,
    export_jsonl,
    read_jsonl,
    record_for,
    seal,
    verify,
)
from routing.decision import RouteRequest
from routing.policy import Policy, SensitivityPolicy
from routing.providers import make_provider
from routing.router import Router

WHEN = datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)
SECRET_TEXT = ("PRIVILEGED & CONFIDENTIAL. Project Halyard: wire to IBAN GB69 BARC 2000 5512 "
               "3456 78, call Dana Whitfield on +44 20 7946 0958")


def make_rows(n: int = 5, key: bytes | None = None) -> list[dict]:
    rows: list[dict] = []
    for i in range(n):
        record = AuditRecord(time=f"2026-03-01T09:3{i}:00.000Z", event="route",
                             conversation_id=f"c{i % 2}", target="cloud" if i % 2 else "local",
                             provider="openai" if i % 2 else None, model="gpt-4o-mini",
                             rule="default", reason="the policy's default", sensitive=False,
                             categories={}, prompt_tokens=10 + i, completion_tokens=20 + i,
                             cost_usd="0.000123" if i % 2 else None)
        rows.append(seal(record, rows[-1] if rows else None, key=key))
    return rows


def test_an_untouched_chain_verifies() -> None:
    rows = make_rows()
    assert verify(rows) is None and verify([]) is None
    assert rows[0]["prev_hash"] == GENESIS_HASH and rows[0]["seq"] == 1
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, len(rows)))
    assert set(rows[0]) == set(ROW_FIELDS)
    assert rows[2]["hash"] == chain(rows[1]["hash"], rows[2])


@pytest.mark.parametrize("field", [f for f in RECORD_FIELDS if f != "seq"])
def test_editing_any_field_of_any_row_is_caught_at_that_row(field) -> None:
    for index in range(5):
        rows = make_rows()
        rows[index][field] = {"x": 1} if field == "categories" else "edited"
        assert verify(rows) == index, (field, index)


def test_inserting_a_row_is_caught() -> None:
    rows = make_rows()
    forged = copy.deepcopy(rows[2])
    forged["reason"] = "inserted"
    assert verify([*rows[:3], forged, *rows[3:]]) == 3
    # even a forged row sealed properly onto its predecessor breaks its successor
    resealed = seal(AuditRecord(**{k: rows[1][k] for k in RECORD_FIELDS if k != "seq"}),
                    rows[1])
    assert verify([*rows[:2], resealed, *rows[2:]]) == 3


def test_deleting_a_row_is_caught() -> None:
    rows = make_rows()
    for index in range(4):
        assert verify(rows[:index] + rows[index + 1:]) == index


def test_reordering_rows_is_caught() -> None:
    rows = make_rows()
    rows[1], rows[2] = rows[2], rows[1]
    assert verify(rows) == 1


def test_deleting_the_last_rows_needs_the_head_anchor() -> None:
    rows = make_rows()
    head = (len(rows), rows[-1]["hash"])
    assert verify(rows[:3]) is None  # a shorter chain is still a chain
    assert verify(rows[:3], head=head) == 3
    assert verify(rows, head=head) is None
    assert verify(rows, head=(5, "0" * 64)) == 4


def test_a_keyed_chain_cannot_be_recomputed_without_the_key() -> None:
    key = b"from-the-os-keyring"
    rows = make_rows(key=key)
    assert verify(rows, key=key) is None
    assert verify(rows) == 0  # plain SHA-256 does not match HMAC rows
    # an attacker rewriting the chain without the key produces rows the key rejects
    forged = make_rows()
    assert verify(forged) is None and verify(forged, key=key) == 0


def test_rows_survive_a_database_style_round_trip() -> None:
    rows = make_rows()
    stored = [{**row, "categories": json.dumps(row["categories"]), "id": 100 + i}
              for i, row in enumerate(rows)]  # as a table would keep them, with its own id
    loaded = [{**row, "categories": json.loads(row["categories"])} for row in stored]
    assert verify(loaded) is None


def test_export_and_read_back_jsonl(tmp_path) -> None:
    rows = make_rows()
    buffer = io.StringIO()
    assert export_jsonl(rows, buffer) == 5
    path = tmp_path / "audit.jsonl"
    path.write_text(buffer.getvalue())
    assert read_jsonl(path) == rows and verify(read_jsonl(path)) is None
    path.write_text(buffer.getvalue() + '{"seq": 6, "torn')
    assert verify(read_jsonl(path)) == 5


def test_record_for_a_sensitive_decision_holds_counts_not_content() -> None:
    router = Router(Policy(sensitivity=SensitivityPolicy(custom_terms=("Project Halyard",))),
                    [make_provider("openai")])
    decision = router.decide(RouteRequest(SECRET_TEXT, "conv-1", route="cloud"),
                             local_model="smollm2")
    record = record_for(decision, conversation_id="conv-1", prompt_tokens=42,
                        completion_tokens=7, cost_usd=Decimal("0"), when=WHEN)
    assert record.time == "2026-03-01T09:30:00.123Z"
    assert (record.target, record.rule, record.sensitive) == ("local", "sensitivity", True)
    assert record.categories == {"custom": 1, "financial": 1, "personal": 1, "privilege": 1}
    row = seal(record, None)
    text = json.dumps(row)
    for start, end, _ in decision.spans:
        assert SECRET_TEXT[start:end] not in text
    for fragment in ("Halyard", "GB69", "Whitfield", "7946", "PRIVILEGED"):
        assert fragment not in text


def test_file_backed_log_appends_verifies_and_resumes(tmp_path) -> None:
    path = tmp_path / "audit" / "audit.jsonl"
    log = JsonlAuditLog(path)
    router = Router()
    for text in ("hello", "my SSN is 123-45-6789", "bye"):
        log.append(record_for(router.decide(RouteRequest(text, "c"), local_model="m"),
                              conversation_id="c", when=WHEN))
    assert log.verify() is None and [r["seq"] for r in log.rows()] == [1, 2, 3]
    resumed = JsonlAuditLog(path)  # a new process continues the same chain
    resumed.append(record_for(router.decide(RouteRequest("again", "c"), local_model="m"),
                              conversation_id="c", when=WHEN))
    assert resumed.verify() is None and len(resumed.rows()) == 4
    lines = path.read_text().splitlines()
    edited = json.loads(lines[1])
    edited["rule"] = "default"
    lines[1] = json.dumps(edited)
    path.write_text("\n".join(lines) + "\n")
    assert resumed.verify() == 1


def test_two_writers_taking_turns_keep_one_chain(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    first, second = JsonlAuditLog(path), JsonlAuditLog(path)
    router = Router()
    for index in range(6):
        log = first if index % 2 else second
        log.append(record_for(router.decide(RouteRequest(f"message {index}"), local_model="m"),
                              conversation_id="c", when=WHEN))
    assert first.verify() is None and len(first.rows()) == 6


def test_the_tail_of_a_large_log_is_found(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    log = JsonlAuditLog(path)
    long_reason = "r" * 10_000  # rows longer than the first block read from the end
    for _ in range(3):
        log.append(AuditRecord(time="t", event="route", conversation_id=None, target="local",
                               provider=None, model=None, rule="default", reason=long_reason))
    assert log.verify() is None and [r["seq"] for r in log.rows()] == [1, 2, 3]


KEY = bytes(range(32))


def test_walk_reads_unkeyed_rows_then_keyed_ones() -> None:
    from routing.audit import walk

    rows = make_rows(2)
    for _ in range(3):  # keyed rows continue the unkeyed chain
        record = AuditRecord(**{k: rows[-1][k] for k in RECORD_FIELDS if k != "seq"})
        rows.append(seal(record, rows[-1], key=KEY))
    walked = walk(rows, key=KEY)
    assert (walked.start_seq, walked.holding, walked.plain, walked.broken) == (1, 5, 2, None)
    # Without the key the keyed rows cannot be told from forged ones: the walk stops there.
    assert walk(rows, key=None).broken == 2


def test_walk_refuses_an_unkeyed_row_after_keyed_ones() -> None:
    from routing.audit import walk

    rows = make_rows(3, key=KEY)
    forged = seal(AuditRecord(**{k: rows[-1][k] for k in RECORD_FIELDS if k != "seq"}),
                  rows[-1])
    walked = walk([*rows, forged], key=KEY)
    assert walked.broken == 3 and "only hash-chained after keyed rows" in walked.problem
    # A whole chain recomputed without the key holds as a plain chain: only the head (its
    # first MAC, kept in the keyring) can tell it from the real one.
    recomputed = make_rows(3)
    assert walk(recomputed, key=KEY).plain == 3


def test_walk_reports_where_a_cut_chain_starts() -> None:
    from routing.audit import walk

    rows = make_rows(5, key=KEY)
    walked = walk(rows[2:], key=KEY)
    assert (walked.start_seq, walked.broken) == (3, None)
