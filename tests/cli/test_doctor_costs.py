"""`stillroom doctor` names the sensor the chat path meters with, and the cost settings."""

import json
from pathlib import Path

from app.config import Settings, save_settings
from tests.conftest import run_cli


def test_doctor_says_how_answers_are_metered_and_priced(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    save_settings(stillroom_home / "settings.json",
                  Settings(cpu_tdp_watts=65, kwh_usd=0.15, reference_cloud_model="gpt-5-mini"))
    report = json.loads(run_cli("doctor", "--json", home=stillroom_home).stdout)
    live = [s for family in report["sensors"] for s in family["sensors"]]
    # The estimate is live unless a measured sensor covers the CPU on this machine.
    if any("estimate:cpu-tdp" in sensor for sensor in live):
        assert report["chat_energy"] == "estimated by estimate:cpu-tdp [cpu-package]"
    else:
        assert report["chat_energy"].startswith("measured by ")
    assert report["costs"]["kwh_usd"] == 0.15 and report["costs"]["hardware_usd"] is None
    assert report["costs_text"] == (
        "electricity $0.15/kWh; hardware price not set (hardware_usd): its share is unknown; "
        "compared with gpt-5-mini")
    text = run_cli("doctor", home=stillroom_home).stdout
    assert f"Energy    chat answers: {report['chat_energy']}\n" in text
    assert f"Costs     {report['costs_text']}\n" in text


def test_doctor_without_estimates_says_answers_are_not_measured(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    save_settings(stillroom_home / "settings.json", Settings(allow_power_estimates=False))
    report = json.loads(run_cli("doctor", "--json", home=stillroom_home).stdout)
    estimate = next(f for f in report["sensors"] if f["family"] == "estimate")
    assert estimate["state"] == "disabled"
    if not any(family["sensors"] for family in report["sensors"]):
        assert report["chat_energy"] == (
            "not measured: no power sensor is live and estimates are turned off")
    assert "electricity tariff not set (kwh_usd): energy cost is unknown" in (
        report["costs_text"])
