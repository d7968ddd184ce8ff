"""The usage ledger on disk: exact money, unknown kept unknown, and the 0001 -> head upgrade."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from app.store.conversations import ConversationStore, UsageFigures
from app.store.db import HEAD_REVISION, MIGRATIONS_DIR, current_revision, open_engine
from app.store.ledger import (
    confidence_history,
    nanos_to_usd,
    read_ledger,
    usd_to_nanos,
)


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(open_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))


def _answer(store: ConversationStore, **figures) -> None:
    conversation = store.create(model_id="m", system_prompt=None)
    writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                route_rule="local-only", route_reason="why")
    values = dict(model_id="m", route_target="local", route_rule="local-only",
                  finish_reason="stop", prompt_tokens=10, completion_tokens=5, ttft_s=0.1,
                  prefill_tps=100.0, decode_tps=50.0, total_s=2.0)
    writer.finish("complete", UsageFigures(**{**values, **figures}))


def test_nano_dollar_conversion_is_exact_and_keeps_unknown() -> None:
    assert usd_to_nanos(Decimal("0.000135")) == 135_000
    assert nanos_to_usd(135_000) == Decimal("0.000135")
    assert usd_to_nanos(Decimal("9200000000")) == 9_200_000_000 * 10**9  # fits in 64 bits
    # Rounded to the nearest nano-dollar, halves to even.
    assert usd_to_nanos(Decimal("0.0000000025")) == 2
    assert usd_to_nanos(Decimal("0.0000000035")) == 4
    assert usd_to_nanos(None) is None and nanos_to_usd(None) is None
    assert nanos_to_usd(0) == 0


def test_money_and_energy_round_trip_exactly(store: ConversationStore) -> None:
    _answer(store, energy_joules=12.5, energy_kind="estimated",
            energy_source="estimated by estimate:cpu-tdp", local_energy_usd=Decimal("0.00000052"),
            local_hardware_usd=Decimal("0.000128"), cloud_equivalent_usd=Decimal("0.0000045"),
            cloud_equivalent_model="gpt-4o-mini", price_as_of=date(2026, 2, 1))
    (entry,) = read_ledger(store.engine)
    assert (entry.energy_joules, entry.energy_kind) == (12.5, "estimated")
    assert entry.local_energy_usd == Decimal("0.00000052")
    assert entry.local_hardware_usd == Decimal("0.000128")
    assert entry.cloud_equivalent_usd == Decimal("0.0000045")
    assert (entry.cloud_equivalent_model, entry.price_as_of) == ("gpt-4o-mini", date(2026, 2, 1))
    assert entry.cloud_actual_usd is None and entry.created_at.tzinfo is UTC
    with store.engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT local_energy_usd_nanos, typeof(local_energy_usd_nanos) FROM usage")).one()
    assert tuple(stored) == (520, "integer")


def test_unknown_money_is_stored_as_null_not_zero(store: ConversationStore) -> None:
    _answer(store, cost_notes={"electricity": "unknown: electricity price per kWh not set"})
    with store.engine.connect() as connection:
        row = connection.execute(text(
            "SELECT energy_joules, energy_kind, local_energy_usd_nanos, local_hardware_usd_nanos,"
            " cloud_equivalent_usd_nanos, cloud_actual_usd_nanos FROM usage")).one()
    assert tuple(row) == (None, "not measured", None, None, None, None)
    (entry,) = read_ledger(store.engine)
    assert entry.local_energy_usd is None
    assert entry.cost_notes == {"electricity": "unknown: electricity price per kWh not set"}


def test_the_ledger_reads_a_period(store: ConversationStore) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    _answer(store, total_s=1.5)
    _answer(store, total_s=2.25)
    assert [e.total_s for e in read_ledger(store.engine, since=before)] == [1.5, 2.25]
    assert read_ledger(store.engine, until=before) == []


def _database_at_0001(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text(
            "INSERT INTO conversations (id, title, model_id, created_at, updated_at) "
            "VALUES ('c0ffee', 'Old chat', 'smollm', '2026-01-02 10:00:00.000000', "
            "'2026-01-02 10:00:05.000000')"))
        connection.execute(text(
            "INSERT INTO messages (id, conversation_id, role, content, status, created_at) "
            "VALUES (1, 'c0ffee', 'user', 'Hi', 'complete', '2026-01-02 10:00:00.000000'), "
            "(2, 'c0ffee', 'assistant', 'Hello!', 'complete', '2026-01-02 10:00:01.000000')"))
        connection.execute(text(
            "INSERT INTO usage (message_id, conversation_id, created_at, model_id, route_target,"
            " route_rule, finish_reason, prompt_tokens, completion_tokens, ttft_s, prefill_tps,"
            " decode_tps, total_s) VALUES (2, 'c0ffee', '2026-01-02 10:00:05.000000', 'smollm',"
            " 'local', 'local-only', 'stop', 31, 7, 0.05, 600.0, 90.0, 0.2)"))
    engine.dispose()


def test_upgrade_from_0001_keeps_every_row_and_marks_old_answers_unpriced(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_at_0001(url)
    engine = open_engine(url)  # a normal start upgrades
    assert current_revision(engine) == HEAD_REVISION
    store = ConversationStore(engine)
    assert store.get("c0ffee").title == "Old chat"
    assert [(m.role, m.content) for m in store.messages("c0ffee")] == [
        ("user", "Hi"), ("assistant", "Hello!")]
    (entry,) = read_ledger(engine)
    assert (entry.model_id, entry.prompt_tokens, entry.completion_tokens, entry.total_s) == (
        "smollm", 31, 7, 0.2)
    assert entry.created_at == datetime(2026, 1, 2, 10, 0, 5, tzinfo=UTC)
    assert entry.energy_joules is None and entry.energy_kind == "not measured"
    assert "before Stillroom metered energy" in entry.energy_source
    assert entry.local_energy_usd is None and entry.cloud_equivalent_usd is None
    assert set(entry.cost_notes) == {"electricity", "hardware", "cloud_equivalent"}
    assert all("before Stillroom kept costs" in note for note in entry.cost_notes.values())
    # Answers from before 0004 were never scored: no confidence history to calibrate on.
    assert confidence_history(engine, "smollm") == []
    # New answers land beside the old one.
    _answer(store, energy_joules=3.0, energy_kind="measured", energy_source="rapl:package-0")
    assert [e.energy_kind for e in read_ledger(engine)] == ["not measured", "measured"]
