"""EnergyWindow arithmetic on fake counter sensors driven by a fake clock."""

import json

import pytest

from inference.power.sensor import PowerSensor, SensorReadError
from inference.power.window import EnergyWindow, IdleBaseline, measure_idle_baseline


class FakeCounter(PowerSensor):
    def __init__(
        self,
        name: str,
        scope: str = "gpu-board",
        kind: str = "measured",
        update_interval_s: float = 0.001,
    ):
        self.name = name
        self.scope = scope
        self.kind = kind
        self.update_interval_s = update_interval_s
        self.method = f"fake counter {name}"
        self.joules = 1_000.0  # counters do not start at zero
        self.failing = False

    def read_energy_j(self) -> float:
        if self.failing:
            raise SensorReadError(f"{self.name}: unplugged")
        return self.joules

    def close(self) -> None:
        pass


class FakeMachine:
    """A clock, and sensors that accumulate energy at a chosen power while time passes.

    run() takes watts keyed by the part of a sensor name before ":" (nvml=, rapl=, ...).
    """

    def __init__(self, *sensors: FakeCounter, idle_watts: dict[str, float] | None = None):
        self.sensors = {sensor.name: sensor for sensor in sensors}
        self.idle_watts = idle_watts or {}
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def run(self, seconds: float, **watts: float) -> None:
        self.now += seconds
        for name, sensor in self.sensors.items():
            sensor.joules += watts.get(name.split(":")[0], 0.0) * seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        for name, sensor in self.sensors.items():
            sensor.joules += self.idle_watts.get(name, 0.0) * seconds

    def window(self, **options) -> EnergyWindow:
        return EnergyWindow(
            list(self.sensors.values()), clock=self.clock, sleep=self.sleep, **options
        )


def test_prefill_decode_and_per_token_figures_net_of_idle():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu, idle_watts={"gpu": 20.0})
    window = machine.window(idle_baseline_s=0.5)

    window.start()
    machine.run(2.0, gpu=220.0)
    window.mark_first_token()
    machine.run(4.0, gpu=120.0)
    report = window.stop(prompt_tokens=100, generated_tokens=50)

    assert machine.sleeps == [0.5]
    assert report.duration_s == pytest.approx(6.0)
    assert (report.prefill_s, report.decode_s) == pytest.approx((2.0, 4.0))
    assert report.prefill_joules == pytest.approx(440.0 - 40.0)
    assert report.decode_joules == pytest.approx(480.0 - 80.0)
    assert report.total_joules == pytest.approx(800.0)
    assert report.average_watts == pytest.approx(800.0 / 6.0)
    assert report.prefill_joules_per_token == pytest.approx(4.0)
    assert report.decode_joules_per_token == pytest.approx(8.0)
    assert report.joules_per_token == pytest.approx(16.0)
    assert report.total_kind == "measured"
    [figure] = report.sensors
    assert figure.gross_joules == pytest.approx(920.0)
    assert figure.baseline_watts == pytest.approx(20.0)
    assert "20.00 W" in report.baseline
    assert "subtracted" in report.baseline
    assert report.sources == ["gpu [gpu-board, measured]: fake counter gpu"]


def test_without_a_baseline_the_figures_are_gross_and_say_so():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu, idle_watts={"gpu": 20.0})
    window = machine.window(idle_baseline_s=0)

    window.start()
    machine.run(3.0, gpu=100.0)
    report = window.stop(prompt_tokens=10, generated_tokens=30)

    assert machine.sleeps == []
    assert report.total_joules == pytest.approx(300.0)
    assert report.baseline == "no idle baseline subtracted: figures are gross energy"
    assert report.prefill_joules is None
    assert any("no first token" in note for note in report.notes)


def test_a_cached_baseline_is_used_without_sampling_again():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu)
    cached = IdleBaseline(seconds=5.0, watts_by_sensor={"gpu": 30.0})
    window = machine.window(baseline=cached)

    window.start()
    machine.run(2.0, gpu=80.0)
    report = window.stop(generated_tokens=4)

    assert machine.sleeps == []
    assert report.total_joules == pytest.approx(160.0 - 60.0)
    assert "5.00 s" in report.baseline


