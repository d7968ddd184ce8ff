"""kill -9 in the middle of a streamed answer loses at most the last unflushed chunk."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from app.services import Services
from tests.conftest import REPO_ROOT, requires_secret_service, run_with_secret_service

LONG_PROMPT = "Write a 2000-word essay on the history of the Roman Empire, with many sections."


def _streaming_answer(database: Path) -> str | None:
    if not database.exists():
        return None
    try:
        with sqlite3.connect(database, timeout=5) as connection:
            row = connection.execute(
                "SELECT content FROM messages WHERE role='assistant' AND status='streaming'"
            ).fetchone()
    except sqlite3.OperationalError:  # the app is still creating its tables
        return None
    return row[0] if row else None


def test_kill_9_mid_answer_keeps_the_conversation(stillroom_home: Path) -> None:
    env = {**os.environ, "STILLROOM_HOME": str(stillroom_home)}
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "chat", "-t", "0", "--max-tokens", "2000",
         LONG_PROMPT], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    database = stillroom_home / "stillroom.db"
    try:
        seen = None
        deadline = time.monotonic() + 120  # a guard against a hang, not a speed limit
        while time.monotonic() < deadline and child.poll() is None:
            seen = _streaming_answer(database)
            if seen and len(seen.split()) >= 20:
                break
            time.sleep(0.05)
        assert seen, "the answer never reached the database while streaming"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        roles = connection.execute("SELECT role FROM messages ORDER BY id").fetchall()
    assert roles == [("user",), ("assistant",)]

    services = Services.open()
    try:
        assert services.recovered_answers == 1
        (conversation,) = services.store.list()
        question, answer = services.store.messages(conversation.id)
        assert question.content == LONG_PROMPT
        assert answer.status == "interrupted"
        assert answer.content.startswith(seen)  # everything flushed before the kill is kept
    finally:
        services.close()


ENCRYPTED_KILL_9 = """
import contextlib, json, os, signal, subprocess, sys, time
from pathlib import Path
import keyring
from app.store import sqlite_files
from app.store.encryption import KEY_NAME, KEYRING_SERVICE

home, prompt = Path(sys.argv[1]), sys.argv[2]
database = home / "stillroom.db"

def streaming_answer():
    key = keyring.get_password(KEYRING_SERVICE, KEY_NAME)
    if key is None or not database.exists():
        return None
    try:
        with contextlib.closing(sqlite_files.connect(database, key, timeout=5)) as db:
            row = db.execute("SELECT content FROM messages WHERE role='assistant' "
                             "AND status='streaming'").fetchone()
    except sqlite_files.sqlcipher().DatabaseError:  # tables not created yet
        return None
    return row[0] if row else None

child = subprocess.Popen(
    [sys.executable, "-m", "app.cli.main", "chat", "-t", "0", "--max-tokens", "2000", prompt],
    env={**os.environ, "STILLROOM_HOME": str(home)}, stdout=subprocess.PIPE,
    stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
seen = None
deadline = time.monotonic() + 120  # a guard against a hang, not a speed limit
while time.monotonic() < deadline and child.poll() is None:
    seen = streaming_answer()
    if seen and len(seen.split()) >= 20:
        break
    time.sleep(0.05)
os.kill(child.pid, signal.SIGKILL)
child.communicate(timeout=30)
key = keyring.get_password(KEYRING_SERVICE, KEY_NAME)
with contextlib.closing(sqlite_files.connect(database, key)) as db:
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    roles = [role for (role,) in db.execute("SELECT role FROM messages ORDER BY id")]

from app.services import Services
services = Services.open()
try:
    (conversation,) = services.store.list()
    question, answer = services.store.messages(conversation.id)
    print(json.dumps({"seen": seen, "returncode": child.returncode, "integrity": integrity,
                      "roles": roles, "recovered": services.recovered_answers,
                      "encrypted": services.at_rest.encrypted, "question": question.content,
                      "status": answer.status, "answer": answer.content}))
finally:
    services.close()
"""


@requires_secret_service
def test_kill_9_mid_answer_on_an_encrypted_store_recovers(tmp_path: Path,
                                                          stillroom_home: Path) -> None:
    result = run_with_secret_service(
        f"import os; os.environ['STILLROOM_HOME'] = {str(stillroom_home)!r}\n"
        + ENCRYPTED_KILL_9, str(stillroom_home), LONG_PROMPT, home=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["seen"], "the answer never reached the database while streaming"
    assert seen["returncode"] == -signal.SIGKILL
    assert seen["integrity"] == "ok" and seen["roles"] == ["user", "assistant"]
    assert seen["encrypted"] and seen["recovered"] == 1
    assert seen["question"] == LONG_PROMPT and seen["status"] == "interrupted"
    assert seen["answer"].startswith(seen["seen"])
    assert (stillroom_home / "stillroom.db").read_bytes()[:16] != b"SQLite format 3\x00"
