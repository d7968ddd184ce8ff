"""Linux RAPL energy counters read through the powercap sysfs tree.

Layout (flat symlinks under /sys/class/powercap):
    intel-rapl:0        name=package-0   top-level package domain
    intel-rapl:0:0      name=core        nested inside package-0
    intel-rapl:0:2      name=dram        nested inside package-0 (servers)
    intel-rapl:1        name=psys        top-level platform domain (many laptops)
    intel-rapl-mmio:0   name=package-0   the same package again, through MMIO

Nested zones are parts of their parent, so only top-level zones are ever opened. When a psys
zone exists it already contains the packages, so it is used alone. The MMIO interface repeats
the MSR package domain, so a package is opened through one of them only. AMD CPUs appear as
intel-rapl zones on current kernels; an amd-rapl spelling is accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference.power.sensor import PowerSensor, Scope, SensorFamilyStatus, SensorReadError

FAMILY = "RAPL"

TextReader = Callable[[Path], str]

_TOP_LEVEL_ZONE = re.compile(r"^(?P<driver>[a-z]+-rapl(?P<mmio>-mmio)?):(?P<index>\d+)$")

# Intel documents the energy status MSRs as updated about every millisecond.
_RAPL_UPDATE_INTERVAL_S = 0.001

PERMISSION_HINT = (
    "energy_uj is readable by root only since Linux 5.10 (a mitigation for the PLATYPUS power "
    "side channel); grant read access with `sudo chmod a+r {root}/*/energy_uj` (lasts until "
    "reboot; see docs/POWER.md for a boot-time rule) or use the CPU estimate"
)


def read_sysfs_text(path: Path) -> str:
    return path.read_text(encoding="ascii").strip()


@dataclass(frozen=True)
class RaplZone:
    """A top-level powercap zone: its directory, driver spelling and domain name."""

    path: Path
    driver: str
    domain: str
    via_mmio: bool
    max_energy_range_uj: int

    @property
    def energy_file(self) -> Path:
        return self.path / "energy_uj"


class RaplSensor(PowerSensor):
    """One RAPL domain's energy_uj counter, with wraparound folded into a running total."""

    kind = "measured"
    update_interval_s = _RAPL_UPDATE_INTERVAL_S

    def __init__(self, zone: RaplZone, scope: Scope, read_text: TextReader = read_sysfs_text):
        self.zone = zone
        self.name = f"rapl:{zone.domain}"
        self.scope = scope
        self.method = (
            f"RAPL energy counter {zone.path.name}/energy_uj (µJ, wraps at "
            f"{zone.max_energy_range_uj} µJ)"
        )
        self._read_text = read_text
        # The first read happens here so that a permission problem surfaces at discovery,
        # not in the middle of someone's chat turn.
        self._last_raw_uj = self._read_raw_uj()
        self._total_uj = 0

    def _read_raw_uj(self) -> int:
        return int(self._read_text(self.zone.energy_file))

    def read_energy_j(self) -> float:
        try:
            raw_uj = self._read_raw_uj()
        except (OSError, ValueError) as exc:
            message = f"{self.name}: cannot read {self.zone.energy_file}: {exc}"
            raise SensorReadError(message) from exc
        delta_uj = raw_uj - self._last_raw_uj
        if delta_uj < 0:
            # The counter passed max_energy_range_uj and restarted from zero. A read at least
            # once per wrap period (minutes to hours, depending on the chip) keeps this exact.
            delta_uj += self.zone.max_energy_range_uj
        self._last_raw_uj = raw_uj
        self._total_uj += delta_uj
        return self._total_uj / 1e6

    def close(self) -> None:
        """Nothing is held open between reads."""


def find_top_level_zones(
    root: Path, read_text: TextReader = read_sysfs_text
) -> tuple[list[RaplZone], list[str]]:
    """Top-level RAPL zones under root, and a note for each zone that could not be described."""
    zones: list[RaplZone] = []
    problems: list[str] = []
    for entry in sorted(root.iterdir(), key=lambda path: path.name):
        match = _TOP_LEVEL_ZONE.match(entry.name)
        if match is None:
            continue
        try:
            domain = read_text(entry / "name")
            max_range = int(read_text(entry / "max_energy_range_uj"))
        except (OSError, ValueError) as exc:
            problems.append(f"{entry.name}: {exc}")
            continue
        zones.append(
            RaplZone(
                path=entry,
                driver=match["driver"],
                domain=domain,
                via_mmio=match["mmio"] is not None,
                max_energy_range_uj=max_range,
            )
        )
    return zones, problems


def choose_zones(zones: list[RaplZone]) -> tuple[list[RaplZone], Scope]:
    """The zones whose energies can be added without counting anything twice."""
    platform = [zone for zone in zones if zone.domain == "psys"]
    if platform:
        return _one_per_domain(platform), "system"
    packages = [zone for zone in zones if zone.domain.startswith("package")]
    return _one_per_domain(packages), "cpu-package"


def _one_per_domain(zones: list[RaplZone]) -> list[RaplZone]:
    # The MSR interface is preferred over MMIO: it is the one every RAPL tool reads.
    chosen: dict[str, RaplZone] = {}
    for zone in sorted(zones, key=lambda zone: zone.via_mmio):
        chosen.setdefault(zone.domain, zone)
    return sorted(chosen.values(), key=lambda zone: zone.path.name)


def discover_rapl(
    root: Path, read_text: TextReader = read_sysfs_text
) -> tuple[list[PowerSensor], SensorFamilyStatus]:
    """Open the non-overlapping RAPL domains under root, or say why none could be opened."""
    if not root.is_dir():
        return [], _unavailable(f"{root} not present (common on VMs and on non-Linux systems)")
    try:
        zones, problems = find_top_level_zones(root, read_text)
    except OSError as exc:
        return [], _unavailable(f"cannot list {root}: {exc}")
    if not zones:
        detail = f" ({'; '.join(problems)})" if problems else ""
        return [], _unavailable(
            f"no RAPL zones under {root}{detail}: the CPU, the hypervisor or the kernel "
            "(intel_rapl_msr / intel_rapl_common modules) does not expose them"
        )
    chosen, scope = choose_zones(zones)
    if not chosen:
        names = ", ".join(sorted({zone.domain for zone in zones}))
        return [], _unavailable(f"RAPL zones present ({names}) but none is a package or psys")

    sensors: list[PowerSensor] = []
    denied: list[Path] = []
    failures: list[str] = []
    for zone in chosen:
        try:
            sensors.append(RaplSensor(zone, scope, read_text))
        except PermissionError:
            denied.append(zone.energy_file)
        except (OSError, ValueError) as exc:
            failures.append(f"{zone.energy_file}: {exc}")

    if denied and not sensors:
        return [], _unavailable(
            f"permission denied reading {denied[0]}; " + PERMISSION_HINT.format(root=root)
        )
    if failures or denied:
        # Reading only some sockets would silently under-count the machine: all or none.
        for sensor in sensors:
            sensor.close()
        unreadable = [str(path) for path in denied] + failures
        return [], _unavailable(f"cannot read every chosen domain ({'; '.join(unreadable)})")
    kept = "psys (whole platform; packages not added again)" if scope == "system" else "packages"
    return sensors, SensorFamilyStatus(
        family=FAMILY,
        state="live",
        reason=f"reading top-level {kept}; nested core/uncore/dram zones are never added",
        sensors=[sensor.describe() for sensor in sensors],
    )


def _unavailable(reason: str) -> SensorFamilyStatus:
    return SensorFamilyStatus(family=FAMILY, state="unavailable", reason=f"RAPL: {reason}")
