"""The chat path's energy meter: sensors found once, idle baseline in the background.

Sensors are faked at the PowerSensor interface (no machine here has a live one); the
window arithmetic itself is tested in tests/inference/test_power_window.py.
"""

import time
from collections.abc import Callable

import pytest

from app.metering.energy_meter import EnergyMeter
from inference.power import PowerConfig, PowerSensor, SensorFamilyStatus, SensorProbe


class SteadySensor(PowerSensor):
    """A counter that rises at a steady rate, with a hook run at each read."""

    name = "fake:package-0"
    scope = "cpu-package"
    kind = "measured"
    method = "a steady fake counter"
    update_interval_s = 0.001

    def __init__(self, watts: float = 10.0,
                 on_read: Callable[[int], None] | None = None) -> None:
        self.watts = watts
        self.reads = 0
        self.closed = False
        self._on_read = on_read

    def read_energy_j(self) -> float:
        self.reads += 1
        if self._on_read:
            self._on_read(self.reads)
        return self.watts * time.perf_counter()

    def close(self) -> None:
        self.closed = True


def _meter(sensors: list[PowerSensor], statuses: list[SensorFamilyStatus] | None = None,
           **options) -> EnergyMeter:
    probe = SensorProbe(sensors=sensors, statuses=statuses or [])
    meter = EnergyMeter(PowerConfig(), discover=lambda _config: probe, **options)
    meter.start()
    return meter


def test_without_sensors_a_window_reports_not_measured_and_says_why() -> None:
    disabled = SensorFamilyStatus("estimate", "disabled", "estimates turned off")
    for statuses, reason in (
            ([], "no power sensor is live on this machine (see `stillroom doctor`)"),
            ([disabled], "no power sensor is live and estimates are turned off")):
        meter = _meter([], statuses)
        window = meter.open_window()
        window.mark_first_token()
        report = window.stop(prompt_tokens=5, generated_tokens=3)
        meter.close()
        assert report.total_joules is None and report.total_kind == "not measured"
        assert meter.source_label(report) == f"not measured: {reason}"


def test_a_failed_discovery_leaves_the_chat_unmeasured_not_broken() -> None:
    def explode(_config: PowerConfig) -> SensorProbe:
        raise RuntimeError("driver on fire")

    meter = EnergyMeter(PowerConfig(), discover=explode)
    meter.start()
    report = meter.open_window().stop()
    meter.close()
    assert meter.source_label(report) == (
        "not measured: discovery failed: RuntimeError: driver on fire")


def test_the_idle_baseline_is_measured_in_the_background_then_subtracted() -> None:
    sensor = SteadySensor(watts=10.0)
    meter = _meter([sensor], quiet_before_baseline_s=0, min_baseline_s=0.05)
    assert meter.wait_until_settled()
    assert meter.baseline is not None
    assert meter.baseline.watts_by_sensor[sensor.name] == pytest.approx(10.0, rel=0.2)
    with meter.busy():
        window = meter.open_window()
        window.mark_first_token()
        report = window.stop(prompt_tokens=4, generated_tokens=2)
    label = meter.source_label(report)
    meter.close()
    assert report.total_kind == "measured" and report.total_joules is not None
    assert label == ("measured: fake:package-0 [cpu-package, measured]: a steady fake counter; "
                     "net of the idle draw measured before")
    assert sensor.closed


def test_work_during_the_idle_sample_throws_that_sample_away() -> None:
    meter: EnergyMeter | None = None

    def a_generation_starts_during_the_first_sample(read: int) -> None:
        if read == 2:  # the first sample's closing read
            with meter.busy():
                pass

    sensor = SteadySensor(on_read=a_generation_starts_during_the_first_sample)
    meter = _meter([sensor], quiet_before_baseline_s=0, min_baseline_s=0.01)
    assert meter.wait_until_settled()
    meter.close()
    assert meter.baseline is not None
    assert sensor.reads == 4  # the first sample was discarded, the second kept


def test_a_turn_never_waits_for_the_baseline() -> None:
    # The machine will not be quiet for an hour, so no baseline exists during this test.
    meter = _meter([SteadySensor()], quiet_before_baseline_s=3600)
    assert meter.wait_until_discovered()
    window = meter.open_window()
    report = window.stop(prompt_tokens=1, generated_tokens=1)
    assert meter.baseline is None
    assert meter.source_label(report).endswith("; gross (no idle baseline yet)")
    meter.close()  # wakes the waiting thread rather than waiting out the hour
    assert meter.wait_until_settled(timeout=0) and meter.baseline is None


def test_a_meter_that_was_never_started_does_not_wait_for_discovery() -> None:
    meter = EnergyMeter(PowerConfig(), discover=lambda _config: SensorProbe([SteadySensor()], []))
    report = meter.open_window().stop()
    assert meter.source_label(report) == "not measured: power sensors were not opened"
    meter.close()