def test_split_is_withheld_when_a_phase_is_shorter_than_the_sensor_resolves():
    soc = FakeCounter("ioreport", scope="soc", update_interval_s=1.0)
    machine = FakeMachine(soc)
    window = machine.window(idle_baseline_s=0, min_updates_per_phase=10)

    window.start()
    machine.run(0.3, ioreport=30.0)
    window.mark_first_token()
    machine.run(20.0, ioreport=15.0)
    report = window.stop(prompt_tokens=12, generated_tokens=200)

    [figure] = report.sensors
    assert report.total_joules == pytest.approx(9.0 + 300.0)
    assert figure.prefill_joules is None
    assert report.prefill_joules is None
    assert report.decode_joules_per_token is None
    assert "prefill lasted 0.300 s" in figure.note
    assert "~1 s each" in figure.note
    assert any("not every sensor resolves it" in note for note in report.notes)


def test_measured_and_estimated_sensors_add_up_and_say_partly_estimated():
    gpu = FakeCounter("nvml:0 Fake GPU")
    cpu = FakeCounter("estimate:cpu-tdp", scope="cpu-package", kind="estimated")
    machine = FakeMachine(gpu, cpu)
    window = machine.window(idle_baseline_s=0)

    window.start()
    machine.run(1.0, nvml=300.0, estimate=40.0)
    report = window.stop(generated_tokens=10)

    assert report.total_joules == pytest.approx(340.0)
    assert report.total_kind == "partly estimated"
    assert len(report.sources) == 2


def test_only_estimates_is_reported_as_estimated():
    cpu = FakeCounter("estimate:cpu-tdp", scope="cpu-package", kind="estimated")
    machine = FakeMachine(cpu)
    window = machine.window(idle_baseline_s=0)

    window.start()
    machine.run(1.0, estimate=40.0)

    assert window.stop(generated_tokens=1).total_kind == "estimated"


def test_a_system_meter_is_the_total_and_components_are_not_added_to_it():
    psys = FakeCounter("rapl:psys", scope="system")
    gpu = FakeCounter("nvml:0 Fake GPU")
    machine = FakeMachine(psys, gpu)
    window = machine.window(idle_baseline_s=0)

    window.start()
    machine.run(1.0, rapl=90.0, nvml=50.0)
    report = window.stop(generated_tokens=9)

    assert report.total_joules == pytest.approx(90.0)
    assert any("nvml:0 Fake GPU shown but not added" in note for note in report.notes)
    assert {figure.sensor for figure in report.sensors} == {"rapl:psys", "nvml:0 Fake GPU"}


def test_nothing_to_read_is_not_measured_rather_than_zero():
    window = EnergyWindow([], idle_baseline_s=0.5)

    window.start()
    report = window.stop(prompt_tokens=5, generated_tokens=5)

    assert report.total_kind == "not measured"
    assert report.total_joules is None
    assert report.joules_per_token is None
    assert report.baseline == "not measured"
    assert json.loads(report.to_json())["total_joules"] is None


def test_a_sensor_failing_mid_window_is_reported_and_the_rest_still_count():
    gpu = FakeCounter("nvml:0 Fake GPU")
    cpu = FakeCounter("rapl:package-0", scope="cpu-package")
    machine = FakeMachine(gpu, cpu)
    window = machine.window(idle_baseline_s=0)

    window.start()
    machine.run(1.0, nvml=200.0, rapl=30.0)
    gpu.failing = True
    report = window.stop(generated_tokens=3)

    assert report.total_joules == pytest.approx(30.0)
    [failed] = [figure for figure in report.sensors if figure.error]
    assert failed.sensor == "nvml:0 Fake GPU"
    assert "unplugged" in failed.error
    assert any("unplugged" in note for note in report.notes)


