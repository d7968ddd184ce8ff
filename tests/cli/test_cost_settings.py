"""`stillroom cost local` and `cost breakeven` price this machine with the user's own
settings (electricity price, hardware price and life, expected use, TDP) where no flag is
given; a flag still wins, and what is missing is named once, with its setting."""

import json
from pathlib import Path

from app.config import Settings, save_settings
from tests.conftest import run_cli


def _settings(home: Path, **values) -> None:
    home.mkdir(parents=True, exist_ok=True)
    save_settings(home / "settings.json", Settings(**values))


def test_cost_local_uses_the_settings(stillroom_home: Path) -> None:
    _settings(stillroom_home, kwh_usd=0.3, hardware_usd=2000, amortize_months=36,
              cpu_tdp_watts=100)
    done = run_cli("cost", "local", "--json", home=stillroom_home)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    # 0.1 kW x 7.2 h a day (30% use, the default) x 30 days x $0.30; $2,000 over 36 months.
    assert document["energy_monthly_usd"] == 6.48
    assert round(document["amortization_monthly_usd"], 4) == 55.5556
    text = run_cli("cost", "local", home=stillroom_home)
    assert text.returncode == 0, text.stderr
    settings_row = text.stdout.splitlines()[-1]
    assert settings_row.split()[:3] == ["from", "your", "settings"]
    assert "--hardware-usd 2000 (hardware_usd)" in settings_row
    assert "--kwh-usd 0.3 (kwh_usd)" in settings_row
    assert "--hours-per-day 7.2 (busy_hours_per_day, default 30% use)" in settings_row


def test_a_flag_wins_over_the_setting(stillroom_home: Path) -> None:
    _settings(stillroom_home, kwh_usd=0.3, hardware_usd=2000, cpu_tdp_watts=100,
              busy_hours_per_day=10)
    done = run_cli("cost", "local", "--json", "--kwh-usd", "0.1", home=stillroom_home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["energy_monthly_usd"] == 3.0  # 0.1 kW x 10 h x 30 x $0.10


def test_breakeven_takes_the_hardware_and_running_cost_from_the_settings(
        stillroom_home: Path) -> None:
    _settings(stillroom_home, kwh_usd=0.12, hardware_usd=2000, cpu_tdp_watts=350,
              busy_hours_per_day=7.2)
    done = run_cli("cost", "breakeven", "--cloud-model", "claude-sonnet-4-5",
                   "--input-tokens-per-month", "50M", "--output-tokens-per-month", "25M",
                   "--json", home=stillroom_home)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    # Seed 001: the 4090 at 30% use and $0.12/kWh is $9.07 a month of electricity.
    assert document["local_monthly_usd"] == 9.072
    assert document["breakeven_months"] == round(2000 / (525 - 9.072), 2)


def test_a_missing_setting_is_named_with_its_flag(stillroom_home: Path) -> None:
    _settings(stillroom_home, hardware_usd=2000, cpu_tdp_watts=100)
    done = run_cli("cost", "local", home=stillroom_home)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "stillroom: missing --kwh-usd (or set kwh_usd in settings.json or Settings > Costs)")
    assert done.stdout == ""
