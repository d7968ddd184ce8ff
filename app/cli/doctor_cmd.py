"""`stillroom doctor`: what this machine can run and measure, and where the data lives."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path

from app.cli.render import human_bytes
from app.config import Settings, data_dir, database_url, load_settings
from app.metering.energy_meter import chat_energy_summary, power_config
from app.store import db_url
from app.store.audit_check import protection_here
from inference.hardware import probe
from inference.power import SensorFamilyStatus, probe_sensors
from routing.pricing import format_usd


def collect() -> dict[str, object]:
    report = probe().to_json()
    directory = data_dir()
    report["data_dir"] = str(directory)
    report["database"] = database_url(directory).split("://", 1)[0]
    if db_url.is_postgresql(database_url(directory)):
        report["database_url"] = db_url.shown(database_url(directory))  # password hidden
    report["database_encryption"] = _encryption(database_url(directory))
    settings, _ = load_settings(directory / "settings.json")
    # The same sensors the chat path opens, so the line below says what it will use.
    sensors = probe_sensors(power_config(settings), background_polling=False)
    try:
        report["sensors"] = [status.to_dict() for status in sensors.statuses]
        report["chat_energy"] = chat_energy_summary(sensors.sensors, sensors.statuses)
    finally:
        sensors.close()
    report["costs"] = {"kwh_usd": settings.kwh_usd, "hardware_usd": settings.hardware_usd,
                       "amortize_months": settings.amortize_months,
                       "busy_hours_per_day": settings.busy_hours_per_day,
                       "reference_cloud_model": settings.reference_cloud_model}
    report["costs_text"] = _costs_text(settings)
    report["audit"] = protection_here(directory)
    report["judge"] = _judge(settings, directory)
    return report


def _judge(settings: Settings, directory: Path) -> dict[str, object]:
    """The local judge of cloud-bound text: which model, whether it runs, and a warning
    when that model is too small to judge (app/turn/judge_step.py)."""
    from app.turn.judge_step import choose_judge
    from inference.models.library import ModelLibrary

    choice = choose_judge(settings, ModelLibrary(directory))
    state = "runs for cloud-bound text" if choice.active else "does not run"
    line = f"{settings.judge}: {state}; {choice.why}"
    if choice.model is not None and choice.active:
        line += f", timeout {settings.judge_timeout_s:g} s"
    if choice.warning:
        line += f". Warning: {choice.warning}"
    return {"mode": settings.judge, "model": choice.model.id if choice.model else None,
            "active": choice.active, "timeout_s": settings.judge_timeout_s,
            "warning": choice.warning, "line": line}


def _encryption(url: str) -> dict[str, object]:
    from app.store.encryption import describe

    at_rest = describe(url)
    return {"encrypted": at_rest.encrypted, "state": at_rest.line()}


def _usd(value: float) -> str:
    return format_usd(Decimal(repr(value)))


def _costs_text(settings: Settings) -> str:
    """What the ledger prices answers with; unset money is named, since it prices as unknown."""
    tariff = "electricity tariff not set (kwh_usd): energy cost is unknown"
    if settings.kwh_usd is not None:
        tariff = f"electricity {_usd(settings.kwh_usd)}/kWh"
    hardware = "hardware price not set (hardware_usd): its share is unknown"
    if settings.hardware_usd is not None:
        hardware = (f"hardware {_usd(settings.hardware_usd)} over "
                    f"{settings.amortize_months:g} months")
    reference = settings.reference_cloud_model or "none (reference_cloud_model)"
    return f"{tariff}; {hardware}; compared with {reference}"


def run_doctor(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"OS        {report['os']}  (Python {report['python']})")
    print(f"CPU       {report['cpu']}  ({report['physical_cores']} cores, "
          f"{report['logical_cores']} threads)")
    print(f"RAM       {human_bytes(report['ram_total_bytes'])} total, "
          f"{human_bytes(report['ram_available_bytes'])} available")
    gpus = report["gpus"] or []
    if not gpus:
        print("GPU       none found (no NVIDIA driver, not Apple Silicon)")
    for gpu in gpus:
        print(f"GPU       {gpu['name']} ({human_bytes(gpu['memory_bytes'])}, via {gpu['source']})")
    for engine in report["engines"]:
        state = f"yes, {engine['version']}" if engine["available"] else "no"
        print(f"Engine    {engine['name']:10} {state} — {engine['detail']}")
    print("Power sensors (energy per answer is measured only where one is live):")
    for status in report["sensors"]:
        print("  " + SensorFamilyStatus(**status).line().replace("\n", "\n  "))
    print(f"Energy    chat answers: {report['chat_energy']}")
    print(f"Costs     {report['costs_text']}")
    print(f"Audit     {report['audit']}")
    print(f"Judge     {report['judge']['line']}")  # type: ignore[index]
    database = report.get("database_url") or report["database"]
    print(f"Data      {report['data_dir']}  (database: {database})")
    print(f"Chats     {report['database_encryption']['state']}")
    return 0
