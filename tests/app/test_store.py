from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, text

from app.store.conversations import (
    FLUSH_INTERVAL_S,
    ConversationNotFoundError,
    ConversationStore,
    StoredMessage,
    UsageFigures,
)
from app.store.db import HEAD_REVISION, MIGRATIONS_DIR, current_revision, open_engine


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(open_engine(f"sqlite:///{tmp_path / 'test.db'}"))


def _usage(**overrides) -> UsageFigures:
    values = dict(model_id="m", route_target="local", route_rule="local-only",
                  finish_reason="stop", prompt_tokens=10, completion_tokens=5, ttft_s=0.1,
                  prefill_tps=100.0, decode_tps=50.0, total_s=0.2)
    return UsageFigures(**{**values, **overrides})


def test_head_revision_constant_matches_the_migrations() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_new_database_is_migrated_and_in_wal_mode(store: ConversationStore) -> None:
    assert current_revision(store.engine) == HEAD_REVISION
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_conversation_lifecycle(store: ConversationStore) -> None:
    conversation = store.create(model_id="m", system_prompt="Be brief.")
    store.add_user_message(conversation.id, "What is the tallest mountain on Earth, "
                                            "and how tall is it in metres and feet?")
    found = store.get(conversation.id[:5])
    assert found.id == conversation.id and found.message_count == 1
    assert found.title.startswith("What is the tallest mountain") and found.title.endswith("…")
    assert [c.id for c in store.list()] == [conversation.id]
    store.update(conversation.id, title="Mountains")
    assert store.get(conversation.id).title == "Mountains"
    store.delete(conversation.id)
    with pytest.raises(ConversationNotFoundError, match="does not exist"):
        store.get(conversation.id)


def test_answer_is_written_through_while_streaming(store: ConversationStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    conversation = store.create(model_id="m", system_prompt=None)
    writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                route_rule="r", route_reason="why")
    clock = [0.0]
    monkeypatch.setattr("app.store.conversations.time.monotonic", lambda: clock[0])
    writer.append("Hello")
    assert store.messages(conversation.id)[0].content == ""  # not yet due
    clock[0] = FLUSH_INTERVAL_S
    writer.append(", world")
    (stored,) = store.messages(conversation.id)
    assert (stored.content, stored.status) == ("Hello, world", "streaming")
    writer.finish("complete", _usage())
    (stored,) = store.messages(conversation.id)
    assert (stored.content, stored.status) == ("Hello, world", "complete")


def test_write_through_is_timed_from_the_first_text_not_the_answer_row(
        store: ConversationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr("app.store.conversations.time.monotonic", lambda: clock[0])
    conversation = store.create(model_id="m", system_prompt=None)
    writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                route_rule="r", route_reason="why")
    clock[0] = 5.0  # a long prompt: the first token comes long after the row was written
    writer.append("Once")
    # Nothing of the answer was older than the flush interval: no write before the reader
    # gets the first token.
    assert store.messages(conversation.id)[0].content == ""
    clock[0] += FLUSH_INTERVAL_S
    writer.append(" upon")
    assert store.messages(conversation.id)[0].content == "Once upon"


def test_a_first_question_is_saved_with_its_conversation_in_one_commit(
        store: ConversationStore) -> None:
    commits = []
    event.listen(store.engine, "commit", lambda _connection: commits.append(1))
    conversation, messages = store.start_conversation(
        model_id="m", system_prompt="Be brief.", question="And in German?",
        earlier=[("user", "Say good morning in French."), ("assistant", "Bonjour.")])
    assert len(commits) == 1
    assert _fields(messages) == _fields(store.messages(conversation.id))
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "Say good morning in French.", "complete"),
        ("assistant", "Bonjour.", "complete"), ("user", "And in German?", "complete")]
    assert store.get(conversation.id).title == conversation.title == "And in German?"
    commits.clear()
    messages = store.add_question(conversation.id, "And in Polish?")
    assert len(commits) == 1
    assert messages == store.messages(conversation.id)
    assert messages[-1].content == "And in Polish?"


def _fields(messages: list[StoredMessage]) -> list[tuple]:
    """All but created_at, which SQLite hands back without its time zone."""
    return [(m.id, m.role, m.content, m.status, m.model_id, m.route_target, m.route_rule,
             m.route_reason, m.error) for m in messages]


def test_interrupted_answers_are_recovered_with_their_text(store: ConversationStore) -> None:
    conversation = store.create(model_id="m", system_prompt=None)
    writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                route_rule="r", route_reason="why")
    writer.append("partial answer")
    writer.flush()
    assert store.recover_interrupted() == 1
    (stored,) = store.messages(conversation.id)
    assert (stored.content, stored.status) == ("partial answer", "interrupted")
    assert store.recover_interrupted() == 0


def test_usage_ledger_outlives_a_deleted_conversation(store: ConversationStore) -> None:
    conversation = store.create(model_id="m", system_prompt=None)
    writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                route_rule="r", route_reason="why")
    writer.finish("complete", _usage(completion_tokens=42))
    store.delete(conversation.id)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT message_id, completion_tokens FROM usage")).all()
    assert rows == [(None, 42)]


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    from app.store.db import StoreError

    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open its database"):
        open_engine(f"sqlite:///{bogus}")
