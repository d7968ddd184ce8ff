"""The store on both of its databases: SQLite (a file per data directory) and PostgreSQL (a
real throw-away cluster, tests/postgres_cluster.py): migrations from empty that agree with
the models, the conversation path, and the ledger's reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.store.conversations import ConversationStore, UsageFigures
from app.store.db import HEAD_REVISION, current_revision, open_engine
from app.store.ledger import busy_seconds_since, cloud_spend, read_ledger
from app.store.schema import Base
from app.store.server_users import UserLimits, UserStore
from tests.conftest import on_both_databases


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
    seconds, first = busy_seconds_since(store.engine, datetime.now(UTC) - timedelta(hours=1))
    assert seconds == pytest.approx(0.25) and first is not None
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
