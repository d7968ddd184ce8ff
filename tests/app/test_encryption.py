"""Conversations encrypted at rest (SQLCipher, key in the OS keyring): with the real Secret
Service (gnome-keyring in a private D-Bus session) where a keyring exists, and this test
process itself (keyring's fail backend) for the machine without one."""

from __future__ import annotations

import contextlib
import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from app.store import sqlite_files
from app.store.conversations import ConversationStore
from app.store.db import StoreError, open_engine
from tests.conftest import requires_secret_service, run_cli, run_with_secret_service

SECRET_TEXT = "Privileged: the client admits the merger closes on 14 March"

# Run inside the keyring session: the key and every byte the data directory holds.
KEY_AND_FILES = """
import keyring
from app.store.encryption import KEYRING_SERVICE, KEY_NAME
def key():
    return keyring.get_password(KEYRING_SERVICE, KEY_NAME)
def files_under(folder):
    return [p for p in Path(folder).rglob("*") if p.is_file()]
def leaks(folder, needle):
    return [str(p) for p in files_under(folder) if needle in p.read_bytes()]
"""


def _session(script: str, *args: str, home: Path, timeout: int = 300):
    """Run `script` with the real Secret Service; its keyring lives under `home`, so two
    calls with the same `home` share the key and a different `home` has none."""
    home.mkdir(exist_ok=True)
    result = run_with_secret_service("import sys\nfrom pathlib import Path\n" + KEY_AND_FILES
                                     + textwrap.dedent(script), *args, home=home,
                                     timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plaintext_store(path: Path, conversations: int = 3) -> dict:
    """A plaintext database with conversations, made where there is no keyring (here)."""
    store = ConversationStore(open_engine(f"sqlite:///{path}"))
    for number in range(conversations):
        conversation = store.create(model_id="m", system_prompt=f"prompt {number}")
        store.add_user_message(conversation.id, f"{SECRET_TEXT} #{number}")
        writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                    route_rule="r", route_reason="why")
        writer.append(f"answer {number}")
        writer.finish("complete")
    store.engine.dispose()
    assert path.read_bytes()[:16] == sqlite_files.SQLITE_HEADER
    with contextlib.closing(sqlite_files.connect(path, None)) as connection:
        return {name: list(value)
                for name, value in sqlite_files.content_digest(connection).items()}


NEW_STORE = """
from app.store.conversations import ConversationStore
from app.store.db import open_engine
from app.store.encryption import status_of
from app.cli.doctor_cmd import _encryption
data = Path(sys.argv[1]); data.mkdir()
url = f"sqlite:///{data / 'stillroom.db'}"
store = ConversationStore(open_engine(url))
conversation = store.create(model_id="m", system_prompt=None)
store.add_user_message(conversation.id, sys.argv[2])
status = status_of(store.engine)
engine_open = [p.name for p in files_under(data)]
leaked_while_open = leaks(data, sys.argv[2].encode())
store.engine.dispose()
print(json.dumps({"header": (data / "stillroom.db").read_bytes()[:16].hex(),
                  "status": [status.encrypted, status.line()], "doctor": _encryption(url),
                  "files_while_open": engine_open, "leaked_while_open": leaked_while_open,
                  "leaked": leaks(data, sys.argv[2].encode()),
                  "key_on_disk": leaks(data.parent, key().encode()) + leaks(data.parent,
                                                                            bytes.fromhex(key())),
                  "key_is_256_bit": len(bytes.fromhex(key())) == 32}))
"""


@requires_secret_service
def test_a_new_store_is_encrypted_and_holds_no_plaintext(tmp_path: Path) -> None:
    seen = _session("import json\n" + NEW_STORE, str(tmp_path / "data"), SECRET_TEXT,
                    home=tmp_path)
    assert bytes.fromhex(seen["header"]) != sqlite_files.SQLITE_HEADER
    assert seen["status"] == [True, "encrypted at rest (SQLCipher 4, key in the OS keyring)"]
    assert seen["doctor"] == {"encrypted": True, "state": seen["status"][1]}
    assert "stillroom.db-wal" in seen["files_while_open"]  # the WAL was there, and checked
    assert seen["leaked_while_open"] == [] and seen["leaked"] == []
    assert seen["key_on_disk"] == [] and seen["key_is_256_bit"]


