"""The interactive chat driven through a real pseudo-terminal."""

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import REPO_ROOT

PROMPT = "you> "


@pytest.fixture
def session(stillroom_home: Path):
    env = {**os.environ, "STILLROOM_HOME": str(stillroom_home), "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "app.cli.main", "chat", "-t", "0",
                                           "--max-tokens", "24"],
                          cwd=str(REPO_ROOT), env=env, encoding="utf-8", timeout=120)
    child.expect_exact(PROMPT)
    yield child
    child.close(force=True)


def _ask(child: pexpect.spawn, line: str) -> str:
    child.sendline(line)
    child.expect_exact(PROMPT)
    return child.before


def test_chat_commands_and_history(session: pexpect.spawn) -> None:
    answer = _ask(session, "Say hi.")
    assert "SmolLM2-135M-Instruct> " in answer and "local · SmolLM2-135M-Instruct" in answer
    conversation = re.search(r"conversation ([0-9a-f]{12})", answer).group(1)
    assert "Unknown command /nope" in _ask(session, "/nope")
    assert "smollm2-135m-instruct-q4_1" in _ask(session, "/model")
    assert "System prompt set." in _ask(session, "/system Answer in one word.")
    assert "Answer in one word." in _ask(session, "/system")
    listing = _ask(session, "/history")
    assert conversation in listing and "Say hi." in listing
    assert "New conversation." in _ask(session, "/new")
    _ask(session, "Another question?")
    shown = _ask(session, f"/history {conversation[:4]}")
    assert "user> Say hi." in shown and "assistant>" in shown
    session.sendline("/quit")
    session.expect(pexpect.EOF)


def test_ctrl_c_stops_an_answer_and_keeps_the_session(stillroom_home: Path) -> None:
    env = {**os.environ, "STILLROOM_HOME": str(stillroom_home), "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "app.cli.main", "chat", "-t", "0",
                                           "--max-tokens", "2000"],
                          cwd=str(REPO_ROOT), env=env, encoding="utf-8", timeout=120)
    try:
        child.expect_exact(PROMPT)
        child.sendline("Write a 2000-word essay on the history of the Roman Empire.")
        child.expect_exact("SmolLM2-135M-Instruct> ")
        child.expect(r"\w+ \w+ \w+")  # some of the answer has streamed
        child.sendintr()
        child.expect_exact("[stopped]")
        child.expect_exact(PROMPT)
        child.sendline("/history")
        child.expect_exact(PROMPT)
        assert "2 msgs" in child.before
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def _stored_conversation(home: Path, title: str) -> str:
    """A conversation saved by an earlier session (as an older version titled it)."""
    from app.config import database_url
    from app.store.conversations import ConversationStore
    from app.store.db import open_engine

    home.mkdir(parents=True, exist_ok=True)
    store = ConversationStore(open_engine(database_url(home)))
    conversation = store.create(model_id=None, system_prompt=None, title=title)
    store.engine.dispose()
    return conversation.id


def test_history_shows_titles_redacted(stillroom_home: Path) -> None:
    card = "5500 0000 0000 0004"
    conversation = _stored_conversation(stillroom_home, f"Charge card {card}")
    env = {**os.environ, "STILLROOM_HOME": str(stillroom_home), "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "app.cli.main", "chat"], cwd=str(REPO_ROOT),
                          env=env, encoding="utf-8", timeout=120)
    try:
        child.expect_exact(PROMPT)
        listing = _ask(child, "/history")
        assert "Charge card [card]" in listing and card not in listing
        shown = _ask(child, f"/history {conversation}")
        assert "Charge card [card]" in shown and card not in shown
    finally:
        child.close(force=True)


def test_new_keeps_the_system_prompt_set_in_the_session(stillroom_home: Path) -> None:
    conversation = _stored_conversation(stillroom_home, "Earlier chat")
    env = {**os.environ, "STILLROOM_HOME": str(stillroom_home), "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "app.cli.main", "chat"], cwd=str(REPO_ROOT),
                          env=env, encoding="utf-8", timeout=120)
    try:
        child.expect_exact(PROMPT)
        _ask(child, f"/history {conversation}")
        assert "System prompt set." in _ask(child, "/system Answer in French.")
        assert "New conversation." in _ask(child, "/new")
        assert "System prompt: Answer in French." in _ask(child, "/system")
    finally:
        child.close(force=True)
