"""The CPU estimate: arithmetic, TDP lookup, and that it is always labelled as an estimate."""

import pytest

from inference.power.config import PowerConfig
from inference.power.estimate import (
    CpuTdpEstimateSensor,
    discover_estimate,
    lookup_tdp_watts,
    psutil_cpu_times,
    read_cpu_model_name,
)


class FakeCpu:
    """Cumulative (busy, total) CPU-seconds over all logical CPUs, and a clock."""

    def __init__(self, logical_cpus: int):
        self.logical_cpus = logical_cpus
        self.now = 0.0
        self.busy = 0.0
        self.total = 0.0

    def run(self, seconds: float, utilisation: float) -> None:
        self.now += seconds
        self.total += seconds * self.logical_cpus
        self.busy += seconds * self.logical_cpus * utilisation

    def times(self) -> tuple[float, float]:
        return self.busy, self.total

    def clock(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("model", "watts"),
    [
        ("13th Gen Intel(R) Core(TM) i9-13900K", 125.0),
        ("13th Gen Intel(R) Core(TM) i9-13900KS", 150.0),
        ("12th Gen Intel(R) Core(TM) i5-12400F", 65.0),
        ("12th Gen Intel(R) Core(TM) i7-12700H", 45.0),
        ("12th Gen Intel(R) Core(TM) i7-1255U", 15.0),
        ("Intel(R) Core(TM) Ultra 7 155H", 28.0),
        ("AMD Ryzen 9 7950X 16-Core Processor", 170.0),
        ("AMD Ryzen 9 7950X3D 16-Core Processor", 120.0),
        ("AMD Ryzen 7 7700 8-Core Processor", 65.0),
        ("AMD Ryzen 7 7700X 8-Core Processor", 105.0),
        ("AMD Ryzen 5 5600X 6-Core Processor", 65.0),
        ("AMD EPYC", None),
        ("Apple M2 Pro", None),
        ("", None),
    ],
)
def test_tdp_lookup(model, watts):
    assert lookup_tdp_watts(model) == watts


def test_energy_is_tdp_times_the_intervals_average_utilisation():
    cpu = FakeCpu(logical_cpus=8)
    sensor = CpuTdpEstimateSensor(100.0, "configured", cpu_times=cpu.times, clock=cpu.clock)
    start = sensor.read_energy_j()

    cpu.run(seconds=2.0, utilisation=0.25)
    after_light = sensor.read_energy_j()
    cpu.run(seconds=1.0, utilisation=1.0)
    after_full = sensor.read_energy_j()

    assert after_light - start == pytest.approx(100.0 * 0.25 * 2.0)
    assert after_full - after_light == pytest.approx(100.0)
    assert sensor.last_utilisation == pytest.approx(1.0)


def test_estimate_is_labelled_with_how_it_was_made():
    cpu = FakeCpu(logical_cpus=2)
    sensor = CpuTdpEstimateSensor(
        65.0, "built-in table for AMD Ryzen 5 5600X", cpu_times=cpu.times, clock=cpu.clock
    )

    assert sensor.kind == "estimated"
    assert sensor.name == "estimate:cpu-tdp"
    assert sensor.scope == "cpu-package"
    assert "utilisation" in sensor.method
    assert "65 W TDP" in sensor.method
    assert "Ryzen 5 5600X" in sensor.method
    assert "not a measurement" in sensor.method


def test_disabled_estimates_mean_not_measured():
    sensors, status = discover_estimate(
        PowerConfig(allow_estimates=False, cpu_tdp_watts=65.0), cpu_measured_by=[]
    )

    assert sensors == []
    assert status.state == "disabled"
    assert "not measured" in status.reason


def test_a_measured_cpu_is_never_estimated_as_well():
    sensors, status = discover_estimate(
        PowerConfig(cpu_tdp_watts=65.0), cpu_measured_by=["rapl:package-0"]
    )

    assert sensors == []
    assert status.state == "superseded"
    assert "rapl:package-0" in status.reason


def test_unknown_cpu_without_configured_tdp_is_unavailable():
    sensors, status = discover_estimate(PowerConfig(cpu_model_name="AMD EPYC"), cpu_measured_by=[])

    assert sensors == []
    assert status.state == "unavailable"
    assert "'AMD EPYC'" in status.reason
    assert "cpu_tdp_watts" in status.reason


def test_configured_tdp_makes_a_live_estimate():
    cpu = FakeCpu(logical_cpus=2)

    sensors, status = discover_estimate(
        PowerConfig(cpu_tdp_watts=35.0), cpu_measured_by=[], cpu_times=cpu.times
    )

    [sensor] = sensors
    assert status.state == "live"
    assert sensor.kind == "estimated"
    assert "estimated" in status.reason
    assert "35 W TDP (configured)" in status.sensors[0]


def test_looked_up_tdp_names_its_source():
    cpu = FakeCpu(logical_cpus=2)

    sensors, status = discover_estimate(
        PowerConfig(cpu_model_name="AMD Ryzen 9 7950X 16-Core Processor"),
        cpu_measured_by=[],
        cpu_times=cpu.times,
    )

    assert len(sensors) == 1
    assert "170 W TDP (built-in table for AMD Ryzen 9 7950X" in status.sensors[0]


def test_non_positive_tdp_is_rejected():
    cpu = FakeCpu(logical_cpus=1)

    with pytest.raises(ValueError, match="positive"):
        CpuTdpEstimateSensor(0.0, "configured", cpu_times=cpu.times, clock=cpu.clock)


def test_real_cpu_times_are_consistent():
    busy, total = psutil_cpu_times()

    assert 0.0 <= busy <= total
    assert total > 0.0


def test_cpu_model_name_is_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\n"
        "model name\t: 13th Gen Intel(R) Core(TM) i7-13700K\nflags\t\t: fpu\n"
    )

    assert read_cpu_model_name(cpuinfo) == "13th Gen Intel(R) Core(TM) i7-13700K"
