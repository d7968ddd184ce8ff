"""kill -9 of a real `stillroom serve` while it streams an answer, then a restart on the same
data directory: the ledger, the audit chain and the quotas agree, the cut-off answer is
kept once (marked interrupted, never half a ledger row), reports run, and the server
answers again."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests.conftest import run_cli
from tests.server.conftest import MODEL, ServeProcess
from tests.server.streams import LONG, open_long_stream

HELLO = [{"role": "user", "content": "Say hello."}]


def _ledger(server: ServeProcess) -> list[tuple]:
    return server.query("SELECT message_id, user, prompt_tokens, completion_tokens, "
                        "finish_reason FROM usage ORDER BY id")


def _usage_shown(home: Path) -> dict[str, tuple[int, int, int]]:
    shown = run_cli("users", "usage", "--since", "2000-01-01", "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    return {row["name"]: (row["requests"], row["prompt_tokens"], row["completion_tokens"])
            for row in json.loads(shown.stdout)}


def test_a_server_killed_mid_stream_restarts_with_its_books_consistent(
        serve: type[ServeProcess], stillroom_home: Path) -> None:
    added = run_cli("users", "add", "ana", "--tokens-per-day", "100000", home=stillroom_home)
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip().splitlines()[-1]

    first = serve()
    done = first.client(key).chat.completions.create(model=MODEL, messages=HELLO,
                                                     max_tokens=8)
    assert done.usage is not None
    with open_long_stream(first.port, key, tokens=5):
        os.kill(first.process.pid, signal.SIGKILL)
        assert first.process.wait(timeout=60) == -signal.SIGKILL

    # Dead mid-answer: the answer's row says it was streaming; nothing else was written.
    cut = first.query("SELECT m.id, m.status FROM messages m JOIN messages q "
                      "ON q.id = m.id - 1 WHERE q.content = '" + LONG + "'")
    assert [status for _id, status in cut] == ["streaming"]
    (cut_id, _), = cut
    ledger_before = _ledger(first)
    assert [(row[1], row[2], row[3]) for row in ledger_before] == [
        ("ana", done.usage.prompt_tokens, done.usage.completion_tokens)]

    second = serve(home=stillroom_home)
    # The restart marks the cut-off answer interrupted, keeping the text it had flushed.
    assert second.query(f"SELECT status FROM messages WHERE id = {cut_id}") == [
        ("interrupted",)]
    assert second.query(f"SELECT count(*) FROM usage WHERE message_id = {cut_id}") == [(0,)]
    assert _ledger(second) == ledger_before

    verified = run_cli("audit", "verify", home=stillroom_home)
    assert verified.returncode == 0, verified.stderr + verified.stdout
    audit_rows = second.query("SELECT user, prompt_tokens, completion_tokens FROM audit")
    assert audit_rows == [("ana", done.usage.prompt_tokens, done.usage.completion_tokens)]
    # The quota reads the ledger: one request, its tokens, nothing of the cut-off answer.
    assert _usage_shown(stillroom_home) == {
        "ana": (1, done.usage.prompt_tokens, done.usage.completion_tokens)}
    report = run_cli("cost", "report", "--by-user", "--json", home=stillroom_home)
    assert report.returncode == 0, report.stderr
    assert [row["user"] for row in json.loads(report.stdout)["by_user"]] == ["ana"]

    # The restarted server answers, and the books go on from where they were.
    again = second.client(key).chat.completions.create(model=MODEL, messages=HELLO,
                                                       max_tokens=8)
    assert again.usage is not None
    assert len(_ledger(second)) == 2
    verified = run_cli("audit", "verify", home=stillroom_home)
    assert verified.returncode == 0, verified.stderr + verified.stdout
    requests, prompt, completion = _usage_shown(stillroom_home)["ana"]
    assert (requests, prompt, completion) == (
        2, done.usage.prompt_tokens + again.usage.prompt_tokens,
        done.usage.completion_tokens + again.usage.completion_tokens)
