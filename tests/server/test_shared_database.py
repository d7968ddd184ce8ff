"""Two office-server boxes on one database, as an office with several machines runs them
(`stillroom serve --database postgresql+psycopg://...` on each; on SQLite, two servers over
one data directory): one user's requests land on both at once, and the tokens the ledger
records for them never pass their tokens per day."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import openai
import pytest

from tests.conftest import on_both_databases, run_cli
from tests.server.conftest import MODEL, ServeProcess

HELLO = [{"role": "user", "content": "Say hello."}]
# One request may use at most its prompt's bytes plus the template bound plus max_tokens
# (about 180 tokens here) and uses about 40: room for one at a time, not two. Admitting on
# "used < quota" alone (no holds) lets all of them through and overspends it.
QUOTA = 250
REQUESTS_PER_BOX = 4


@on_both_databases
def test_two_boxes_spending_one_quota_never_exceed_it(serve: type[ServeProcess],
                                                      store_url: str,
                                                      stillroom_home: Path) -> None:
    # PostgreSQL: two machines, each with its own data directory. SQLite: one directory.
    second_home = stillroom_home.parent / "box2" if "postgresql" in store_url \
        else stillroom_home
    boxes = [serve("--slots", "2"), serve("--slots", "2", home=second_home)]
    key = boxes[0].add_user("kim", "--tokens-per-day", str(QUOTA))
    start = threading.Barrier(2 * REQUESTS_PER_BOX)
    answered: list[int] = []  # total tokens of each answer, as the client was told
    refused: list[str] = []
    failed: list[BaseException] = []

    def ask(box: ServeProcess) -> None:
        client = box.client(key)
        start.wait()
        try:
            answer = client.chat.completions.create(model=MODEL, messages=HELLO,
                                                    max_tokens=8, temperature=0)
            answered.append(answer.usage.total_tokens)  # type: ignore[union-attr]
        except openai.RateLimitError as exc:
            refused.append(exc.body["code"])  # type: ignore[index]
        except BaseException as exc:  # handed to the test below
            failed.append(exc)

    threads = [threading.Thread(target=ask, args=(box,)) for box in boxes
               for _ in range(REQUESTS_PER_BOX)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert answered and refused and set(refused) == {"tokens_per_day"}
    ((recorded, rows),) = boxes[0].query(
        'SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COUNT(*) FROM usage '
        'WHERE "user" = \'kim\'')
    assert (recorded, rows) == (sum(answered), len(answered))
    assert recorded <= QUOTA
    # Every answer's hold went with its usage row.
    assert boxes[1].query("SELECT COUNT(*) FROM quota_holds") == [(0,)]
    usage = run_cli("users", "usage", "--json", home=second_home)
    assert usage.returncode == 0, usage.stderr


@on_both_databases
def test_what_one_box_holds_the_other_counts(serve: type[ServeProcess], store_url: str,
                                             stillroom_home: Path) -> None:
    """An answer in flight on one box (its hold) is counted by the other at once: the
    request is refused before anything is decoded, saying why, with a short Retry-After."""
    from app.store.db import open_engine
    from app.store.quota_holds import TokenHolds

    box = serve()
    key = box.add_user("lee", "--tokens-per-day", str(QUOTA))
    engine = open_engine(store_url)  # the other box, answering a long question for lee
    try:
        TokenHolds(engine).hold("lee", QUOTA - 100, limit=QUOTA, since=datetime(2000, 1, 1,
                                                                                tzinfo=UTC))
    finally:
        engine.dispose()
    with pytest.raises(openai.RateLimitError) as refused:
        box.client(key).chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8)
    assert refused.value.body["code"] == "tokens_per_day"  # type: ignore[index]
    assert f"{QUOTA - 100} are held for answers in progress" in refused.value.message
    assert int(refused.value.response.headers["retry-after"]) <= 5


@on_both_databases
def test_a_request_counted_on_one_box_counts_on_the_other(serve: type[ServeProcess],
                                                          store_url: str) -> None:
    from app.store.db import open_engine
    from app.store.quota_holds import TokenHolds

    box = serve()
    key = box.add_user("max", "--rpm", "1")
    engine = open_engine(store_url)  # the other box, which just admitted max's request
    try:
        assert TokenHolds(engine).count_request("max", 1) is None
    finally:
        engine.dispose()
    with pytest.raises(openai.RateLimitError) as refused:
        box.client(key).chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8)
    assert refused.value.body["code"] == "requests_per_minute"  # type: ignore[index]
    assert 0 < int(refused.value.response.headers["retry-after"]) <= 60