MIGRATE = """
import contextlib, json
from app.store import sqlite_files
from app.store.db import open_engine
from app.store.encryption import status_of
database = Path(sys.argv[1])
engine = open_engine(f"sqlite:///{database}")
notice = status_of(engine).notice
rows = engine.connect().exec_driver_sql("SELECT content FROM messages ORDER BY id").all()
engine.dispose()
with contextlib.closing(sqlite_files.connect(database, key())) as connection:
    after = sqlite_files.content_digest(connection)
(backup,) = database.parent.glob("stillroom-plaintext-backup-*.db")
with contextlib.closing(sqlite_files.connect(backup, None)) as connection:
    backup_ok = sqlite_files.integrity_ok(connection)
    in_backup = sqlite_files.content_digest(connection)
print(json.dumps({"after": after, "backup": in_backup, "backup_ok": backup_ok,
                  "backup_name": backup.name, "notice": notice,
                  "header": database.read_bytes()[:16].hex(),
                  "leaked": [p for p in leaks(database.parent, sys.argv[2].encode())],
                  "rows": [row[0] for row in rows],
                  "sidecars": sorted(p.name for p in database.parent.iterdir())}))
"""


@requires_secret_service
def test_a_plaintext_store_is_migrated_in_place_after_a_verified_backup(
        tmp_path: Path, stillroom_home: Path) -> None:
    stillroom_home.mkdir()
    database = stillroom_home / "stillroom.db"
    before = _plaintext_store(database)
    seen = _session(MIGRATE, str(database), SECRET_TEXT, home=tmp_path)
    assert bytes.fromhex(seen["header"]) != sqlite_files.SQLITE_HEADER
    assert seen["after"] == before  # every row of every table, byte for byte
    assert seen["backup_ok"] and seen["backup"] == before
    assert seen["rows"][0] == f"{SECRET_TEXT} #0" and len(seen["rows"]) == 6
    # The plaintext is left only in the backup, which the user is told about.
    assert seen["leaked"] == [str(stillroom_home / seen["backup_name"])]
    assert seen["backup_name"] in seen["notice"]
    assert "stillroom.db.encrypting" not in seen["sidecars"]


def test_without_a_keyring_the_store_stays_plaintext_and_doctor_says_why(
        stillroom_home: Path) -> None:
    stillroom_home.mkdir()
    _plaintext_store(stillroom_home / "stillroom.db", conversations=1)
    result = run_cli("doctor", home=stillroom_home)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("Chats")]
    assert line.startswith("Chats     not encrypted: no OS keyring")
    assert "never keeps a passphrase on disk" in line
    report = json.loads(run_cli("doctor", "--json", home=stillroom_home).stdout)
    assert report["database_encryption"]["encrypted"] is False
    # Nothing but the database (and its WAL) was written: no key or passphrase file.
    assert {p.name for p in stillroom_home.iterdir()} <= {
        "stillroom.db", "stillroom.db-wal", "stillroom.db-shm"}


ENCRYPTED_STORE = """
import json
from app.store.conversations import ConversationStore
from app.store.db import open_engine
database = Path(sys.argv[1]); database.parent.mkdir(exist_ok=True)
store = ConversationStore(open_engine(f"sqlite:///{database}"))
store.add_user_message(store.create(model_id="m", system_prompt=None).id, "kept")
store.engine.dispose()
print(json.dumps({"encrypted": database.read_bytes()[:16] != b"SQLite format 3\\x00"}))
"""

OPEN_IT = """
import json
from app.store.db import StoreError, open_engine
try:
    open_engine(f"sqlite:///{sys.argv[1]}")
    print(json.dumps("opened"))
except StoreError as exc:
    print(json.dumps(str(exc)))
"""


@requires_secret_service
def test_an_encrypted_store_without_its_key_is_never_opened_or_replaced(
        tmp_path: Path) -> None:
    database = tmp_path / "data" / "stillroom.db"
    assert _session(ENCRYPTED_STORE, str(database), home=tmp_path / "a")["encrypted"]
    digest = _sha256(database)
    # Another keyring (another user, a reset keyring): no key for this file.
    message = _session(OPEN_IT, str(database), home=tmp_path / "b")
    assert "it is encrypted and the OS keyring holds no database key" in message
    # No keyring at all (this process).
    with pytest.raises(StoreError, match="it is encrypted and no OS keyring is available"):
        open_engine(f"sqlite:///{database}")
    assert _sha256(database) == digest
    assert sorted(p.name for p in database.parent.iterdir()) == ["stillroom.db"]
    # With its own keyring it opens as before.
    assert _session(OPEN_IT, str(database), home=tmp_path / "a") == "opened"


