"""The audit table: rows chained as they are appended, and `stillroom audit verify` catching
a row edited, inserted or deleted straight in SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.config import database_url
from app.store.audit_log import AuditLog
from app.store.db import open_engine
from routing.audit import record_for
from routing.decision import RouteDecision
from tests.conftest import run_cli

DECISIONS = [
    RouteDecision("cloud", "forced", "you asked for fakecloud", provider="fakecloud",
                  model="gpt-4o-mini"),
    RouteDecision("local", "sensitivity", "personal data: answered on this machine",
                  sensitive=True, categories=("personal",), category_counts=(("personal", 2),)),
    RouteDecision("local", "failover", "fakecloud timed out; answered on this machine instead"),
    RouteDecision("local", "default", "the policy's default is this machine"),
]


@pytest.fixture
def log(stillroom_home: Path) -> AuditLog:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    audit = AuditLog(open_engine(database_url(stillroom_home)))
    for number, decision in enumerate(DECISIONS):
        audit.append([record_for(decision, conversation_id=f"c{number}", prompt_tokens=10,
                                 completion_tokens=5, cost_usd="0.000150")])
    yield audit
    audit.engine.dispose()


def execute(home: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(home / "stillroom.db") as connection:
        connection.execute(statement, params)


def test_rows_chain_and_read_back_as_written(log: AuditLog) -> None:
    rows = log.rows()
    assert [row["seq"] for row in rows] == [1, 2, 3, 4]
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    assert rows[1]["categories"] == {"personal": 2} and rows[1]["sensitive"] is True
    assert log.verify() is None


def test_verify_command_passes_an_intact_log(stillroom_home: Path, log: AuditLog) -> None:
    result = run_cli("audit", "verify", home=stillroom_home)
    assert result.returncode == 0 and "Audit log intact: 4 rows" in result.stdout


@pytest.mark.parametrize(("tamper", "row"), [
    ("UPDATE audit SET target = 'cloud' WHERE seq = 2", "row 2 (seq 2)"),
    ("UPDATE audit SET categories = '{}' WHERE seq = 2", "row 2 (seq 2)"),
    ("DELETE FROM audit WHERE seq = 2", "row 2 (seq 3)"),
    ("INSERT INTO audit (id, seq, time, event, conversation_id, target, rule, reason, "
     "refused, sensitive, categories, prev_hash, hash) SELECT 99, 5, time, event, "
     "conversation_id, target, rule, reason, refused, sensitive, categories, hash, "
     "'f00d' FROM audit WHERE seq = 4", "row 5 (seq 5)"),
])
def test_verify_names_the_first_broken_row(stillroom_home: Path, log: AuditLog, tamper: str,
                                           row: str) -> None:
    execute(stillroom_home, tamper)
    result = run_cli("audit", "verify", home=stillroom_home)
    assert result.returncode == 1
    assert f"broken at {row}" in result.stderr


def test_a_recomputed_forgery_inside_the_chain_breaks_the_next_row(
        stillroom_home: Path, log: AuditLog) -> None:
    """Editing a row and fixing its own hash still breaks the following row's prev_hash."""
    from routing.audit import chain

    first, second = log.rows()[:2]
    forged = {**second, "target": "cloud"}
    execute(stillroom_home, "UPDATE audit SET target = 'cloud', hash = ? WHERE seq = 2",
            chain(first["hash"], forged))
    assert log.verify() == 2


def test_export_writes_every_row_as_json_lines(stillroom_home: Path, log: AuditLog,
                                               tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    result = run_cli("audit", "export", str(target), home=stillroom_home)
    assert result.returncode == 0 and "Exported 4 audit rows" in result.stderr
    exported = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert exported == log.rows()
