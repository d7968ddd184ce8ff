"""The meters panel shows each answer's figures as the ledger recorded them: every source
named once, the hardware share's method in its tooltip, the prefill split into evaluated
and reused prompt tokens, and a changed TDP used without a restart."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import pytest

from app.config import Settings
from app.gui.meters import MetersPanel
from app.metering.answer_cost import AnswerPricer
from app.metering.energy_meter import EnergyMeter, power_config
from app.turn.chat_turn import TurnResult
from app.turn.turn_json import cost_json, energy_json
from inference.engines.owned_engine import answer_timings
from inference.power import PowerConfig
from routing.pricing import load_default_catalog


def _figures(settings: Settings, *, prompt: int, reused: int, generated: int) -> dict:
    """An answer's final figures built by the real meter, pricer and timing code, in the
    shape the chat worker hands the panel."""
    meter = EnergyMeter(power_config(settings))
    meter.start()
    try:
        window = meter.open_window()
        started = time.perf_counter()
        sum(i * i for i in range(200_000))  # some CPU work for the estimate to see
        window.mark_first_token()
        report = window.stop(prompt_tokens=prompt, generated_tokens=generated)
        source = meter.source_label(report)
    finally:
        meter.close()
    now = time.perf_counter()
    timings = answer_timings(started, started + (now - started) / 2, now, prompt, reused,
                             generated)
    cost = AnswerPricer(settings, catalog=load_default_catalog).price_local(
        joules=report.total_joules, seconds=timings.total_s, prompt_tokens=prompt,
        completion_tokens=generated)
    result = TurnResult(message_id=1, text="", finish_reason="stop", prompt_tokens=prompt,
                        completion_tokens=generated, timings=timings, energy=report,
                        energy_source=source, cost=cost)
    return {**timings.to_json(), "prompt_tokens": prompt, "completion_tokens": generated,
            "energy": energy_json(result), "cost": cost_json(result)}


def test_the_energy_source_names_its_kind_once_and_the_hardware_tooltip_shows_the_method(
        qtbot) -> None:
    settings = Settings(cpu_tdp_watts=65, kwh_usd=0.3, hardware_usd=2000)
    panel = MetersPanel("gpt-4o-mini", show_tour=False, power_config=power_config(settings))
    qtbot.addWidget(panel)
    panel.show_turn(_figures(settings, prompt=3512, reused=3100, generated=67), final=True)
    energy_source = panel.sources["energy"].text()
    assert energy_source.startswith("estimated: estimate:cpu-tdp")
    assert "estimated: estimated:" not in energy_source
    tooltip = panel.values["local_cost"].toolTip()
    assert "$2,000.00 over 36 months (3 years) at 7.2 busy h/day (30% use, default)" in tooltip
    assert "energy x $0.30/kWh" in tooltip


def test_the_prefill_says_how_many_prompt_tokens_were_evaluated_and_reused(qtbot) -> None:
    panel = MetersPanel("gpt-4o-mini", show_tour=False)
    qtbot.addWidget(panel)
    panel.show_turn(_figures(Settings(allow_power_estimates=False), prompt=3512, reused=3100,
                             generated=67), final=True)
    assert "412 evaluated + 3,100 reused from the KV cache" in panel.sources["prefill"].text()
    panel.show_turn(_figures(Settings(allow_power_estimates=False), prompt=40, reused=0,
                             generated=5), final=True)
    assert "40 evaluated" in panel.sources["prefill"].text()
    assert "reused" not in panel.sources["prefill"].text()


def test_a_changed_tdp_reaches_the_power_meter_without_a_restart(qtbot) -> None:
    panel = MetersPanel("gpt-4o-mini", show_tour=False,
                        power_config=PowerConfig(cpu_tdp_watts=65))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: bool(panel.sensors), timeout=30_000)
    if any(s.kind == "measured" for s in panel.sensors):
        pytest.skip("a measured sensor covers the CPU here: nothing is estimated")
    assert "65 W" in panel.sensors[0].method
    panel.set_power_config(PowerConfig(cpu_tdp_watts=120))
    qtbot.waitUntil(lambda: bool(panel.sensors) and "120 W" in panel.sensors[0].method,
                    timeout=30_000)
    panel.close_sensors()


def test_the_settings_dialog_edits_the_machines_life_and_use(qtbot, tmp_path) -> None:
    from app.gui.dialogs import SettingsDialog
    from routing.keys import KeyStore

    settings = Settings(hardware_usd=2000)
    dialog = SettingsDialog(settings, [], str(tmp_path), KeyStore(tmp_path / "keys.json"),
                            None)
    qtbot.addWidget(dialog)
    use = dialog.numbers["busy_hours_per_day"]
    assert use.text() == "7.2 h/day (30%, default)"  # not set: the default, said so
    dialog.numbers["amortize_months"].setValue(0)  # the life cannot be unset
    use.setValue(3.6)
    dialog.apply_to(settings)
    assert (settings.amortize_months, settings.busy_hours_per_day) == (1, 3.6)