# The CLI as a user runs it, inside the keyring session.
CLI = """
import json, os, subprocess
def cli(home, *args):
    done = subprocess.run([sys.executable, "-m", "app.cli.main", *args], capture_output=True,
                          text=True, env={**os.environ, "STILLROOM_HOME": str(home)})
    return [done.returncode, done.stdout, done.stderr]
def conversations(home):
    from app.store.conversations import ConversationStore
    from app.store.db import open_engine
    store = ConversationStore(open_engine(f"sqlite:///{Path(home) / 'stillroom.db'}"))
    try:
        return [[c.title, [[m.role, m.content, m.status] for m in store.messages(c.id)]]
                for c in store.list()]
    finally:
        store.engine.dispose()
"""

ROUND_TRIP = CLI + """
first, second, backup = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
from app.store.conversations import ConversationStore
from app.store.db import open_engine
first.mkdir()
store = ConversationStore(open_engine(f"sqlite:///{first / 'stillroom.db'}"))
for number in range(3):
    conversation = store.create(model_id="m", system_prompt=None)
    store.add_user_message(conversation.id, f"{sys.argv[4]} #{number}")
    writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                route_rule="r", route_reason="why")
    writer.append(f"answer {number}")
    writer.finish("complete")
no_folder = cli(first, "backup", str(backup))
backup.parent.mkdir()
# The backup is made while this store is still open (the online backup API).
made = cli(first, "backup", str(backup))
store.engine.dispose()
refused = cli(first, "backup", str(backup))
restored = cli(second, "restore", str(backup))
over_without_replace = cli(second, "restore", str(backup))
over = cli(second, "restore", "--replace", str(backup))
print(json.dumps({"over_without_replace": over_without_replace, "over": over,
                  "backup": made, "again": refused, "no_folder": no_folder,
                  "restore": restored,
                  "header": backup.read_bytes()[:16].hex(),
                  "leaked": leaks(backup.parent, sys.argv[4].encode()),
                  "first": conversations(first), "second": conversations(second),
                  "second_files": sorted(p.name for p in second.iterdir())}))
"""


@requires_secret_service
def test_backup_then_restore_into_a_new_data_directory_gives_the_same_conversations(
        tmp_path: Path) -> None:
    seen = _session(ROUND_TRIP, str(tmp_path / "first"), str(tmp_path / "second"),
                    str(tmp_path / "backups" / "chats.stillroom-backup"), SECRET_TEXT,
                    home=tmp_path / "keyring")
    assert seen["no_folder"][0] == 2 and "does not exist; create it first" in seen["no_folder"][2]
    assert seen["backup"][0] == 0, seen["backup"]
    assert "Backed up 3 conversations to" in seen["backup"][1]
    assert "encrypted with the database key in the OS keyring" in seen["backup"][1]
    assert bytes.fromhex(seen["header"]) != sqlite_files.SQLITE_HEADER
    assert seen["leaked"] == []
    assert seen["again"][0] == 2 and "already exists" in seen["again"][2]
    assert seen["restore"][0] == 0, seen["restore"]
    assert "Restored 3 conversations into" in seen["restore"][1]
    assert len(seen["first"]) == 3 and seen["second"] == seen["first"]
    assert seen["first"][0][1][0][1].startswith(SECRET_TEXT)
    # A database with conversations is replaced only when asked, and then kept aside.
    code, _out, error = seen["over_without_replace"]
    assert code == 2 and "holds 3 conversations; add --replace" in error
    assert seen["over"][0] == 0 and "The database it replaced is kept at" in seen["over"][1]
    (kept,) = [n for n in seen["second_files"] if "-before-restore-" in n]
    assert kept in seen["over"][1]
    assert [n for n in seen["second_files"] if n.startswith("stillroom.db")] == ["stillroom.db"]


DAMAGED_RESTORE = CLI + """
import hashlib, shutil
home, backup = Path(sys.argv[1]), Path(sys.argv[2])
from app.store.conversations import ConversationStore
from app.store.db import open_engine
home.mkdir()
store = ConversationStore(open_engine(f"sqlite:///{home / 'stillroom.db'}"))
store.add_user_message(store.create(model_id="m", system_prompt=None).id, "keep me")
store.engine.dispose()
assert cli(home, "backup", str(backup))[0] == 0
def state():
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in home.iterdir()}
before = state()
damaged = {}
size = backup.stat().st_size
def flipped(data, at=size // 2):
    return data[:at] + bytes(b ^ 0xFF for b in data[at:at + 64]) + data[at + 64:]
variants = {"flipped": flipped,
            "truncated": lambda data: data[:size // 3],
            "garbage": lambda data: b"not a database at all" * 200,
            "empty": lambda data: b""}
for name, damage in variants.items():
    copy = backup.with_name(name)
    copy.write_bytes(damage(backup.read_bytes()))
    damaged[name] = cli(home, "restore", "--replace", str(copy))
damaged["missing"] = cli(home, "restore", str(backup.with_name("nope")))
print(json.dumps({"damaged": damaged, "unchanged": state() == before,
                  "conversations": conversations(home)}))
"""


