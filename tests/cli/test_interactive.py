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
