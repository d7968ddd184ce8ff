"""Chat turns with the real embedded model write energy and cost into the ledger."""

import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import Settings, save_settings
from app.services import Services
from app.store.ledger import read_ledger, usd_to_nanos
from app.turn.chat_turn import ChatOptions, ChatTurn
from routing.pricing import cloud_cost, load_default_catalog

JOULES_PER_KWH = Decimal(3_600_000)


def _open(home: Path, **settings) -> Services:
    home.mkdir(parents=True, exist_ok=True)
    save_settings(home / "settings.json", Settings(**settings))
    services = Services.open()
    services.energy.wait_until_discovered()
    return services


def _measured_sensors(services: Services) -> list[str]:
    return [s.name for s in services.energy.sensors if s.kind == "measured"]


def _chat(services: Services, prompt: str = "Say hello.") -> ChatTurn:
    turn = services.chat().start(prompt, options=ChatOptions(temperature=0, max_tokens=12))
    list(turn)
    return turn


def test_without_a_sensor_energy_is_not_measured_and_unknown_money_stays_unknown(
        stillroom_home: Path) -> None:
    services = _open(stillroom_home, allow_power_estimates=False)
    try:
        if services.energy.sensors:
            pytest.skip(f"this machine measures power ({_measured_sensors(services)})")
        turn = _chat(services)
        (entry,) = read_ledger(services.store.engine)
    finally:
        services.close()
    result = turn.result
    assert (entry.prompt_tokens, entry.completion_tokens) == (result.prompt_tokens,
                                                              result.completion_tokens)
    assert entry.completion_tokens > 0
    assert entry.energy_joules is None and entry.energy_kind == "not measured"
    assert entry.energy_source == ("not measured: no power sensor is live and estimates are "
                                   "turned off")
    # No tariff and no hardware price: unknown, never $0.
    assert entry.local_energy_usd is None and entry.local_hardware_usd is None
    assert entry.cost_notes["electricity"] == (
        "unknown: energy not measured; electricity price per kWh not set")
    assert entry.cost_notes["hardware"] == "unknown: hardware price not set"
    # The reference model's list price is known, so the cloud equivalent is.
    expected = cloud_cost("gpt-4o-mini", entry.prompt_tokens, entry.completion_tokens,
                          catalog=load_default_catalog())
    assert entry.cloud_equivalent_usd == expected.cloud_usd.usd
    assert entry.cloud_equivalent_model == "gpt-4o-mini"
    assert entry.price_as_of == expected.price.as_of
    assert entry.cloud_actual_usd is None  # a local answer
    assert result.energy is not None and result.energy.total_joules is None


def test_with_a_configured_tdp_energy_is_estimated_and_priced(stillroom_home: Path) -> None:
    services = _open(stillroom_home, cpu_tdp_watts=65, kwh_usd=0.3, hardware_usd=1500,
                     amortize_months=36, busy_hours_per_day=2)
    try:
        if _measured_sensors(services):
            pytest.skip("a measured sensor covers the CPU here, so nothing is estimated")
        turn = _chat(services, "Name three colours.")
        (entry,) = read_ledger(services.store.engine)
    finally:
        services.close()
    assert entry.energy_kind == "estimated"
    assert entry.energy_joules is not None and entry.energy_joules > 0
    assert entry.energy_source.startswith("estimated: estimate:cpu-tdp [cpu-package, estimated]")
    assert "65 W TDP (configured)" in entry.energy_source
    joules = Decimal(repr(entry.energy_joules))
    assert usd_to_nanos(entry.local_energy_usd) == usd_to_nanos(
        joules / JOULES_PER_KWH * Decimal("0.3"))
    # $1500 / 36 months shared over 2 busy hours a day (60 h a month) by this answer's time.
    share = Decimal(1500) / 36 * Decimal(repr(entry.total_s)) / (2 * 3600 * 30)
    assert usd_to_nanos(entry.local_hardware_usd) == usd_to_nanos(share)
    assert entry.cost_notes["electricity"] == "energy x $0.30/kWh"
    assert entry.cost_notes["hardware"] == (
        f"$1,500.00 over 36 months (3 years) at 2 busy h/day (8% use, settings) = "
        f"2,160 busy hours; this answer {entry.total_s:.2f} s")
    assert turn.result.cost is not None and turn.result.cost.local_usd.is_known


def test_the_first_answers_carry_the_share_of_the_machines_life(stillroom_home: Path) -> None:
    # Issue 17: on day one the ledger held a few seconds of use, and each answer carried a
    # whole day's amortisation ($0.92 for a 67-token answer). The share is the price over
    # the expected life (36 months) at the expected use (30%: 7.2 h a day), per busy second.
    services = _open(stillroom_home, hardware_usd=1000)
    try:
        _chat(services)
        _chat(services, "Say goodbye.")
        entries = read_ledger(services.store.engine)
    finally:
        services.close()
    per_second = Decimal(1000) / (36 * 30 * Decimal("7.2") * 3600)
    for entry in entries:
        expected = per_second * Decimal(repr(entry.total_s))
        assert usd_to_nanos(entry.local_hardware_usd) == usd_to_nanos(expected)
        assert "at 7.2 busy h/day (30% use, default)" in entry.cost_notes["hardware"]


def test_an_unpriced_reference_model_stays_unknown_in_the_ledger(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    (stillroom_home / "price-overrides.json").write_text(json.dumps({"models": {
        "gpt-4o-mini": {"output_usd_per_mtok": None, "as_of": "2026-11-01"}}}))
    services = _open(stillroom_home)
    try:
        _chat(services)
        services.settings.reference_cloud_model = "no-such-model"
        _chat(services)
        nulled, missing = read_ledger(services.store.engine)
    finally:
        services.close()
    assert nulled.cloud_equivalent_usd is None and nulled.cloud_equivalent_model == "gpt-4o-mini"
    assert nulled.cost_notes["cloud_equivalent"] == (
        "unknown: output price of gpt-4o-mini is unknown")
    assert missing.cloud_equivalent_usd is None
    assert "unknown cloud model 'no-such-model'" in missing.cost_notes["cloud_equivalent"]


def test_a_cancelled_answer_is_metered_and_priced_for_the_work_done(
        stillroom_home: Path) -> None:
    services = _open(stillroom_home, kwh_usd=0.2)
    cancel = threading.Event()
    try:
        turn = services.chat().start("Tell me a long story.", cancel=cancel,
                                     options=ChatOptions(temperature=0, max_tokens=400))
        for index, _ in enumerate(turn):
            if index == 4:
                cancel.set()
        (entry,) = read_ledger(services.store.engine)
    finally:
        services.close()
    assert entry.finish_reason == "cancelled"
    assert entry.completion_tokens == turn.result.completion_tokens < 400
    assert entry.energy_kind == turn.result.energy.total_kind
    assert entry.energy_source == turn.result.energy_source
    assert entry.cloud_equivalent_usd == turn.result.cost.cloud_equivalent_usd.usd is not None
