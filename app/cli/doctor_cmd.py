"""`stillroom doctor`: what this machine can run and measure, and where the data lives."""

from __future__ import annotations

import argparse
import json

from app.cli.render import human_bytes
from app.config import data_dir, database_url, load_settings
from inference.hardware import probe
from inference.power import PowerConfig, SensorFamilyStatus, describe_sensors


def collect() -> dict[str, object]:
    report = probe().to_json()
    directory = data_dir()
    report["data_dir"] = str(directory)
    report["database"] = database_url(directory).split("://", 1)[0]
    settings, _ = load_settings(directory / "settings.json")
    power = PowerConfig(cpu_tdp_watts=settings.cpu_tdp_watts)
    report["sensors"] = [status.to_dict() for status in describe_sensors(power)]
    return report


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
    print(f"Data      {report['data_dir']}  (database: {report['database']})")
    return 0
