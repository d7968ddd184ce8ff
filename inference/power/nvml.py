"""NVIDIA GPU board energy through NVML (the nvidia-ml-py package, imported as pynvml).

Volta and newer GPUs keep a cumulative energy counter (millijoules since the driver loaded);
that counter is the only thing read when it exists. Older boards only report instantaneous
power, so for them a background thread samples power and integrates it; such a sensor says so
in its method label. pynvml is imported lazily so machines without it still start.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from collections.abc import Callable
from types import ModuleType

from inference.power.sensor import PowerSensor, SensorFamilyStatus, SensorReadError

FAMILY = "NVML"

# NVML refreshes the energy counter every 20-100 ms depending on the board; the slow end is
# assumed so that phase splits are never claimed finer than the hardware resolves.
_ENERGY_COUNTER_UPDATE_S = 0.1
# Power readings are one-second averages on Ampere and newer boards.
_POWER_READING_UPDATE_S = 1.0

Clock = Callable[[], float]


def _import_pynvml() -> ModuleType:
    return importlib.import_module("pynvml")


def _text(value: str | bytes) -> str:
    # nvidia-ml-py returned bytes before 11.5 and str since.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class _NvmlReference:
    """One nvmlInit/nvmlShutdown pair; NVML counts them, so each sensor holds its own."""

    def __init__(self, pynvml: ModuleType):
        self._pynvml = pynvml
        pynvml.nvmlInit()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            # Shutting down after a GPU was lost can fail; nothing is left to release then.
            with contextlib.suppress(self._pynvml.NVMLError):
                self._pynvml.nvmlShutdown()


class NvmlEnergySensor(PowerSensor):
    """A GPU's total-energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ)."""

    scope = "gpu-board"
    kind = "measured"
    update_interval_s = _ENERGY_COUNTER_UPDATE_S

    def __init__(self, pynvml: ModuleType, index: int, handle: object, device_name: str):
        self.name = f"nvml:{index} {device_name}"
        self.method = "NVML total energy counter (mJ since driver load)"
        self._pynvml = pynvml
        self._handle = handle
        self._reference = _NvmlReference(pynvml)
        try:
            self._last_mj = int(pynvml.nvmlDeviceGetTotalEnergyConsumption(handle))
        except BaseException:
            self._reference.release()
            raise
        self._total_mj = 0

    def read_energy_j(self) -> float:
        try:
            counter_mj = int(self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))
        except self._pynvml.NVMLError as exc:
            raise SensorReadError(f"{self.name}: {exc}") from exc
        delta_mj = counter_mj - self._last_mj
        if delta_mj < 0:
            # The driver was reloaded and the counter restarted from zero.
            delta_mj = counter_mj
        self._last_mj = counter_mj
        self._total_mj += delta_mj
        return self._total_mj / 1000.0

    def close(self) -> None:
        self._reference.release()


class TrapezoidIntegrator:
    """Energy from timestamped power samples: the area under the sampled power curve."""

    def __init__(self) -> None:
        self.joules = 0.0
        self._last: tuple[float, float] | None = None

    def add(self, timestamp_s: float, watts: float) -> None:
        if self._last is not None:
            last_time, last_watts = self._last
            elapsed = timestamp_s - last_time
            if elapsed > 0:
                self.joules += (watts + last_watts) / 2.0 * elapsed
        self._last = (timestamp_s, watts)


