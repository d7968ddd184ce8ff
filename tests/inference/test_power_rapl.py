"""RAPL read from fabricated powercap trees shaped like /sys/class/powercap."""

import errno
from pathlib import Path

import pytest

from inference.power.rapl import RaplSensor, discover_rapl, read_sysfs_text
from inference.power.sensor import SensorReadError

# A real Intel client value: the counter wraps a little above 262 kJ.
TYPICAL_RANGE_UJ = 262_143_328_850


def make_zone(
    root: Path,
    directory: str,
    name: str,
    energy_uj: int = 0,
    max_range_uj: int = TYPICAL_RANGE_UJ,
) -> Path:
    zone = root / directory
    zone.mkdir(parents=True)
    (zone / "name").write_text(f"{name}\n")
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    return zone


def set_energy(zone: Path, energy_uj: int) -> None:
    (zone / "energy_uj").write_text(f"{energy_uj}\n")


@pytest.fixture
def powercap(tmp_path: Path) -> Path:
    root = tmp_path / "powercap"
    # The control-type directory sits beside the zones and has no counter of its own.
    (root / "intel-rapl").mkdir(parents=True)
    return root


def test_package_energy_is_the_counter_difference_in_joules(powercap):
    package = make_zone(powercap, "intel-rapl:0", "package-0", energy_uj=10_000_000)
    sensors, status = discover_rapl(powercap)
    [sensor] = sensors

    before = sensor.read_energy_j()
    set_energy(package, 12_500_000)
    after = sensor.read_energy_j()

    assert status.state == "live"
    assert sensor.name == "rapl:package-0"
    assert (sensor.scope, sensor.kind) == ("cpu-package", "measured")
    assert after - before == pytest.approx(2.5)


def test_wraparound_adds_max_energy_range(powercap):
    package = make_zone(
        powercap, "intel-rapl:0", "package-0", energy_uj=999_000_000, max_range_uj=1_000_000_000
    )
    [sensor], _ = discover_rapl(powercap)
    before = sensor.read_energy_j()

    set_energy(package, 500_000)  # passed the top of the range and started again
    after_wrap = sensor.read_energy_j()
    set_energy(package, 2_500_000)
    later = sensor.read_energy_j()

    assert after_wrap - before == pytest.approx(1.5)
    assert later - after_wrap == pytest.approx(2.0)


def test_nested_domains_are_never_added_to_their_package(powercap):
    package = make_zone(powercap, "intel-rapl:0", "package-0", energy_uj=0)
    core = make_zone(powercap, "intel-rapl:0:0", "core", energy_uj=0)
    make_zone(powercap, "intel-rapl:0:1", "uncore", energy_uj=0)
    dram = make_zone(powercap, "intel-rapl:0:2", "dram", energy_uj=0)
    sensors, _ = discover_rapl(powercap)
    before = sum(sensor.read_energy_j() for sensor in sensors)

    set_energy(package, 10_000_000)
    set_energy(core, 7_000_000)  # part of the package's 10 J
    set_energy(dram, 2_000_000)
    after = sum(sensor.read_energy_j() for sensor in sensors)

    assert [sensor.name for sensor in sensors] == ["rapl:package-0"]
    assert after - before == pytest.approx(10.0)


def test_every_socket_package_is_read(powercap):
    make_zone(powercap, "intel-rapl:0", "package-0")
    make_zone(powercap, "intel-rapl:0:0", "dram")
    make_zone(powercap, "intel-rapl:1", "package-1")
    make_zone(powercap, "intel-rapl:1:0", "dram")

    sensors, status = discover_rapl(powercap)

    assert [sensor.name for sensor in sensors] == ["rapl:package-0", "rapl:package-1"]
    assert len(status.sensors) == 2


def test_psys_is_preferred_and_packages_are_then_not_added(powercap):
    package = make_zone(powercap, "intel-rapl:0", "package-0", energy_uj=0)
    make_zone(powercap, "intel-rapl:0:0", "core", energy_uj=0)
    psys = make_zone(powercap, "intel-rapl:1", "psys", energy_uj=0)
    sensors, status = discover_rapl(powercap)
    [sensor] = sensors
    before = sensor.read_energy_j()

    set_energy(package, 6_000_000)
    set_energy(psys, 15_000_000)
    after = sensor.read_energy_j()

    assert sensor.name == "rapl:psys"
    assert sensor.scope == "system"
    assert after - before == pytest.approx(15.0)
    assert "psys" in status.reason


def test_mmio_copy_of_a_package_is_not_read_twice(powercap):
    make_zone(powercap, "intel-rapl:0", "package-0")
    make_zone(powercap, "intel-rapl-mmio:0", "package-0")

    [sensor], _ = discover_rapl(powercap)

    assert isinstance(sensor, RaplSensor)
    assert sensor.zone.path.name == "intel-rapl:0"


def test_amd_rapl_spelling_is_accepted(powercap):
    make_zone(powercap, "amd-rapl:0", "package-0")

    sensors, status = discover_rapl(powercap)

    assert status.state == "live"
    assert [sensor.name for sensor in sensors] == ["rapl:package-0"]


def test_permission_denied_makes_rapl_unavailable_with_the_fix(powercap):
    make_zone(powercap, "intel-rapl:0", "package-0")

    def root_only_energy(path: Path) -> str:
        # What the kernel answers a non-root reader of energy_uj since Linux 5.10. Tests run as
        # root, where chmod denies nothing, so the refusal is injected at the read boundary.
        if path.name == "energy_uj":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_sysfs_text(path)

    sensors, status = discover_rapl(powercap, read_text=root_only_energy)

    assert sensors == []
    assert status.state == "unavailable"
    assert "permission denied" in status.reason
    assert "intel-rapl:0/energy_uj" in status.reason
    assert "5.10" in status.reason
    assert "estimate" in status.reason


def test_partial_permission_is_refused_rather_than_undercounting(powercap):
    make_zone(powercap, "intel-rapl:0", "package-0")
    make_zone(powercap, "intel-rapl:1", "package-1")

    def second_socket_denied(path: Path) -> str:
        if path.parent.name == "intel-rapl:1" and path.name == "energy_uj":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_sysfs_text(path)

    sensors, status = discover_rapl(powercap, read_text=second_socket_denied)

    assert sensors == []
    assert status.state == "unavailable"
    assert "intel-rapl:1/energy_uj" in status.reason


def test_unreadable_counter_file_is_reported_not_raised(powercap):
    zone = make_zone(powercap, "intel-rapl:0", "package-0")
    (zone / "energy_uj").unlink()
    (zone / "energy_uj").mkdir()  # a directory where the counter file should be

    sensors, status = discover_rapl(powercap)

    assert sensors == []
    assert status.state == "unavailable"
    assert "energy_uj" in status.reason


def test_missing_powercap_says_so(tmp_path):
    sensors, status = discover_rapl(tmp_path / "no-such-powercap")

    assert sensors == []
    assert status.state == "unavailable"
    assert "not present" in status.reason
    assert "VM" in status.reason


def test_powercap_without_rapl_zones_says_so(powercap):
    (powercap / "dtpm").mkdir()

    sensors, status = discover_rapl(powercap)

    assert sensors == []
    assert status.state == "unavailable"
    assert "no RAPL zones" in status.reason


def test_a_counter_that_vanishes_mid_run_raises_read_error(powercap):
    zone = make_zone(powercap, "intel-rapl:0", "package-0")
    [sensor], _ = discover_rapl(powercap)

    (zone / "energy_uj").unlink()

    with pytest.raises(SensorReadError, match="rapl:package-0"):
        sensor.read_energy_j()
