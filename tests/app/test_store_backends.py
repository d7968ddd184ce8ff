"""The store on both of its databases: SQLite (a file per data directory) and PostgreSQL (a
real throw-away cluster, tests/postgres_cluster.py): migrations from empty that agree with
the models, the conversation path, and the ledger's reads."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.store.audit_log import AuditLog
from app.store.conversations import ConversationStore, UsageFigures
from app.store.db import HEAD_REVISION, current_revision, open_engine
from app.store.ledger import cloud_spend, read_ledger
from app.store.quota_holds import HOLD_TTL, QuotaExceededError, TokenHolds
from app.store.schema import Base
from app.store.server_users import UserLimits, UserStore
from routing.audit import AuditRecord
from tests.conftest import REPO_ROOT, on_both_databases


@pytest.fixture
def store(store_url: str) -> ConversationStore:
    opened = ConversationStore(open_engine(store_url))
    yield opened
    opened.engine.dispose()


@on_both_databases
def test_migrations_from_empty_reach_head_and_agree_with_the_models(
        store: ConversationStore) -> None:
    assert current_revision(store.engine) == HEAD_REVISION
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


@on_both_databases
def test_a_second_open_finds_the_schema_at_head(store_url: str,
                                                store: ConversationStore) -> None:
    again = open_engine(store_url)
    try:
        assert current_revision(again) == HEAD_REVISION
    finally:
        again.dispose()


def _answer(store: ConversationStore, conversation_id: str):  # -> AnswerWriter
    return store.start_answer(conversation_id, model_id="m", route_target="local",
                              route_rule="r", route_reason="why", user="erin")


@on_both_databases
def test_a_conversation_its_answer_search_and_the_ledger(store: ConversationStore) -> None:
    conversation = store.create(model_id="m", system_prompt=None).id
    store.add_user_message(conversation, "hello mountains")
    store.mark_sensitive(conversation)
    writer = _answer(store, conversation)
    writer.append("Hi there")
    writer.finish("complete", UsageFigures(
        model_id="m", route_target="local", route_rule="r", finish_reason="stop",
        prompt_tokens=10, completion_tokens=5, ttft_s=0.1, prefill_tps=100.0,
        decode_tps=50.0, total_s=0.25))
    messages = store.messages(conversation)
    assert [(m.role, m.content) for m in messages] == [("user", "hello mountains"),
                                                       ("assistant", "Hi there")]
    assert store.get(conversation).sensitive
    assert [c.id for c in store.search("mountains")] == [conversation]
    entries = read_ledger(store.engine)
    assert [(e.prompt_tokens, e.completion_tokens) for e in entries] == [(10, 5)]
    assert entries[0].created_at.tzinfo is not None
    assert cloud_spend(store.engine, datetime.now(UTC)).month_usd == 0
    store.delete(conversation)
    assert len(read_ledger(store.engine)) == 1  # the ledger outlives the conversation


@on_both_databases
def test_interrupted_answers_are_recovered(store: ConversationStore) -> None:
    conversation = store.create(model_id="m", system_prompt=None).id
    writer = _answer(store, conversation)
    writer.append("partial")
    writer.flush()
    assert store.recover_interrupted() == 1
    assert store.messages(conversation)[-1].status == "interrupted"


@on_both_databases
def test_users_and_their_usage(store: ConversationStore) -> None:
    users = UserStore(store.engine)
    key = users.add("erin", UserLimits(tokens_per_day=100))
    assert users.authenticate(key).name == "erin"
    assert users.usage("erin", datetime.now(UTC) - timedelta(days=1)).tokens == 0
    with store.engine.connect() as connection:
        # "user" is a reserved word in PostgreSQL: the column must be quoted everywhere.
        assert connection.execute(text('SELECT count("user") FROM usage')).scalar() == 0


def _hold_many(url: str, user: str, attempts: int, tokens: int, limit: int) -> int:
    """Try `attempts` holds at once, one thread each; how many were granted. Any error but
    a refusal (a lock timeout, say) is raised."""
    holds = TokenHolds(open_engine(url))
    start = threading.Barrier(attempts)
    granted: list[int] = []
    failed: list[BaseException] = []

    def attempt() -> None:
        start.wait()
        try:
            granted.append(holds.hold(user, tokens, limit=limit, since=_today()))
        except QuotaExceededError:
            pass
        except BaseException as exc:  # handed to the test's thread below
            failed.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    holds.engine.dispose()
    if failed:
        raise failed[0]
    return len(granted)


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@on_both_databases
def test_concurrent_holds_never_exceed_the_quota(store: ConversationStore,
                                                 store_url: str) -> None:
    UserStore(store.engine).add("erin", UserLimits(tokens_per_day=100))
    # 12 requests of 30 tokens at the same moment against 100: exactly 3 fit.
    assert _hold_many(store_url, "erin", attempts=12, tokens=30, limit=100) == 3
    assert TokenHolds(store.engine).held("erin") == 90


@on_both_databases
def test_two_processes_spending_one_quota_never_exceed_it(store: ConversationStore,
                                                          store_url: str) -> None:
    UserStore(store.engine).add("erin", UserLimits(tokens_per_day=100))
    _spend(store, "erin", 40)  # answered earlier today: 60 left
    script = ("import sys; from tests.app.test_store_backends import _hold_many; "
              "print(_hold_many(sys.argv[1], 'erin', attempts=8, tokens=7, limit=100))")
    workers = [subprocess.Popen([sys.executable, "-c", script, store_url], cwd=REPO_ROOT,
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    granted = [int(worker.communicate(timeout=120)[0]) for worker in workers]
    assert sum(granted) == 8  # 8 x 7 = 56 <= 60 < 63
    assert TokenHolds(store.engine).held("erin") == 56


@on_both_databases
def test_a_released_or_expired_hold_no_longer_counts(store: ConversationStore) -> None:
    UserStore(store.engine).add("erin", UserLimits(tokens_per_day=100))
    holds = TokenHolds(store.engine)
    first = holds.hold("erin", 60, limit=100, since=_today())
    with pytest.raises(QuotaExceededError) as refused:
        holds.hold("erin", 60, limit=100, since=_today())
    assert (refused.value.used, refused.value.held, refused.value.asked) == (0, 60, 60)
    holds.release(first)
    holds.hold("erin", 60, limit=100, since=_today())
    # A box killed mid-answer never releases: its hold stops counting at expiry.
    later = datetime.now(UTC) + HOLD_TTL + timedelta(seconds=1)
    holds.hold("erin", 100, limit=100, since=_today(), now=later)


def _spend(store: ConversationStore, user: str, tokens: int) -> None:
    conversation = store.create(model_id="m", system_prompt=None).id
    writer = store.start_answer(conversation, model_id="m", route_target="local",
                                route_rule="r", route_reason="why", user=user)
    writer.finish("complete", UsageFigures(
        model_id="m", route_target="local", route_rule="r", finish_reason="stop",
        prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2, ttft_s=0.1,
        prefill_tps=1.0, decode_tps=1.0, total_s=0.1))


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_concurrent_audit_appends_chain_in_one_try(store: ConversationStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Several boxes append to one audit log on PostgreSQL: appends queue on a lock, so not
    one needs a second try (SQLite, one box, keeps retrying on the new head)."""
    monkeypatch.setattr("app.store.audit_log._APPEND_TRIES", 1)
    log = AuditLog(store.engine)
    start = threading.Barrier(8)
    failed: list[BaseException] = []

    def append(index: int) -> None:
        start.wait()
        try:
            log.append([AuditRecord(time="2026-01-01T00:00:00Z", event="route",
                                    conversation_id=f"c{index}", target="local",
                                    provider=None, model="m", rule="r", reason="why",
                                    refused=False, sensitive=False, categories={})])
        except BaseException as exc:  # handed to the test below
            failed.append(exc)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    rows = log.rows()
    assert [row["seq"] for row in rows] == list(range(1, 9))
    assert log.verify(rows) is None


@on_both_databases
def test_a_start_leaves_other_boxes_answers_in_progress(store: ConversationStore) -> None:
    conversation = store.create(model_id="m", system_prompt=None).id
    _answer(store, conversation).flush()  # another box, answering now
    assert store.recover_interrupted(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert store.messages(conversation)[-1].status == "streaming"
    assert store.recover_interrupted() == 1


@on_both_databases
def test_requests_per_minute_are_counted_for_every_box(store: ConversationStore,
                                                       store_url: str) -> None:
    UserStore(store.engine).add("erin", UserLimits(requests_per_minute=2))
    boxes = [TokenHolds(store.engine), TokenHolds(open_engine(store_url))]
    now = datetime.now(UTC)
    assert boxes[0].count_request("erin", 2, now) is None
    assert boxes[1].count_request("erin", 2, now + timedelta(seconds=10)) is None
    # The third within the minute is refused on either box, until the first falls out.
    assert boxes[0].count_request("erin", 2, now + timedelta(seconds=20)) == 40
    assert boxes[1].count_request("erin", 2, now + timedelta(seconds=30)) == 30
    assert boxes[1].count_request("erin", 2, now + timedelta(seconds=61)) is None
    boxes[1].engine.dispose()
