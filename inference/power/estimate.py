"""A labelled CPU energy estimate for machines without a CPU energy counter.

energy = rated TDP x CPU utilisation x elapsed time, where utilisation comes from the kernel's
cumulative CPU-time counters between two reads (so it is the true average utilisation of the
interval, not one snapshot). TDP is a thermal design figure, not a power measurement: real
draw can be well above it under turbo and well below it at light load, so this is always
reported as "estimated" and says which TDP it used and where that number came from.
"""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

from inference.power.config import PowerConfig
from inference.power.sensor import PowerSensor, SensorFamilyStatus, SensorReadError

FAMILY = "estimate"

CpuTimesReader = Callable[[], tuple[float, float]]
Clock = Callable[[], float]

# Rated TDP / processor base power in watts from the vendors' spec sheets, for desktop and
# laptop families where one figure covers every model the pattern matches. Order matters: the
# first match wins, so more specific patterns (X3D, KS) come before general ones.
_TDP_TABLE: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern), watts)
    for pattern, watts in (
        (r"Ryzen 9 (7950X3D|7900X3D)\b", 120.0),
        (r"Ryzen 7 7800X3D\b", 120.0),
        (r"Ryzen 9 (9950X|7950X|7900X)\b", 170.0),
        (r"Ryzen 9 9900X\b", 120.0),
        (r"Ryzen [57] (7700X|7600X)\b", 105.0),
        (r"Ryzen [57] (9700X|9600X|7700|7600)\b", 65.0),
        (r"Ryzen [579] (5950X|5900X|5800X3D|5800X)\b", 105.0),
        (r"Ryzen [57] (5700X|5600X|5600)\b", 65.0),
        (r"\bi[579]-1[234]\d00KS\b", 150.0),
        (r"\bi[579]-1[234]\d00KF?\b", 125.0),
        (r"\bi[579]-1[234]\d00F?\b", 65.0),
        (r"\bi[579]-1[234]\d{3}H\b", 45.0),
        (r"\bi[357]-1[23]\d{2}P\b", 28.0),
        (r"\bi[357]-1[23]\d{2}U\b", 15.0),
        (r"Core Ultra [57] 1[2-6]5H\b", 28.0),
    )
)


def lookup_tdp_watts(cpu_model_name: str) -> float | None:
    """Rated TDP for a CPU model name such as "AMD Ryzen 9 7950X 16-Core Processor"."""
    normalized = re.sub(r"\((TM|R)\)", "", cpu_model_name, flags=re.IGNORECASE)
    normalized = re.sub(r"\s+", " ", normalized)
    for pattern, watts in _TDP_TABLE:
        if pattern.search(normalized):
            return watts
    return None


def read_cpu_model_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's marketing name, or "" when the OS does not say."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor()


def psutil_cpu_times() -> tuple[float, float]:
    """(busy, total) CPU seconds summed over all logical CPUs since boot."""
    import psutil

    times = psutil.cpu_times()
    total = sum(times)
    # On Linux guest time is already inside user/nice; psutil's own cpu_percent drops it too.
    total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


class CpuTdpEstimateSensor(PowerSensor):
    """Estimated CPU package energy: TDP x measured utilisation, integrated between reads."""

    name = "estimate:cpu-tdp"
    scope = "cpu-package"
    kind = "estimated"
    # Kernel CPU-time counters advance in scheduler ticks (10 ms at the usual USER_HZ).
    update_interval_s = 0.01

    def __init__(
        self,
        tdp_watts: float,
        tdp_source: str,
        cpu_times: CpuTimesReader = psutil_cpu_times,
        clock: Clock = time.monotonic,
    ):
        if tdp_watts <= 0:
            raise ValueError(f"TDP must be positive, got {tdp_watts}")
        self.tdp_watts = tdp_watts
        self.method = (
            f"estimated as CPU utilisation x {tdp_watts:g} W TDP ({tdp_source}); not a measurement"
        )
        self._cpu_times = cpu_times
        self._clock = clock
        self._last_time = clock()
        self._last_busy, self._last_total = cpu_times()
        self._joules = 0.0
        self.last_utilisation: float | None = None

    def read_energy_j(self) -> float:
        now = self._clock()
        try:
            busy, total = self._cpu_times()
        except OSError as exc:
            raise SensorReadError(f"{self.name}: cannot read CPU times: {exc}") from exc
        busy_delta = busy - self._last_busy
        total_delta = total - self._last_total
        if total_delta > 0:
            utilisation = min(max(busy_delta / total_delta, 0.0), 1.0)
            self._joules += self.tdp_watts * utilisation * (now - self._last_time)
            self.last_utilisation = utilisation
        self._last_time, self._last_busy, self._last_total = now, busy, total
        return self._joules

    def close(self) -> None:
        """Nothing is held."""


def resolve_tdp(config: PowerConfig) -> tuple[float | None, str]:
    """The TDP to use and where it came from, or (None, why not)."""
    if config.cpu_tdp_watts is not None:
        return config.cpu_tdp_watts, "configured"
    model = config.cpu_model_name or read_cpu_model_name()
    if not model:
        return None, "the OS does not report the CPU model"
    watts = lookup_tdp_watts(model)
    if watts is None:
        return None, f"CPU {model!r} is not in the built-in TDP table"
    return watts, f"built-in table for {model}"


def discover_estimate(
    config: PowerConfig,
    cpu_measured_by: list[str],
    cpu_times: CpuTimesReader | None = None,
) -> tuple[list[PowerSensor], SensorFamilyStatus]:
    """The CPU estimate when it is allowed, possible and not already covered by a measurement."""
    if not config.allow_estimates:
        return [], SensorFamilyStatus(
            family=FAMILY,
            state="disabled",
            reason="estimates turned off: unmeasured hardware is reported as not measured",
        )
    if cpu_measured_by:
        return [], SensorFamilyStatus(
            family=FAMILY,
            state="superseded",
            reason=f"the CPU is measured by {', '.join(cpu_measured_by)}; nothing is estimated",
        )
    tdp_watts, tdp_source = resolve_tdp(config)
    if tdp_watts is None:
        return [], _unavailable(f"{tdp_source}; set cpu_tdp_watts to enable the estimate")
    try:
        sensor = CpuTdpEstimateSensor(tdp_watts, tdp_source, cpu_times or psutil_cpu_times)
    except ImportError:
        return [], _unavailable("psutil is not installed")
    except (OSError, ValueError) as exc:
        return [], _unavailable(str(exc))
    return [sensor], SensorFamilyStatus(
        family=FAMILY,
        state="live",
        reason="no measured sensor covers the CPU, so its energy is estimated",
        sensors=[sensor.describe()],
    )


def _unavailable(reason: str) -> SensorFamilyStatus:
    return SensorFamilyStatus(family=FAMILY, state="unavailable", reason=f"estimate: {reason}")
