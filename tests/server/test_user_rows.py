"""The user on audit rows (revision 0005): covered by the chain's hash only when set, so a
log written before the field existed verifies unchanged, and setting, changing or clearing a
row's user is caught like any other edit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.config import database_url
from app.store.audit_anchor import AuditAnchor
from app.store.audit_log import AuditLog
from app.store.db import open_engine
from routing.audit import GENESIS_HASH, chain, record_for, seal
from routing.decision import RouteDecision

DECISION = RouteDecision("local", "default", "the policy's default is this machine")


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())


def test_a_row_without_a_user_hashes_as_before_the_field_existed() -> None:
    row = seal(record_for(DECISION, conversation_id="c1"), None)
    assert "user" not in row
    # The same body with an explicit user of None: the same hash (old rows verify as written).
    assert chain(GENESIS_HASH, {**row, "user": None}) == row["hash"]
    with_user = seal(record_for(DECISION, conversation_id="c1", user="alice"), None)
    assert with_user["user"] == "alice"
    assert chain(GENESIS_HASH, {**with_user, "user": None}) != with_user["hash"]


@pytest.fixture
def log(stillroom_home: Path) -> AuditLog:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    audit = AuditLog(open_engine(database_url(stillroom_home)), AuditAnchor(stillroom_home))
    audit.append([record_for(DECISION, conversation_id="c0")])  # the desktop's row
    audit.append([record_for(DECISION, conversation_id="c1", user="alice")])
    audit.append([record_for(DECISION, conversation_id="c2", user="bob")])
    yield audit
    audit.engine.dispose()


def test_users_read_back_and_the_chain_holds(log: AuditLog) -> None:
    assert [row.get("user") for row in log.rows()] == [None, "alice", "bob"]
    assert log.verify() is None


@pytest.mark.parametrize(("statement", "broken"), [
    ("UPDATE audit SET user = 'mallory' WHERE seq = 2", 1),
    ("UPDATE audit SET user = NULL WHERE seq = 3", 2),
    ("UPDATE audit SET user = 'alice' WHERE seq = 1", 0),
])
def test_editing_a_rows_user_breaks_the_chain_there(stillroom_home: Path, log: AuditLog,
                                                    statement: str, broken: int) -> None:
    with sqlite3.connect(stillroom_home / "stillroom.db") as connection:
        connection.execute(statement)
    assert log.verify() == broken
