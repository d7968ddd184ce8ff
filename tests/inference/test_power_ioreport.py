"""The platform-independent half of the IOReport sensor, fed channel deltas shaped like the
ones IOReportCreateSamplesDelta returns on Apple silicon: group "Energy Model", per-channel
integer values, and a unit label per channel (CPU channels in mJ, the GPU in nJ)."""

import sys

import pytest

from inference.power.ioreport import (
    ChannelReading,
    IOReportSensor,
    UnknownEnergyUnit,
    channel_energy_joules,
    discover_ioreport,
    soc_component,
    sum_soc_energy,
)
from inference.power.sensor import SensorReadError


def energy(channel: str, value: int, unit: str = "mJ") -> ChannelReading:
    return ChannelReading(
        group="Energy Model", subgroup="", channel=channel, unit=unit, value=value
    )


# One second of an M2 under load: per-core channels add up to "CPU Energy" and must not be
# counted again; display and media blocks are not part of the model's work.
M2_DELTA = [
    energy("ECPU0", 40),
    energy("ECPU1", 35),
    energy("PCPU0", 900),
    energy("PCPU1", 880),
    energy("CPU Energy", 1_855),
    energy("GPU Energy", 6_200_000_000, unit="nJ"),
    energy("GPU SRAM0", 120),
    energy("ANE", 0),
    energy("DRAM", 410),
    energy("DISP", 1_300),
    energy("AVE0", 15),
    ChannelReading("CPU Stats", "CPU Core Performance States", "PCPU0", "", 123_456),
]


@pytest.mark.parametrize(
    ("value", "unit", "joules"),
    [
        (1_500, "mJ", 1.5),
        (1_500_000, "uJ", 1.5),
        (1_500_000, "µJ", 1.5),
        (1_500_000_000, "nJ", 1.5),
        (1_500, " mJ ", 1.5),  # unit labels come back padded on some releases
    ],
)
def test_channel_units_convert_to_joules(value, unit, joules):
    assert channel_energy_joules(value, unit) == pytest.approx(joules)


def test_unknown_unit_is_refused_not_guessed():
    with pytest.raises(UnknownEnergyUnit):
        channel_energy_joules(1_000, "W")


@pytest.mark.parametrize(
    ("channel", "component"),
    [
        ("CPU Energy", "cpu"),
        ("DIE_1_CPU Energy", "cpu"),
        ("GPU Energy", "gpu"),
        ("ANE", "ane"),
        ("ANE0_1", "ane"),
        ("DRAM0", "dram"),
        ("GPU SRAM0", "gpu-sram"),
        ("ECPU0", None),
        ("PCPU3", None),
        ("DISP", None),
        ("ISP", None),
    ],
)
def test_component_of_each_channel(channel, component):
    assert soc_component(channel) == component


def test_soc_energy_sums_components_once_each():
    result = sum_soc_energy(M2_DELTA)

    assert result.joules_by_component == pytest.approx(
        {"cpu": 1.855, "gpu": 6.2, "gpu-sram": 0.12, "ane": 0.0, "dram": 0.41}
    )
    assert result.joules == pytest.approx(1.855 + 6.2 + 0.12 + 0.41)
    assert result.skipped == ()


def test_ultra_dies_and_numbered_engines_add_up():
    delta = [
        energy("DIE_0_CPU Energy", 2_000),
        energy("DIE_1_CPU Energy", 1_000),
        energy("ANE0_0", 100),
        energy("ANE0_1", 50),
        energy("GPU Energy", 10_000_000, unit="uJ"),
    ]

    result = sum_soc_energy(delta)

    assert result.joules_by_component == pytest.approx({"cpu": 3.0, "ane": 0.15, "gpu": 10.0})


def test_channel_with_unknown_unit_is_skipped_and_named():
    result = sum_soc_energy([energy("CPU Energy", 1_000), energy("GPU Energy", 5, unit="pJ")])

    assert result.joules == pytest.approx(1.0)
    assert result.skipped == ("GPU Energy ('pJ')",)


class ScriptedSource:
    """Returns prepared deltas in order, as the ctypes subscription would."""

    def __init__(self, deltas: list[list[ChannelReading]]):
        self.deltas = list(deltas)
        self.closed = False

    def delta_since_last(self) -> list[ChannelReading]:
        if not self.deltas:
            raise SensorReadError("IOReportCreateSamples returned nothing")
        return self.deltas.pop(0)

    def close(self) -> None:
        self.closed = True


def test_sensor_accumulates_deltas_into_a_monotonic_counter():
    source = ScriptedSource(
        [
            [energy("CPU Energy", 1_000)],
            [energy("CPU Energy", 500), energy("GPU Energy", 2_000_000_000, unit="nJ")],
            [energy("CPU Energy", -7)],  # a counter reset across sleep must not subtract
        ]
    )
    sensor = IOReportSensor(source)

    readings = [sensor.read_energy_j() for _ in range(3)]

    assert readings == pytest.approx([1.0, 3.5, 3.5])
    assert (sensor.scope, sensor.kind) == ("soc", "measured")


def test_sensor_read_failure_is_a_read_error():
    sensor = IOReportSensor(ScriptedSource([]))

    with pytest.raises(SensorReadError):
        sensor.read_energy_j()


def test_only_macos_is_tried():
    sensors, status = discover_ioreport(platform="linux")

    assert sensors == []
    assert status.reason == "IOReport: macOS only"


def test_real_ctypes_boundary_fails_cleanly_off_macos():
    if sys.platform == "darwin":
        pytest.skip("on macOS the real library loads")

    # Pretending to be macOS makes discovery load libIOReport through ctypes, which is absent.
    sensors, status = discover_ioreport(platform="darwin")

    assert sensors == []
    assert status.state == "unavailable"
    assert status.reason.startswith("IOReport: ")


def test_intel_mac_without_energy_channels_is_unavailable():
    source = ScriptedSource([[energy("DISP", 100)]])

    sensors, status = discover_ioreport(platform="darwin", open_source=lambda: source)

    assert sensors == []
    assert "Apple silicon" in status.reason
    assert source.closed


def test_apple_silicon_subscription_is_live():
    source = ScriptedSource([M2_DELTA, M2_DELTA])

    sensors, status = discover_ioreport(platform="darwin", open_source=lambda: source)

    assert status.state == "live"
    assert [sensor.name for sensor in sensors] == ["ioreport"]
    assert "PSTR" in status.reason  # says that whole-system power is not read
