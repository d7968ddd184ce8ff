"""Which power sensors this machine has, for the meters and for `stillroom doctor`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inference.power import estimate, ioreport, nvml, rapl
from inference.power.config import PowerConfig
from inference.power.sensor import PowerSensor, SensorFamilyStatus

_CPU_COVERING_SCOPES = ("cpu-package", "soc", "system")

FamilyProbe = Callable[[], tuple[list[PowerSensor], SensorFamilyStatus]]


@dataclass
class SensorProbe:
    """Open sensors (the caller closes them) and one status line per sensor family."""

    sensors: list[PowerSensor]
    statuses: list[SensorFamilyStatus]

    def close(self) -> None:
        for sensor in self.sensors:
            sensor.close()


def probe_sensors(
    config: PowerConfig | None = None, background_polling: bool = True
) -> SensorProbe:
    """Try every sensor family in a fixed order: NVML, RAPL, IOReport, then the estimate."""
    config = config or PowerConfig()
    families: list[tuple[str, bool, FamilyProbe]] = [
        (
            nvml.FAMILY,
            config.enable_nvml,
            lambda: nvml.discover_nvml(config.nvml_power_poll_interval_s, background_polling),
        ),
        (rapl.FAMILY, config.enable_rapl, lambda: rapl.discover_rapl(config.powercap_root)),
        (ioreport.FAMILY, config.enable_ioreport, ioreport.discover_ioreport),
    ]
    sensors: list[PowerSensor] = []
    statuses: list[SensorFamilyStatus] = []
    for family, enabled, discover in families:
        if not enabled:
            statuses.append(
                SensorFamilyStatus(family=family, state="disabled", reason="turned off in settings")
            )
            continue
        found, status = _guarded(family, discover)
        sensors.extend(found)
        statuses.append(status)

    cpu_measured_by = [
        sensor.name
        for sensor in sensors
        if sensor.kind == "measured" and sensor.scope in _CPU_COVERING_SCOPES
    ]
    found, status = _guarded(
        estimate.FAMILY, lambda: estimate.discover_estimate(config, cpu_measured_by)
    )
    sensors.extend(found)
    statuses.append(status)
    return SensorProbe(sensors=sensors, statuses=statuses)


def _guarded(family: str, discover: FamilyProbe) -> tuple[list[PowerSensor], SensorFamilyStatus]:
    try:
        return discover()
    except Exception as exc:
        # A driver failing in a way nobody foresaw must not hide the other families from
        # `doctor` or stop the app from starting: report it and measure without that family.
        return [], SensorFamilyStatus(
            family=family,
            state="unavailable",
            reason=f"{family}: unexpected {type(exc).__name__}: {exc}",
        )


def discover_sensors(config: PowerConfig | None = None) -> list[PowerSensor]:
    """Open every usable sensor; energies of the returned sensors never overlap except that a
    "system" sensor includes the others (EnergyWindow then totals the system figure only)."""
    return probe_sensors(config).sensors


def describe_sensors(config: PowerConfig | None = None) -> list[SensorFamilyStatus]:
    """Each sensor family's state on this machine, with a human reason; opens nothing lasting."""
    probe = probe_sensors(config, background_polling=False)
    probe.close()
    return probe.statuses
