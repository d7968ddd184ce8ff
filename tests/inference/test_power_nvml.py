"""NVML sensors, faked at the pynvml boundary: nvidia-ml-py's real function names are
monkeypatched on the real module, and failures are raised as pynvml's own NVMLError
subclasses, exactly as the library raises them when the C call returns an error code."""

import sys
from dataclasses import dataclass

import pynvml
import pytest

from inference.power.nvml import (
    NvmlEnergySensor,
    NvmlPowerIntegratingSensor,
    TrapezoidIntegrator,
    discover_nvml,
)
from inference.power.sensor import SensorReadError


def nvml_error(code: int) -> pynvml.NVMLError:
    return pynvml.NVMLError(code)


@dataclass
class FakeGpu:
    name: str | bytes
    energy_mj: int | None = 0  # None: the board has no energy counter
    power_mw: int | None = 0  # None: the board reports no power either
    energy_error: int = pynvml.NVML_ERROR_NOT_SUPPORTED
    lost: bool = False


class FakeNvml:
    """Stands in for libnvidia-ml behind pynvml's Python functions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, gpus: list[FakeGpu]):
        self.gpus = gpus
        self.init_error: int | None = None
        self.references = 0
        for name in (
            "nvmlInit",
            "nvmlShutdown",
            "nvmlDeviceGetCount",
            "nvmlDeviceGetHandleByIndex",
            "nvmlDeviceGetName",
            "nvmlDeviceGetTotalEnergyConsumption",
            "nvmlDeviceGetPowerUsage",
        ):
            monkeypatch.setattr(pynvml, name, getattr(self, name))

    def nvmlInit(self):
        if self.init_error is not None:
            raise nvml_error(self.init_error)
        self.references += 1

    def nvmlShutdown(self):
        if self.references == 0:
            raise nvml_error(pynvml.NVML_ERROR_UNINITIALIZED)
        self.references -= 1

    def _require_init(self):
        if self.references == 0:
            raise nvml_error(pynvml.NVML_ERROR_UNINITIALIZED)

    def nvmlDeviceGetCount(self):
        self._require_init()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        self._require_init()
        return self.gpus[index]

    def nvmlDeviceGetName(self, handle):
        return handle.name

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        self._require_init()
        if handle.lost:
            raise nvml_error(pynvml.NVML_ERROR_GPU_IS_LOST)
        if handle.energy_mj is None:
            raise nvml_error(handle.energy_error)
        return handle.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle):
        self._require_init()
        if handle.power_mw is None:
            raise nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return handle.power_mw


def test_error_codes_map_to_the_subclasses_the_sensor_catches():
    assert isinstance(nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED), pynvml.NVMLError_NotSupported)
    assert isinstance(
        nvml_error(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND), pynvml.NVMLError_LibraryNotFound
    )
    assert isinstance(
        nvml_error(pynvml.NVML_ERROR_DRIVER_NOT_LOADED), pynvml.NVMLError_DriverNotLoaded
    )


def test_energy_counter_difference_in_joules_per_gpu(monkeypatch):
    first = FakeGpu("NVIDIA GeForce RTX 4090", energy_mj=1_000_000)
    second = FakeGpu(b"Tesla V100-SXM2-16GB", energy_mj=5_000)  # old nvidia-ml-py gave bytes
    FakeNvml(monkeypatch, [first, second])
    sensors, status = discover_nvml()
    before = [sensor.read_energy_j() for sensor in sensors]

    first.energy_mj += 42_500
    second.energy_mj += 1_250
    after = [sensor.read_energy_j() for sensor in sensors]

    assert status.state == "live"
    assert [sensor.name for sensor in sensors] == [
        "nvml:0 NVIDIA GeForce RTX 4090",
        "nvml:1 Tesla V100-SXM2-16GB",
    ]
    assert all(isinstance(sensor, NvmlEnergySensor) for sensor in sensors)
    assert all((s.scope, s.kind) == ("gpu-board", "measured") for s in sensors)
    assert after[0] - before[0] == pytest.approx(42.5)
    assert after[1] - before[1] == pytest.approx(1.25)


def test_every_nvml_reference_is_released(monkeypatch):
    fake = FakeNvml(monkeypatch, [FakeGpu("GPU A", energy_mj=0), FakeGpu("GPU B", energy_mj=0)])
    sensors, _ = discover_nvml()
    held_while_open = fake.references

    for sensor in sensors:
        sensor.close()
        sensor.close()  # a second close must not shut NVML down for someone else

    assert held_while_open == 2
    assert fake.references == 0


def test_not_supported_energy_falls_back_to_labelled_power_integration(monkeypatch):
    FakeNvml(monkeypatch, [FakeGpu("Tesla P100-PCIE-16GB", energy_mj=None, power_mw=250_000)])

    sensors, status = discover_nvml(background_polling=False)

    [sensor] = sensors
    assert isinstance(sensor, NvmlPowerIntegratingSensor)
    assert sensor.kind == "measured"
    assert "integrated" in sensor.method
    assert "no energy counter" in sensor.method
    assert "integrating power samples" in status.reason
    sensor.close()


def test_old_driver_without_the_energy_function_also_falls_back(monkeypatch):
    FakeNvml(
        monkeypatch,
        [
            FakeGpu(
                "Quadro P4000",
                energy_mj=None,
                power_mw=80_000,
                energy_error=pynvml.NVML_ERROR_FUNCTION_NOT_FOUND,
            )
        ],
    )

    [sensor], _ = discover_nvml(background_polling=False)

    assert isinstance(sensor, NvmlPowerIntegratingSensor)
    sensor.close()


def test_power_integration_is_the_area_under_the_samples(monkeypatch):
    gpu = FakeGpu("Tesla P100-PCIE-16GB", energy_mj=None, power_mw=100_000)
    FakeNvml(monkeypatch, [gpu])
    now = [0.0]
    sensor = NvmlPowerIntegratingSensor(
        pynvml, 0, gpu, gpu.name, clock=lambda: now[0], background=False
    )

    now[0], gpu.power_mw = 1.0, 200_000
    sensor.poll()
    now[0] = 2.0
    energy = sensor.read_energy_j()

    # 100 W -> 200 W over the first second (150 J), then 200 W for a second (200 J): the
    # integral, not the last reading times the elapsed time (400 J).
    assert energy == pytest.approx(350.0)
    sensor.close()


def test_background_sampling_thread_stops_on_close(monkeypatch):
    gpu = FakeGpu("Tesla P100-PCIE-16GB", energy_mj=None, power_mw=100_000)
    FakeNvml(monkeypatch, [gpu])
    sensor = NvmlPowerIntegratingSensor(pynvml, 0, gpu, gpu.name, poll_interval_s=0.001)
    thread = sensor._thread

    sensor.close()

    assert thread is not None
    assert not thread.is_alive()


def test_trapezoid_ignores_samples_that_do_not_advance_time():
    integrator = TrapezoidIntegrator()
    integrator.add(5.0, 10.0)
    integrator.add(5.0, 99.0)
    integrator.add(7.0, 30.0)

    assert integrator.joules == pytest.approx((99.0 + 30.0) / 2 * 2.0)


def test_board_with_neither_energy_nor_power_is_unavailable(monkeypatch):
    FakeNvml(monkeypatch, [FakeGpu("GRID K520", energy_mj=None, power_mw=None)])

    sensors, status = discover_nvml(background_polling=False)

    assert sensors == []
    assert status.state == "unavailable"
    assert "GRID K520" in status.reason
    assert "neither energy nor power" in status.reason


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "not loaded"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "permission denied"),
        (pynvml.NVML_ERROR_UNKNOWN, "initialisation failed"),
    ],
)
def test_init_failures_become_reasons(monkeypatch, code, expected):
    fake = FakeNvml(monkeypatch, [FakeGpu("never seen", energy_mj=0)])
    fake.init_error = code

    sensors, status = discover_nvml()

    assert sensors == []
    assert status.state == "unavailable"
    assert status.reason.startswith("NVML: ")
    assert expected in status.reason


def test_missing_nvidia_ml_py_is_a_reason_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError

    sensors, status = discover_nvml()

    assert sensors == []
    assert "nvidia-ml-py" in status.reason


def test_driver_without_gpus(monkeypatch):
    fake = FakeNvml(monkeypatch, [])

    sensors, status = discover_nvml()

    assert sensors == []
    assert "no GPU" in status.reason
    assert fake.references == 0


def test_lost_gpu_raises_read_error(monkeypatch):
    gpu = FakeGpu("NVIDIA A100-SXM4-80GB", energy_mj=0)
    FakeNvml(monkeypatch, [gpu])
    [sensor], _ = discover_nvml()

    gpu.lost = True

    with pytest.raises(SensorReadError, match="GPU is lost"):
        sensor.read_energy_j()
    sensor.close()


def test_counter_restart_after_driver_reload_never_goes_backwards(monkeypatch):
    gpu = FakeGpu("NVIDIA L4", energy_mj=9_000_000)
    FakeNvml(monkeypatch, [gpu])
    [sensor] = discover_nvml()[0]
    before = sensor.read_energy_j()

    gpu.energy_mj = 3_000  # restarted from zero, then 3 J spent
    after = sensor.read_energy_j()

    assert after - before == pytest.approx(3.0)
    sensor.close()
