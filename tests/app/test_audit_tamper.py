"""Issue #13 section 4: the attacks on the audit trail that used to pass `audit verify`.

The keyed cases run against the real Secret Service (gnome-keyring in a private D-Bus
session): the app writes rows, an attacker with write access to the data directory (not the
keyring) tampers with the SQLite file and audit-head.json, then `stillroom audit verify` runs
as a user would. The no-keyring cases run here, with keyring's own fail backend.
"""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest

from app.config import database_url
from app.store.audit_anchor import AuditAnchor
from app.store.audit_log import AuditLog
from app.store.db import open_engine
from routing.audit import record_for
from routing.decision import RouteDecision
from tests.conftest import requires_secret_service, run_cli, run_with_secret_service

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
DECISION = RouteDecision("local", "default", "the policy's default is this machine")

# Shared by the keyed scripts: the app writes four rows (one turn each); `forge` is what an
# attacker without the keyring does: rewrite rows from `start` on with plain SHA-256 hashes
# (the only chain they can compute) and make audit-head.json agree.
ATTACKER = textwrap.dedent("""
    import json, os, sqlite3, subprocess, sys
    from pathlib import Path
    from app.config import database_url
    from app.store.audit_anchor import AuditAnchor
    from app.store.audit_log import AuditLog
    from app.store.db import open_engine
    from routing.audit import chain, record_for
    from routing.decision import RouteDecision
    from app.store import encryption, sqlite_files

    home = Path(sys.argv[1])
    home.mkdir(parents=True, exist_ok=True)
    os.environ["STILLROOM_HOME"] = str(home)
    decision = RouteDecision("cloud", "forced", "you asked for fakecloud",
                             provider="fakecloud", model="gpt-4o-mini")

    def app_writes(count, **anchor_options):
        log = AuditLog(open_engine(database_url(home)), AuditAnchor(home, **anchor_options))
        for number in range(count):
            log.append([record_for(decision, conversation_id=f"c{number}")])
        log.engine.dispose()

    def open_db():
        # The store is encrypted where a keyring exists: this attacker has the database key
        # (it sits in the same keyring) but not the audit key, which is what is tested.
        return sqlite_files.connect(home / "stillroom.db", encryption.stored_key())

    def rows():
        with open_db() as db:
            db.row_factory = sqlite_files.sqlcipher().Row
            found = [dict(row) for row in db.execute("SELECT * FROM audit ORDER BY id")]
        for row in found:
            row["categories"] = json.loads(row["categories"])
            row["refused"], row["sensitive"] = bool(row["refused"]), bool(row["sensitive"])
        return found

    def forge(start, edit=None):
        forged = rows()
        with open_db() as db:
            for index in range(start, len(forged)):
                row = forged[index]
                if edit and index == start:
                    row.update(edit)
                row["prev_hash"] = forged[index - 1]["hash"] if index else "0" * 64
                row["hash"] = chain(row["prev_hash"], row)
                db.execute("UPDATE audit SET target = ?, prev_hash = ?, hash = ? WHERE id = ?",
                           (row["target"], row["prev_hash"], row["hash"], row["id"]))
        write_head(forged)

    def append_forged():
        last = rows()[-1]
        row = {**last, "seq": last["seq"] + 1, "target": "local", "prev_hash": last["hash"]}
        row["hash"] = chain(last["hash"], row)
        with open_db() as db:
            db.execute("INSERT INTO audit (seq, time, event, conversation_id, target, provider, "
                       "model, rule, reason, refused, sensitive, categories, prev_hash, hash) "
                       "SELECT ?, time, event, conversation_id, ?, provider, model, rule, "
                       "reason, refused, sensitive, categories, ?, ? FROM audit WHERE seq = ?",
                       (row["seq"], row["target"], row["prev_hash"], row["hash"], last["seq"]))
        write_head(rows())

    def write_head(chain_rows):
        (home / "audit-head.json").write_text(json.dumps(
            {"first_hash": chain_rows[0]["hash"], "count": len(chain_rows),
             "last_hash": chain_rows[-1]["hash"]}))

    def stillroom(*args):
        done = subprocess.run([sys.executable, "-m", "app.cli.main", *args],
                              capture_output=True, text=True)
        print("EXIT", done.returncode)
        print("OUT", done.stdout.strip())
        print("ERR", done.stderr.strip())
""")