@requires_secret_service
def test_restore_of_a_damaged_file_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    seen = _session(DAMAGED_RESTORE, str(tmp_path / "data"), str(tmp_path / "chats.backup"),
                    home=tmp_path / "keyring")
    for name, (code, stdout, stderr) in seen["damaged"].items():
        assert code == 2, (name, stdout, stderr)
        assert stderr.count("\n") == 1 and "Traceback" not in stderr, (name, stderr)
        assert "nothing was changed" in stderr, (name, stderr)
    assert "is not a Stillroom backup this keyring can open" in seen["damaged"]["garbage"][2]
    assert seen["unchanged"]
    assert seen["conversations"][0][1] == [["user", "keep me", "complete"]]


def test_databases_other_than_a_sqlite_file_are_described_not_touched(tmp_path: Path) -> None:
    from app.store.encryption import describe, prepare

    server = "postgresql://stillroom@db.office.example/chats"
    assert describe(server).line() == (
        "not encrypted by Stillroom: PostgreSQL at db.office.example keeps the "
        "conversations; encryption at rest is the database server's job (its administrator's "
        "disk or volume encryption); the connection may be unencrypted (sslmode=prefer): add "
        "?sslmode=verify-full to the URL")
    assert prepare(server).options == {}
    assert describe("sqlite://").line() == "not on disk: the database is in memory"


def test_is_encrypted_reads_only_the_header(tmp_path: Path) -> None:
    plain, other, empty = tmp_path / "plain.db", tmp_path / "other.db", tmp_path / "empty.db"
    plain.write_bytes(sqlite_files.SQLITE_HEADER + b"\0" * 100)
    other.write_bytes(b"\x8a" * 116)
    empty.write_bytes(b"")
    assert [sqlite_files.is_encrypted(p) for p in (plain, other, empty, tmp_path / "none")] \
        == [False, True, False, False]


RESTORE_INTO = CLI + """
home, backup = Path(sys.argv[1]), Path(sys.argv[2])
restored = cli(home, "restore", str(backup))
print(json.dumps({"restore": restored, "header": (home / "stillroom.db").read_bytes()[:16].hex(),
                  "conversations": conversations(home)}))
"""


@requires_secret_service
def test_a_plaintext_backup_restored_where_a_keyring_exists_comes_back_encrypted(
        tmp_path: Path, stillroom_home: Path) -> None:
    stillroom_home.mkdir()
    _plaintext_store(stillroom_home / "stillroom.db", conversations=2)
    backup = tmp_path / "plain.backup"
    made = run_cli("backup", str(backup), home=stillroom_home)
    assert made.returncode == 0, made.stderr
    assert "NOT encrypted (no OS keyring" in made.stdout
    assert backup.read_bytes()[:16] == sqlite_files.SQLITE_HEADER
    seen = _session(RESTORE_INTO, str(tmp_path / "new-home"), str(backup), home=tmp_path)
    assert seen["restore"][0] == 0 and "(encrypted)" in seen["restore"][1], seen["restore"]
    assert bytes.fromhex(seen["header"]) != sqlite_files.SQLITE_HEADER
    assert [messages[0][1] for _title, messages in seen["conversations"]] == [
        f"{SECRET_TEXT} #1", f"{SECRET_TEXT} #0"]


@requires_secret_service
def test_a_plaintext_store_open_elsewhere_is_left_alone_and_the_start_says_why(
        tmp_path: Path, stillroom_home: Path) -> None:
    import sqlite3

    stillroom_home.mkdir()
    database = stillroom_home / "stillroom.db"
    _plaintext_store(database, conversations=1)
    before = {p.name: _sha256(p) for p in stillroom_home.iterdir()}
    # Another Stillroom (this process) has the file open, idle, as the GUI would. Nothing
    # else here may open the file meanwhile: closing any descriptor of it drops this
    # process's POSIX locks, SQLite's among them.
    other = sqlite3.connect(database)
    try:
        other.execute("SELECT count(*) FROM messages").fetchone()
        message = _session(OPEN_IT, str(database), home=tmp_path)
    finally:
        other.close()
    after = {p.name: _sha256(p) for p in stillroom_home.iterdir()}
    assert "is open in another Stillroom window or command; close that and start again" \
        in message
    assert after == before  # no backup, no half-made copy, the file untouched
