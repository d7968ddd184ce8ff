"""Sensor discovery and the `doctor` description, on this machine and on fabricated ones."""

import ctypes
import json
import sys
from pathlib import Path

import pytest

from inference.power import (
    EnergyWindow,
    PowerConfig,
    describe_sensors,
    discover_sensors,
    probe_sensors,
)
from inference.power import rapl as rapl_module

FAMILIES = ["NVML", "RAPL", "IOReport", "estimate"]
STATES = {"live", "unavailable", "disabled", "superseded"}


def nvidia_driver_present() -> bool:
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return False
    return True


def fabricated_powercap(root: Path) -> Path:
    zone = root / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "energy_uj").write_text("123456789\n")
    (zone / "max_energy_range_uj").write_text("262143328850\n")
    return root


def only_rapl_and_estimate(**settings) -> PowerConfig:
    return PowerConfig(enable_nvml=False, enable_ioreport=False, **settings)


def test_describe_sensors_on_this_machine_reports_every_family_without_crashing():
    statuses = describe_sensors()

    assert [status.family for status in statuses] == FAMILIES
    for status in statuses:
        assert status.state in STATES
        assert status.reason
    by_family = {status.family: status for status in statuses}
    if not Path("/sys/class/powercap").exists():
        assert by_family["RAPL"].state == "unavailable"
        assert "not present" in by_family["RAPL"].reason
    if not nvidia_driver_present():
        assert by_family["NVML"].state == "unavailable"
        assert "no NVIDIA driver" in by_family["NVML"].reason
    if sys.platform != "darwin":
        assert by_family["IOReport"].reason == "IOReport: macOS only"


def test_statuses_serialise_for_doctor_json():
    statuses = describe_sensors(only_rapl_and_estimate(allow_estimates=False))

    decoded = json.loads(json.dumps([status.to_dict() for status in statuses]))

    assert decoded[0] == {
        "family": "NVML",
        "state": "disabled",
        "reason": "turned off in settings",
        "sensors": [],
    }
    assert all(status.line().startswith(status.family) for status in statuses)


def test_measured_rapl_supersedes_the_estimate(tmp_path):
    config = only_rapl_and_estimate(
        powercap_root=fabricated_powercap(tmp_path / "powercap"), cpu_tdp_watts=65.0
    )

    probe = probe_sensors(config)
    probe.close()

    assert [sensor.name for sensor in probe.sensors] == ["rapl:package-0"]
    by_family = {status.family: status for status in probe.statuses}
    assert by_family["RAPL"].state == "live"
    assert by_family["estimate"].state == "superseded"
    assert "rapl:package-0" in by_family["estimate"].reason


def test_without_measurement_the_configured_estimate_is_used(tmp_path):
    config = only_rapl_and_estimate(powercap_root=tmp_path / "absent", cpu_tdp_watts=65.0)

    sensors = discover_sensors(config)

    assert [(sensor.name, sensor.kind) for sensor in sensors] == [("estimate:cpu-tdp", "estimated")]


def test_estimates_off_and_nothing_measured_gives_not_measured(tmp_path):
    config = only_rapl_and_estimate(
        powercap_root=tmp_path / "absent", cpu_tdp_watts=65.0, allow_estimates=False
    )
    sensors = discover_sensors(config)
    window = EnergyWindow(sensors, idle_baseline_s=config.idle_baseline_s)

    window.start()
    report = window.stop(prompt_tokens=10, generated_tokens=20)

    assert sensors == []
    assert report.total_kind == "not measured"
    assert report.total_joules is None


def test_an_unforeseen_failure_in_one_family_does_not_hide_the_others(tmp_path, monkeypatch):
    def broken_driver(root, read_text=None):
        raise RuntimeError("kernel returned garbage")

    monkeypatch.setattr(rapl_module, "discover_rapl", broken_driver)

    statuses = describe_sensors(only_rapl_and_estimate(cpu_tdp_watts=65.0))

    by_family = {status.family: status for status in statuses}
    assert by_family["RAPL"].state == "unavailable"
    assert "RuntimeError: kernel returned garbage" in by_family["RAPL"].reason
    assert by_family["estimate"].state == "live"


@pytest.mark.parametrize("family_flag", ["enable_nvml", "enable_rapl", "enable_ioreport"])
def test_a_family_turned_off_is_reported_as_disabled(family_flag):
    statuses = describe_sensors(PowerConfig(**{family_flag: False}, allow_estimates=False))

    assert sum(status.state == "disabled" for status in statuses) == 2  # it and the estimate


def test_doctor_text_names_each_live_sensor_under_its_family(tmp_path):
    config = only_rapl_and_estimate(powercap_root=fabricated_powercap(tmp_path / "powercap"))

    rapl_status = describe_sensors(config)[1]

    first, *sensor_lines = rapl_status.line().splitlines()
    assert first.startswith("RAPL      live")
    assert sensor_lines == [
        "    rapl:package-0 [cpu-package, measured]: RAPL energy counter "
        "intel-rapl:0/energy_uj (µJ, wraps at 262143328850 µJ)"
    ]