def run_attack(tmp_path: Path, steps: str) -> str:
    home = tmp_path / "data"
    result = run_with_secret_service(ATTACKER + textwrap.dedent(steps), str(home),
                                     home=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@requires_secret_service
def test_a_keyed_log_verifies_and_its_key_is_only_in_the_keyring(tmp_path: Path) -> None:
    output = run_attack(tmp_path, """
        app_writes(4)
        key = AuditAnchor(home).key(create=False)
        print("KEY", key.hex() if key else None)
        stillroom("audit", "verify")
        stillroom("doctor")
    """)
    key = output.split("KEY ", 1)[1].split()[0]
    assert len(key) == 64, output
    assert "EXIT 0\nOUT Audit log intact: 4 rows" in output
    assert "keyed: each row's MAC is HMAC-SHA256 under the audit key in the OS keyring" in output
    assert "Audit     keyed" in output
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes() and bytes.fromhex(key) not in \
                path.read_bytes(), path


@requires_secret_service
@pytest.mark.parametrize(("start", "verdict"), [
    # Every row rewritten: a valid SHA-256 chain whose first row is not the recorded one.
    (0, "does not begin with the row its head recorded: it was rewritten from its first row"),
    # Rows from the second on: the first keyed row is followed by unkeyed ones.
    (1, "broken at row 2 (seq 2): it is only hash-chained after keyed rows"),
])
def test_a_recomputed_chain_is_caught(tmp_path: Path, start: int, verdict: str) -> None:
    output = run_attack(tmp_path, f"""
        app_writes(4)
        forge({start}, edit={{"target": "local"}})
        stillroom("audit", "verify")
    """)
    assert "EXIT 1" in output and verdict in output, output


@requires_secret_service
def test_a_forged_row_appended_at_the_end_is_caught(tmp_path: Path) -> None:
    output = run_attack(tmp_path, """
        app_writes(4)
        append_forged()
        stillroom("audit", "verify")
    """)
    assert "EXIT 1" in output, output
    assert "broken at row 5 (seq 5): it is only hash-chained after keyed rows" in output


@requires_secret_service
def test_rows_from_before_keyed_audit_are_named_not_failed(tmp_path: Path) -> None:
    """Rows written before this change (or without a keyring) are SHA-256 only; verify says
    which, and the keyed rows after them still hold."""
    output = run_attack(tmp_path, """
        app_writes(2, use_keyring=False)
        app_writes(3)
        stillroom("audit", "verify")
    """)
    assert "EXIT 0\nOUT Audit log intact: 5 rows" in output, output
    assert "rows 1..2 are hash-chained only (written before keyed audit)" in output


@requires_secret_service
def test_rolling_back_database_and_head_file_is_caught_by_the_keyring(tmp_path: Path) -> None:
    output = run_attack(tmp_path, """
        import shutil
        app_writes(2)
        saved = home.parent / "saved"
        saved.mkdir()
        for name in ("stillroom.db", "audit-head.json"):
            shutil.copy(home / name, saved / name)
        app_writes(2)
        for name in ("stillroom.db", "audit-head.json"):
            shutil.copy(saved / name, home / name)
        for name in ("stillroom.db-wal", "stillroom.db-shm"):
            (home / name).unlink(missing_ok=True)
        stillroom("audit", "verify")
    """)
    assert "EXIT 1" in output, output
    assert "missing its last 2 row(s): 4 were written, 2 remain (the database was rolled back" \
        in output


# -- without a keyring --------------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())


def write_rows(home: Path, count: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    log = AuditLog(open_engine(database_url(home)), AuditAnchor(home))
    for number in range(count):
        log.append([record_for(DECISION, conversation_id=f"c{number}")])
    log.engine.dispose()


def sql(home: Path, statement: str) -> None:
    with sqlite3.connect(home / "stillroom.db") as db:
        db.execute(statement)


def test_without_a_keyring_a_rollback_is_declared_undetectable(stillroom_home: Path,
                                                                tmp_path: Path) -> None:
    """Restoring an older database and audit-head.json together leaves nothing to compare
    with: verify must say so, not call the log intact."""
    write_rows(stillroom_home, 2)
    saved = tmp_path / "saved"
    saved.mkdir()
    for name in ("stillroom.db", "audit-head.json"):
        shutil.copy(stillroom_home / name, saved / name)
    write_rows(stillroom_home, 2)
    for name in ("stillroom.db", "audit-head.json"):
        shutil.copy(saved / name, stillroom_home / name)
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 0, result.stderr
    assert "intact" not in result.stdout
    assert "Audit log consistent: 2 rows" in result.stdout
    assert ("NOT keyed: there is no OS keyring, so the rows are only hash-chained" in
            result.stdout)
    assert "a rollback of the database together with audit-head.json cannot be detected" in \
        result.stdout


def test_without_a_keyring_a_row_appended_past_the_head_is_caught(stillroom_home: Path) -> None:
    write_rows(stillroom_home, 3)
    sql(stillroom_home, "INSERT INTO audit (seq, time, event, conversation_id, target, rule, "
                        "reason, refused, sensitive, categories, prev_hash, hash) SELECT 4, "
                        "time, event, conversation_id, 'local', rule, reason, refused, "
                        "sensitive, categories, hash, hash FROM audit WHERE seq = 3")
    # A hash the attacker can compute: make the forged row a valid link of the SHA-256 chain.
    log = AuditLog(open_engine(database_url(stillroom_home)), AuditAnchor(stillroom_home))
    from routing.audit import chain

    rows = log.rows()
    sql(stillroom_home, f"UPDATE audit SET hash = '{chain(rows[2]['hash'], rows[3])}' "
                        "WHERE seq = 4")
    log.engine.dispose()
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 1
    assert "1 row(s) after the recorded head, from row 4 (seq 4)" in result.stderr


def test_a_cut_start_is_reported_as_such(stillroom_home: Path) -> None:
    write_rows(stillroom_home, 4)
    sql(stillroom_home, "DELETE FROM audit WHERE seq <= 2")
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 1
    assert "start was cut: its first 2 row(s) are missing (it begins at seq 3)" in result.stderr


def test_a_dropped_audit_table_is_a_verdict_not_a_crash(stillroom_home: Path) -> None:
    write_rows(stillroom_home, 3)
    sql(stillroom_home, "DROP TABLE audit")
    result = run_cli("audit", "verify", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == ("stillroom: the database has no audit table (it was dropped): the "
                        "routing audit trail is gone; keep this database aside as evidence "
                        "(3 rows were recorded at its head).")
    assert "crash" not in result.stderr and not (stillroom_home / "crash-reports").exists()
    exported = run_cli("audit", "export", home=stillroom_home, env=NO_KEYRING)
    assert exported.returncode == 2 and "no audit table" in exported.stderr
    assert len(exported.stderr.splitlines()) == 1


def test_export_to_a_missing_folder_is_one_line(stillroom_home: Path) -> None:
    write_rows(stillroom_home, 1)
    result = run_cli("audit", "export", "/nonexistent/dir/x.jsonl", home=stillroom_home,
                     env=NO_KEYRING)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "stillroom: cannot write the audit export to /nonexistent/dir/x.jsonl: No such file or "
        "directory; name a file in a folder that exists and that you can write to."]
    assert not (stillroom_home / "crash-reports").exists()


def test_doctor_says_the_trail_is_not_keyed_without_a_keyring(stillroom_home: Path) -> None:
    result = run_cli("doctor", home=stillroom_home, env=NO_KEYRING)
    assert result.returncode == 0, result.stderr
    assert "Audit     NOT keyed: there is no OS keyring" in result.stdout
    assert "cannot be detected" in result.stdout


def test_appending_to_a_dropped_table_is_one_clear_error(stillroom_home: Path) -> None:
    from app.store.audit_log import AuditTableMissingError

    write_rows(stillroom_home, 1)
    sql(stillroom_home, "DROP TABLE audit")
    log = AuditLog(open_engine(database_url(stillroom_home)), AuditAnchor(stillroom_home))
    with pytest.raises(AuditTableMissingError, match="no audit table"):
        log.append([record_for(DECISION, conversation_id="after")])
    log.engine.dispose()
