"""kill -9 in the middle of a streamed answer loses at most the last unflushed chunk."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from app.services import Services
from tests.conftest import REPO_ROOT

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
