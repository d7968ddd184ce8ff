"""`stillroom chat` with confidence escalation, end to end: a provider added through the CLI,
a recording OpenAI-compatible server on 127.0.0.1 as the cloud (its key through
STILLROOM_KEY_FAKECLOUD), the embedded model answering first, and the audit chain checked
by `stillroom audit`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_routed_chat import CLOUD_MODEL, KEY, SENSITIVE, chat
from tests.conftest import run_cli
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply

CLOUD_ANSWER = "Waves fold and unfold on the shore."
QUESTION = "Write a short poem about the sea."
# Every real answer's p10 token logprob is below 0, so with this fixed threshold (and far
# more history needed than any test builds) every answer of at least 4 tokens escalates;
# `chat` asks for 12 tokens at temperature 0.
ESCALATE_EVERYTHING = """version = 1
[escalation]
enabled = true
target = "cloud"
min_tokens = 4
min_history = 1000
fallback_threshold = 0.0
"""


@pytest.fixture
def cloud(stillroom_home: Path) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(default=Reply(CLOUD_ANSWER)) as server:
        added = run_cli("providers", "add", "fakecloud", "--base-url", server.base_url,
                        "--model", CLOUD_MODEL, home=stillroom_home)
        assert added.returncode == 0, added.stderr
        yield server


@pytest.fixture
def escalating(stillroom_home: Path, cloud: FakeOpenAIServer) -> FakeOpenAIServer:
    (stillroom_home / "policy.toml").write_text(ESCALATE_EVERYTHING, encoding="utf-8")
    return cloud


def rows(home: Path, query: str) -> list[tuple]:
    with sqlite3.connect(home / "stillroom.db") as connection:
        return connection.execute(query).fetchall()


def test_json_holds_both_answers_and_the_escalation(stillroom_home: Path,
                                                    escalating: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["route"]["target"] == "local" and answer["text"].strip()
    confidence = answer["confidence"]
    assert confidence["escalate"] and confidence["threshold"] == 0.0
    assert confidence["score"] < 0
    escalation = answer["escalation"]
    assert escalation["reason"].startswith("low confidence: p10 token logprob ")
    assert escalation["reason"].endswith(
        f"is below the fixed threshold 0.00: re-asking fakecloud ({CLOUD_MODEL})")
    assert (escalation["target"], escalation["provider"], escalation["model"],
            escalation["rule"]) == ("cloud", "fakecloud", CLOUD_MODEL, "confidence")
    assert escalation["text"] == CLOUD_ANSWER and escalation["error"] is None
    assert escalation["confidence"] == confidence
    assert escalation["usage"]["prompt_tokens"] == 11  # what the server reported
    assert escalation["cost"]["cloud_actual_usd"] is not None

    (request,) = escalating.requests
    assert request.user_texts[-1] == QUESTION
    assert rows(stillroom_home, "SELECT id, role, route_target, route_rule, content "
                                "FROM messages ORDER BY id")[1:] == [
        (escalation["message_id"] - 1, "assistant", "local", "default", answer["text"]),
        (escalation["message_id"], "assistant", "cloud", "confidence", CLOUD_ANSWER)]
    ledger = rows(stillroom_home, "SELECT route_target, provider, confidence, "
                                  "cloud_actual_usd_nanos FROM usage ORDER BY id")
    assert ledger[0] == ("local", None, confidence["score"], None)
    assert ledger[1][:3] == ("cloud", "fakecloud", None) and ledger[1][3] > 0

    verified = run_cli("audit", "verify", home=stillroom_home)
    assert verified.returncode == 0 and "2 rows" in verified.stdout, verified.stdout
    exported = [json.loads(line) for line in
                run_cli("audit", "export", home=stillroom_home).stdout.splitlines()]
    assert [(r["event"], r["target"]) for r in exported] == [("route", "local"),
                                                            ("escalation", "cloud")]
    assert exported[1]["reason"] == escalation["reason"]
    assert exported[1]["cost_usd"] is not None
    everything = b"".join(p.read_bytes() for p in stillroom_home.rglob("*") if p.is_file())
    assert KEY.encode() not in everything


def test_the_terminal_says_why_then_streams_the_second_answer(
        stillroom_home: Path, escalating: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, QUESTION)
    assert result.returncode == 0, result.stderr
    (local_answer,) = rows(stillroom_home, "SELECT content FROM messages "
                                           "WHERE route_target = 'local'")[0]
    assert local_answer.strip()
    assert result.stdout == f"{local_answer}\n{CLOUD_ANSWER}\n"
    (escalated_line,) = [line for line in result.stderr.splitlines()
                         if line.startswith("[escalated: ")]
    assert escalated_line.startswith("[escalated: low confidence: p10 token logprob ")
    assert escalated_line.endswith(f"re-asking fakecloud ({CLOUD_MODEL})]")
    # Each answer gets its own line saying where it ran.
    assert "[local · " in result.stderr and "[cloud · fakecloud gpt-4o-mini · " \
        in result.stderr
    assert len(escalating.requests) == 1


def test_with_escalation_off_nothing_is_judged_or_sent(stillroom_home: Path,
                                                       cloud: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, "--json", QUESTION)  # the shipped policy: escalation off
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["confidence"] is None and answer["escalation"] is None
    assert cloud.requests == []
    assert rows(stillroom_home, "SELECT confidence FROM usage") == [(None,)]


def test_a_sensitive_prompt_is_never_escalated(stillroom_home: Path,
                                               escalating: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, "--json", SENSITIVE)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["route"]["sensitive"]
    assert answer["confidence"]["escalate"]  # unsure, and still kept here
    assert answer["escalation"] is None
    assert escalating.requests == []
    assert [event for (event,) in rows(stillroom_home, "SELECT event FROM audit")] == ["route"]
