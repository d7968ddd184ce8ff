"""`stillroom chat --file` end to end: real CLI processes, the embedded model, the SQLite
store, and a recording OpenAI-compatible server on 127.0.0.1 standing in for the cloud.
The 135M model's words are weak; these tests check the mechanics (what each prompt held,
how many there were, which pages the answer may cite)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.documents import corpus
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply

KEY = "sk-docs-chat-0a1b2c3d4e5f6a7b"
# Luhn-valid and not a published test number (the gate ignores 4111 1111 1111 1111 on purpose)
CARD = "4556 7375 8689 9855"
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
# A context so small that eight short pages need several prompts (a fast map-reduce).
SMALL_CONTEXT = {"context_length": 320}


def chat_file(home: Path, *args: str, settings: dict | None = None):
    if settings is not None:
        home.mkdir(parents=True, exist_ok=True)
        (home / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    env = {name: "" for name in PROXIES if name in os.environ}
    return run_cli("chat", "-t", "0", "--max-tokens", "12", *args, home=home,
                   env={**env, "STILLROOM_KEY_FAKECLOUD": KEY})


def user_messages(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "stillroom.db") as connection:
        return connection.execute(
            "SELECT conversation_id, content FROM messages WHERE role = 'user' "
            "ORDER BY created_at, rowid").fetchall()


def assert_citations_exist(answer: dict, pages: int) -> None:
    cited = {int(n) for n in re.findall(r"(?i)\bpages?\s+(\d+)", answer["text"])}
    document = answer["document"]
    assert {f"page {n}" for n in cited if 1 <= n <= pages} == set(document["citations"])
    assert {f"page {n}" for n in cited if not 1 <= n <= pages} == set(
        document["unknown_citations"])


def test_small_document_is_answered_in_one_prompt(stillroom_home: Path,
                                                  tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "lease.pdf", ["The rent is 900 euros per month.",
                                                   "The lease ends on 31 March 2027."])
    result = chat_file(stillroom_home, "--json", "--file", str(pdf), "When does it end?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["document"]["mode"] == "single"
    assert answer["document"]["chunks"] == [["page 1", "page 2"]]
    assert answer["document"]["files"][0]["kind"] == "pdf"
    assert_citations_exist(answer, 2)
    ((_, prompt),) = user_messages(stillroom_home)  # one turn, one question
    assert "[page 1]\nThe rent is 900 euros per month." in prompt
    assert "[page 2]\nThe lease ends on 31 March 2027." in prompt
    assert prompt.endswith("Question: When does it end?")


def test_long_document_goes_map_reduce(stillroom_home: Path, tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "long.pdf", corpus.numbered_pages(8, words_per_page=40))
    result = chat_file(stillroom_home, "--json", "--file", str(pdf), "What is clause 5?",
                       settings=SMALL_CONTEXT)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    document = answer["document"]
    chunks = document["chunks"]
    assert document["mode"] == "map_reduce" and len(chunks) > 1
    assert [label for chunk in chunks for label in chunk] == [f"page {n}" for n in range(1, 9)]
    assert f"reading part {len(chunks)} of {len(chunks)}" in result.stderr
    asked = user_messages(stillroom_home)
    # one turn per chunk, then the final answer, each in a conversation of its own
    assert len(asked) == len(chunks) + 1
    assert len({conversation for conversation, _ in asked}) == len(asked)
    for (_, prompt), chunk in zip(asked, chunks, strict=False):
        shown = [int(n) for n in re.findall(r"\[page (\d+)\]\nPage marker", prompt)]
        assert [f"page {n}" for n in shown] == chunk
    final = asked[-1][1]
    assert f"[answer from {chunks[0][0]} to {chunks[0][-1]}]" in final
    assert f"[answer from {chunks[-1][0]} to {chunks[-1][-1]}]" in final
    assert answer["conversation_id"] == asked[-1][0]
    assert_citations_exist(answer, 8)


def test_a_file_that_cannot_be_read_is_refused_before_anything_is_asked(
        stillroom_home: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    scanned = corpus.scanned_pdf(tmp_path / "scan.pdf")
    # PATH with the interpreter's folder only: tesseract is not on it
    env_without_tesseract = {"PATH": str(Path(sys.executable).parent)}
    result = run_cli("chat", "--file", str(tmp_path / "empty.pdf"), "--file", str(scanned),
                     "What is it?", home=stillroom_home, env=env_without_tesseract)
    assert result.returncode == 2
    empty, needs_ocr = result.stderr.splitlines()  # one line per file, nothing else
    assert empty == "stillroom: empty.pdf: the file is empty (0 bytes). (status: empty)"
    assert needs_ocr.startswith("stillroom: scan.pdf: page 1 has no text layer (a scan, or "
                                 "text drawn as shapes); install Tesseract")
    assert "apt-get install tesseract-ocr" in needs_ocr
    assert needs_ocr.endswith("(status: needs_ocr)")
    assert not (stillroom_home / "stillroom.db").exists()  # nothing was saved or sent


def test_file_without_a_question_is_a_clear_error(stillroom_home: Path,
                                                  tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "a.pdf", ["text"])
    result = run_cli("chat", "--file", str(pdf), home=stillroom_home, input="")
    assert result.returncode == 2
    assert result.stderr == ("stillroom: --file needs a question: stillroom chat --file FILE "
                             "\"QUESTION\".\n")


@pytest.fixture
def cloud(stillroom_home: Path) -> Iterator[FakeOpenAIServer]:
    """A cloud provider the policy sends everything to by default."""
    with FakeOpenAIServer(default=Reply("Answered in the cloud, page 1.")) as server:
        added = run_cli("providers", "add", "fakecloud", "--base-url", server.base_url,
                        "--model", "gpt-4o-mini", home=stillroom_home)
        assert added.returncode == 0, added.stderr
        stillroom_home.mkdir(parents=True, exist_ok=True)
        (stillroom_home / "policy.toml").write_text(
            'version = 1\n[defaults]\ntarget = "cloud"\n', encoding="utf-8")
        yield server


def test_plain_document_goes_where_the_policy_says(stillroom_home: Path, tmp_path: Path,
                                                  cloud: FakeOpenAIServer) -> None:
    """The control for the next test: the stand-in is reachable and the policy sends there."""
    pdf = corpus.text_pdf(tmp_path / "memo.pdf", ["The meeting moved to Tuesday."])
    result = chat_file(stillroom_home, "--json", "--file", str(pdf), "When is it?")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["route"]["target"] == "cloud"
    assert "The meeting moved to Tuesday." in cloud.everything_received()


@pytest.mark.parametrize("route", ["auto", "cloud"])
def test_a_card_number_in_a_document_never_reaches_the_cloud(
        stillroom_home: Path, tmp_path: Path, cloud: FakeOpenAIServer, route: str) -> None:
    pages = corpus.numbered_pages(8, words_per_page=40)
    pages[5] += f" Client card: {CARD}."
    pdf = corpus.text_pdf(tmp_path / "client.pdf", pages)
    result = chat_file(stillroom_home, "--json", "--route", route, "--file", str(pdf),
                       "What is clause 2?", settings=SMALL_CONTEXT)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["document"]["mode"] == "map_reduce"
    # Not the card, and not the harmless pages of the same document either.
    assert cloud.requests == []
    with sqlite3.connect(stillroom_home / "stillroom.db") as connection:
        targets = connection.execute("SELECT target, sensitive FROM audit").fetchall()
    assert len(targets) == len(answer["document"]["chunks"]) + 1
    assert all(target == "local" and sensitive for target, sensitive in targets)
