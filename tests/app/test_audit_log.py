"""The audit table: rows chained as they are appended, and `stillroom audit verify` catching
a row edited, inserted or deleted straight in SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.config import database_url
from app.store.audit_anchor import ANCHOR_FILE, AuditAnchor
from app.store.audit_log import AuditLog
from app.store.db import open_engine
from routing.audit import record_for
from routing.decision import RouteDecision
from tests.conftest import requires_secret_service, run_cli, run_with_secret_service

DECISIONS = [
    RouteDecision("cloud", "forced", "you asked for fakecloud", provider="fakecloud",
                  model="gpt-4o-mini"),
    RouteDecision("local", "sensitivity", "personal data: answered on this machine",
                  sensitive=True, categories=("personal",), category_counts=(("personal", 2),)),
    RouteDecision("local", "failover", "fakecloud timed out; answered on this machine instead"),
    RouteDecision("local", "default", "the policy's default is this machine"),
]


# keyring's own setting for its backend: the CLI in a child process sees no keyring, as on a
# machine without one (keyring.backends.fail is what keyring picks there).
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process, no keyring either (the keyed cases run under the Secret Service)."""
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())


@pytest.fixture
def log(stillroom_home: Path) -> AuditLog:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    audit = AuditLog(open_engine(database_url(stillroom_home)), AuditAnchor(stillroom_home))
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
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 0 and "Audit log consistent: 4 rows" in result.stdout
    assert "NOT keyed" in result.stdout


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
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
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
    result = run_cli("audit", "export", str(target), home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 0 and "Exported 4 audit rows" in result.stderr
    exported = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert exported == log.rows()


@pytest.mark.parametrize("deleted", [1, 3, 4])
def test_deleting_the_last_rows_is_caught_by_the_anchored_head(
        stillroom_home: Path, log: AuditLog, deleted: int) -> None:
    """What is left after cutting the tail is a valid shorter chain; the head kept in
    audit-head.json still says how many rows were written."""
    execute(stillroom_home, "DELETE FROM audit WHERE seq > ?", 4 - deleted)
    assert log.verify() == 4 - deleted
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 1
    assert f"missing its last {deleted} row(s): 4 were written, {4 - deleted} remain" \
        in result.stderr


def test_the_anchor_follows_appends_and_keeps_a_replaced_log_visible(
        stillroom_home: Path, log: AuditLog) -> None:
    anchored = json.loads((stillroom_home / ANCHOR_FILE).read_text(encoding="utf-8"))
    rows = log.rows()
    assert anchored == {"first_hash": rows[0]["hash"], "count": 4, "last_hash": rows[-1]["hash"]}
    # Emptying the table and letting the app start a new chain must not make the old log's
    # loss disappear: the head moves to the new log and remembers the one it replaced.
    execute(stillroom_home, "DELETE FROM audit")
    log.append([record_for(DECISIONS[3], conversation_id="new")])
    head = json.loads((stillroom_home / ANCHOR_FILE).read_text(encoding="utf-8"))
    assert head["count"] == 1 and head["replaced"]["count"] == 4
    assert log.verify() == 0
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 1
    assert "was replaced: an earlier log of 4 rows" in result.stderr


ROLLBACK_SCRIPT = """
import shutil, sys
from pathlib import Path
from app.config import database_url
from app.store.audit_anchor import AuditAnchor
from app.store.audit_log import AuditLog
from app.store.db import open_engine
from routing.audit import record_for
from routing.decision import RouteDecision

home = Path(sys.argv[1])
log = AuditLog(open_engine(database_url(home)), AuditAnchor(home))
decision = RouteDecision("local", "default", "the policy's default is this machine")
log.append([record_for(decision, conversation_id="a")])
log.append([record_for(decision, conversation_id="b")])
saved = home.parent / "saved"
saved.mkdir()
shutil.copy(home / "audit-head.json", saved / "audit-head.json")
log.append([record_for(decision, conversation_id="c")])
# Someone removes the last row and puts back the older head file: the file agrees with the
# database again, but the keyring's copy does not.
# The store is encrypted here (a keyring exists): the tamperer has the key too.
from app.store import encryption, sqlite_files
with sqlite_files.connect(home / "stillroom.db", encryption.stored_key()) as db:
    db.execute("DELETE FROM audit WHERE seq = 3")
shutil.copy(saved / "audit-head.json", home / "audit-head.json")
head, sources = log.head(log.rows())
print("SOURCES", sources, "HEAD", head.count, "BROKEN", log.verify())
"""


@requires_secret_service
def test_the_keyring_copy_catches_a_rollback_of_database_and_head_file(tmp_path: Path) -> None:
    home = tmp_path / "data"
    home.mkdir()
    result = run_with_secret_service(ROLLBACK_SCRIPT, str(home), home=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SOURCES ['keyring'] HEAD 3 BROKEN 2" in result.stdout
