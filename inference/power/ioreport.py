"""Apple silicon SoC energy from IOReport's "Energy Model" channel group, without sudo.

IOReport is a private macOS library (what Activity Monitor, powermetrics and macmon read).
Subscribing to the "Energy Model" group and taking the difference of two samples gives, per
channel, the energy spent between them as an integer in the unit named by the channel's unit
label (mJ, uJ or nJ; the GPU channel is usually nJ while CPU channels are mJ).

This module holds the platform-independent part: which channels are added up and how units
convert. The ctypes calls live in `inference.power._ioreport_ctypes` and are only made on
macOS, so importing this module is safe anywhere; what both share (a channel reading, the
group's name, the unavailable error) is in `ioreport_channels`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from inference.power.ioreport_channels import (
    ENERGY_MODEL_GROUP,
    ChannelReading,
    IOReportUnavailable,
)
from inference.power.sensor import PowerSensor, SensorFamilyStatus, SensorReadError

FAMILY = "IOReport"

# Tools reading these counters see them move in batches of roughly one to two seconds, so a
# phase shorter than that cannot be resolved; Apple documents no rate.
_ENERGY_MODEL_UPDATE_S = 1.0

_JOULES_PER_UNIT = {"mJ": 1e-3, "uJ": 1e-6, "µJ": 1e-6, "nJ": 1e-9}


class UnknownEnergyUnit(ValueError):
    """A channel's unit label is not an energy unit this module knows."""


def channel_energy_joules(value: int, unit: str) -> float:
    """Convert a channel's integer value to joules using its unit label."""
    scale = _JOULES_PER_UNIT.get(unit.strip())
    if scale is None:
        raise UnknownEnergyUnit(f"unknown energy unit {unit!r}")
    return value * scale


def soc_component(channel: str) -> str | None:
    """The SoC component a top-level Energy Model channel measures, or None to leave it out.

    Per-core channels (ECPU0, PCPU3, ...) are parts of "CPU Energy" and would count the CPU
    twice; display, media and camera blocks are not part of running a model. Ultra chips report
    one "DIE_<n>_CPU Energy" per die and numbered ANE/DRAM channels, which all add up.
    """
    if channel == "GPU Energy":
        return "gpu"
    if channel.endswith("CPU Energy"):
        return "cpu"
    if channel.startswith("ANE"):
        return "ane"
    if channel.startswith("DRAM"):
        return "dram"
    if channel.startswith("GPU SRAM"):
        return "gpu-sram"
    return None


@dataclass(frozen=True)
class SocEnergy:
    """Energy of one sample interval, by SoC component, with channels that were not counted."""

    joules_by_component: dict[str, float] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()

    @property
    def joules(self) -> float:
        return sum(self.joules_by_component.values())


def sum_soc_energy(readings: Iterable[ChannelReading]) -> SocEnergy:
    """Add up the CPU, GPU, ANE, DRAM and GPU SRAM channels of a delta sample."""
    by_component: dict[str, float] = {}
    skipped: list[str] = []
    for reading in readings:
        if reading.group != ENERGY_MODEL_GROUP:
            continue
        component = soc_component(reading.channel)
        if component is None:
            continue
        try:
            joules = channel_energy_joules(reading.value, reading.unit)
        except UnknownEnergyUnit:
            skipped.append(f"{reading.channel} ({reading.unit!r})")
            continue
        # A counter that went backwards was reset (sleep/wake); that interval is lost, not
        # negative.
        by_component[component] = by_component.get(component, 0.0) + max(joules, 0.0)
    return SocEnergy(joules_by_component=by_component, skipped=tuple(skipped))


class EnergyModelSource(Protocol):
    """Something that yields Energy Model channel deltas; the ctypes subscription in practice."""

    def delta_since_last(self) -> list[ChannelReading]:
        """Channels' energy since the previous call (or since the subscription was made)."""
        ...

    def close(self) -> None: ...


class IOReportSensor(PowerSensor):
    """Cumulative SoC energy: the running sum of Energy Model deltas."""

    name = "ioreport"
    scope = "soc"
    kind = "measured"
    update_interval_s = _ENERGY_MODEL_UPDATE_S
    method = "IOReport Energy Model channels: CPU + GPU + ANE + DRAM + GPU SRAM"

    def __init__(self, source: EnergyModelSource):
        self._source = source
        self._total_j = 0.0
        self.last_interval = SocEnergy()
        self._closed = False

    def read_energy_j(self) -> float:
        try:
            readings = self._source.delta_since_last()
        except (OSError, RuntimeError) as exc:
            raise SensorReadError(f"{self.name}: {exc}") from exc
        self.last_interval = sum_soc_energy(readings)
        self._total_j += self.last_interval.joules
        return self._total_j

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._source.close()


def _open_ctypes_source() -> EnergyModelSource:
    from inference.power._ioreport_ctypes import IOReportEnergyModel

    return IOReportEnergyModel()


def discover_ioreport(
    platform: str = sys.platform,
    open_source: Callable[[], EnergyModelSource] = _open_ctypes_source,
) -> tuple[list[PowerSensor], SensorFamilyStatus]:
    """Subscribe to the Energy Model channels, or say why that is impossible here."""
    if platform != "darwin":
        return [], _unavailable("macOS only")
    try:
        source = open_source()
    except (OSError, AttributeError, IOReportUnavailable) as exc:
        # OSError: library missing; AttributeError: a symbol gone in a new macOS release.
        return [], _unavailable(str(exc))
    sensor = IOReportSensor(source)
    try:
        sensor.read_energy_j()
    except SensorReadError as exc:
        sensor.close()
        return [], _unavailable(str(exc))
    if not sensor.last_interval.joules_by_component:
        sensor.close()
        return [], _unavailable("no CPU/GPU energy channels (Energy Model needs Apple silicon)")
    return [sensor], SensorFamilyStatus(
        family=FAMILY,
        state="live",
        reason="summing Energy Model channels; whole-system power (SMC PSTR) is not read",
        sensors=[sensor.describe()],
    )


def _unavailable(reason: str) -> SensorFamilyStatus:
    return SensorFamilyStatus(family=FAMILY, state="unavailable", reason=f"IOReport: {reason}")