class NvmlPowerIntegratingSensor(PowerSensor):
    """Fallback for GPUs without an energy counter: integrates nvmlDeviceGetPowerUsage (mW).

    A background thread samples power every poll_interval_s so that the energy of a window is
    an integral over many samples rather than one reading multiplied by the elapsed time.
    """

    scope = "gpu-board"
    kind = "measured"
    update_interval_s = _POWER_READING_UPDATE_S

    def __init__(
        self,
        pynvml: ModuleType,
        index: int,
        handle: object,
        device_name: str,
        poll_interval_s: float = 0.1,
        clock: Clock = time.monotonic,
        background: bool = True,
    ):
        self.name = f"nvml:{index} {device_name}"
        self.method = (
            f"NVML power samples integrated every {poll_interval_s:g} s "
            "(this GPU has no energy counter; power is a ~1 s average)"
        )
        self._pynvml = pynvml
        self._handle = handle
        self._clock = clock
        self._poll_interval_s = poll_interval_s
        self._integrator = TrapezoidIntegrator()
        self._lock = threading.Lock()
        self._poll_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reference = _NvmlReference(pynvml)
        try:
            self.poll()
        except BaseException:
            self._reference.release()
            raise
        if background:
            self._thread = threading.Thread(
                target=self._poll_until_stopped, name=f"stillroom-{self.name}", daemon=True
            )
            self._thread.start()

    def poll(self) -> None:
        """Take one power sample now and add it to the integral."""
        milliwatts = self._pynvml.nvmlDeviceGetPowerUsage(self._handle)
        with self._lock:
            self._integrator.add(self._clock(), milliwatts / 1000.0)

    def _poll_until_stopped(self) -> None:
        while not self._stop.wait(self._poll_interval_s):
            try:
                self.poll()
            except self._pynvml.NVMLError as exc:
                self._poll_error = exc
                return

    def read_energy_j(self) -> float:
        if self._poll_error is not None:
            raise SensorReadError(f"{self.name}: power sampling stopped: {self._poll_error}")
        try:
            self.poll()
        except self._pynvml.NVMLError as exc:
            raise SensorReadError(f"{self.name}: {exc}") from exc
        with self._lock:
            return self._integrator.joules

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._reference.release()


def discover_nvml(
    poll_interval_s: float = 0.1, background_polling: bool = True
) -> tuple[list[PowerSensor], SensorFamilyStatus]:
    """Open every NVIDIA GPU NVML can see, or say why none can be opened."""
    try:
        pynvml = _import_pynvml()
    except ImportError:
        return [], _unavailable("the nvidia-ml-py package is not installed")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound:
        return [], _unavailable("NVML library (libnvidia-ml) not found: no NVIDIA driver")
    except pynvml.NVMLError_DriverNotLoaded:
        return [], _unavailable("NVIDIA driver installed but not loaded (is a GPU present?)")
    except pynvml.NVMLError_NoPermission:
        return [], _unavailable("permission denied opening the NVIDIA device")
    except pynvml.NVMLError as exc:
        return [], _unavailable(f"initialisation failed: {exc}")

    sensors: list[PowerSensor] = []
    notes: list[str] = []
    try:
        count = pynvml.nvmlDeviceGetCount()
        for index in range(count):
            sensor, note = _open_device(pynvml, index, poll_interval_s, background_polling)
            if sensor is not None:
                sensors.append(sensor)
            if note:
                notes.append(note)
    except pynvml.NVMLError as exc:
        for sensor in sensors:
            sensor.close()
        return [], _unavailable(f"enumerating GPUs failed: {exc}")
    finally:
        pynvml.nvmlShutdown()

    if count == 0:
        return [], _unavailable("the NVIDIA driver is loaded but reports no GPU")
    if not sensors:
        return [], _unavailable("; ".join(notes))
    reason = "; ".join(notes) if notes else "reading each GPU's total energy counter"
    return sensors, SensorFamilyStatus(
        family=FAMILY,
        state="live",
        reason=reason,
        sensors=[sensor.describe() for sensor in sensors],
    )


def _open_device(
    pynvml: ModuleType, index: int, poll_interval_s: float, background_polling: bool
) -> tuple[PowerSensor | None, str]:
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        device_name = _text(pynvml.nvmlDeviceGetName(handle))
    except pynvml.NVMLError as exc:
        return None, f"GPU {index}: cannot open ({exc})"
    try:
        return NvmlEnergySensor(pynvml, index, handle, device_name), ""
    except (pynvml.NVMLError_NotSupported, pynvml.NVMLError_FunctionNotFound):
        pass  # pre-Volta board or old driver: fall through to power integration
    except pynvml.NVMLError as exc:
        return None, f"GPU {index} {device_name}: energy counter unreadable: {exc}"
    try:
        sensor = NvmlPowerIntegratingSensor(
            pynvml,
            index,
            handle,
            device_name,
            poll_interval_s=poll_interval_s,
            background=background_polling,
        )
    except pynvml.NVMLError as exc:
        return None, f"GPU {index} {device_name}: neither energy nor power readable ({exc})"
    return sensor, f"GPU {index} {device_name}: no energy counter, integrating power samples"


def _unavailable(reason: str) -> SensorFamilyStatus:
    return SensorFamilyStatus(family=FAMILY, state="unavailable", reason=f"NVML: {reason}")