def test_baseline_too_short_for_a_slow_sensor_is_not_subtracted_and_says_why():
    soc = FakeCounter("ioreport", scope="soc", update_interval_s=1.0)
    machine = FakeMachine(soc, idle_watts={"ioreport": 5.0})
    window = machine.window(idle_baseline_s=0.5)

    window.start()
    machine.run(10.0, ioreport=25.0)
    report = window.stop(generated_tokens=100)

    assert report.total_joules == pytest.approx(250.0)
    assert report.sensors[0].baseline_watts is None
    assert "no idle baseline subtracted" in report.baseline
    assert "shorter than 2 updates" in report.baseline


def test_measure_idle_baseline_divides_counter_difference_by_elapsed_time():
    gpu = FakeCounter("gpu")
    cpu = FakeCounter("cpu", scope="cpu-package")
    machine = FakeMachine(gpu, cpu, idle_watts={"gpu": 18.0, "cpu": 6.5})

    baseline = measure_idle_baseline([gpu, cpu], 2.0, clock=machine.clock, sleep=machine.sleep)

    assert baseline.watts_by_sensor == pytest.approx({"gpu": 18.0, "cpu": 6.5})
    assert baseline.total_watts == pytest.approx(24.5)


def test_idle_draw_above_the_window_energy_clamps_to_zero_with_a_note():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu)
    window = machine.window(baseline=IdleBaseline(seconds=1.0, watts_by_sensor={"gpu": 50.0}))

    window.start()
    machine.run(1.0, gpu=40.0)
    report = window.stop(generated_tokens=1)

    assert report.total_joules == 0.0
    assert "clamped" in report.sensors[0].note


def test_context_manager_stops_the_window_when_the_caller_did_not():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu)

    with machine.window(idle_baseline_s=0) as window:
        machine.run(1.0, gpu=75.0)

    assert window.report is not None
    assert window.report.total_joules == pytest.approx(75.0)


def test_stop_twice_returns_the_same_report():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu)
    window = machine.window(idle_baseline_s=0)
    window.start()
    machine.run(1.0, gpu=10.0)
    first = window.stop(generated_tokens=1)

    machine.run(1.0, gpu=10.0)

    assert window.stop(generated_tokens=1) is first


def test_to_json_carries_every_figure_and_label():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu)
    window = machine.window(idle_baseline_s=0)
    window.start()
    machine.run(1.0, gpu=10.0)
    window.mark_first_token()
    machine.run(1.0, gpu=30.0)

    decoded = json.loads(window.stop(prompt_tokens=2, generated_tokens=3).to_json())

    assert decoded["total_joules"] == pytest.approx(40.0)
    assert decoded["prefill_joules"] == pytest.approx(10.0)
    assert decoded["decode_joules_per_token"] == pytest.approx(10.0)
    assert decoded["sensors"][0]["source"] == "fake counter gpu"
    assert decoded["total_kind"] == "measured"


def test_sensor_names_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        EnergyWindow([FakeCounter("gpu"), FakeCounter("gpu")])


def test_marks_out_of_order_are_refused():
    window = EnergyWindow([FakeCounter("gpu")], idle_baseline_s=0)

    with pytest.raises(RuntimeError):
        window.mark_first_token()
    with pytest.raises(RuntimeError):
        window.stop()


def test_prefill_and_decode_always_add_up_to_the_total():
    gpu = FakeCounter("gpu")
    machine = FakeMachine(gpu)
    window = machine.window(baseline=IdleBaseline(seconds=1.0, watts_by_sensor={"gpu": 50.0}))

    window.start()
    machine.run(1.0, gpu=10.0)  # below idle: this phase clamps to 0 J
    window.mark_first_token()
    machine.run(1.0, gpu=150.0)
    report = window.stop(prompt_tokens=1, generated_tokens=1)

    assert report.prefill_joules == 0.0
    assert report.decode_joules == pytest.approx(100.0)
    assert report.total_joules == pytest.approx(report.prefill_joules + report.decode_joules)
