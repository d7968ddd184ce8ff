"""Energy of one generation: counters read at start, at the first token and at the end.

Every figure is a difference of cumulative energy counters. The only power figure multiplied
by time is the idle baseline, and that power is itself the counters' difference over a
measured idle interval, divided by its length.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from inference.power.sensor import Kind, PowerSensor, Scope, SensorReadError

Clock = Callable[[], float]
Sleep = Callable[[float], None]
TotalKind = Literal["measured", "estimated", "partly estimated", "not measured"]

# The idle baseline must span this many updates of a sensor to say anything about it.
_MIN_UPDATES_FOR_BASELINE = 2


@dataclass(frozen=True)
class IdleBaseline:
    """Average idle power per sensor, from counter differences over an idle interval."""

    seconds: float
    watts_by_sensor: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def total_watts(self) -> float:
        return sum(self.watts_by_sensor.values())


def measure_idle_baseline(
    sensors: Sequence[PowerSensor],
    seconds: float,
    clock: Clock = time.perf_counter,
    sleep: Sleep = time.sleep,
) -> IdleBaseline:
    """Read every sensor, wait `seconds`, read again: idle watts per sensor.

    The app can call this while nothing runs and hand the result to many windows, so that a
    generation does not wait for its own baseline.
    """
    start = _read_all(sensors)
    started_at = clock()
    sleep(seconds)
    end = _read_all(sensors)
    elapsed = clock() - started_at
    watts: dict[str, float] = {}
    notes: list[str] = []
    for sensor in sensors:
        if isinstance(start[sensor.name], str) or isinstance(end[sensor.name], str):
            notes.append(f"{sensor.name}: no baseline, read failed")
            continue
        if elapsed < _MIN_UPDATES_FOR_BASELINE * sensor.update_interval_s:
            notes.append(
                f"{sensor.name}: no baseline, the {elapsed:.2f} s idle sample is shorter "
                f"than {_MIN_UPDATES_FOR_BASELINE} updates of this sensor "
                f"(~{sensor.update_interval_s:g} s each)"
            )
            continue
        watts[sensor.name] = (end[sensor.name] - start[sensor.name]) / elapsed
    return IdleBaseline(seconds=elapsed, watts_by_sensor=watts, notes=notes)


@dataclass(frozen=True)
class SensorEnergy:
    """One sensor's share of a window. Joules are net of idle when baseline_watts is set."""

    sensor: str
    scope: Scope
    kind: Kind
    source: str
    gross_joules: float | None = None
    baseline_watts: float | None = None
    joules: float | None = None
    average_watts: float | None = None
    prefill_joules: float | None = None
    decode_joules: float | None = None
    note: str = ""
    error: str | None = None


@dataclass(frozen=True)
class EnergyReport:
    """Energy of one generation, with how each number was obtained.

    total_joules is None when nothing was measured (or estimated); total_kind then reads
    "not measured". Per-token figures divide by prompt tokens (prefill) and generated tokens
    (decode, and the whole answer).
    """

    duration_s: float
    prefill_s: float | None
    decode_s: float | None
    prompt_tokens: int
    generated_tokens: int
    total_kind: TotalKind
    total_joules: float | None
    average_watts: float | None
    joules_per_token: float | None
    prefill_joules: float | None
    decode_joules: float | None
    prefill_joules_per_token: float | None
    decode_joules_per_token: float | None
    baseline: str
    sources: list[str]
    sensors: list[SensorEnergy]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


# A reading is joules, or the error text when the sensor failed.
_Readings = dict[str, float | str]


def _read_all(sensors: Sequence[PowerSensor]) -> _Readings:
    readings: _Readings = {}
    for sensor in sensors:
        try:
            readings[sensor.name] = float(sensor.read_energy_j())
        except SensorReadError as exc:
            readings[sensor.name] = str(exc)
    return readings


class EnergyWindow:
    """Brackets one generation.

        with EnergyWindow(sensors, baseline=cached_baseline) as window:
            for chunk in engine.stream(...):
                window.mark_first_token()  # only the first call counts
                ...
            report = window.stop(prompt_tokens=n_in, generated_tokens=n_out)

    With no baseline given and idle_baseline_s > 0, start() first samples the machine for
    idle_baseline_s; with idle_baseline_s == 0 the report is gross and says so.
    """

    def __init__(
        self,
        sensors: Sequence[PowerSensor],
        *,
        baseline: IdleBaseline | None = None,
        idle_baseline_s: float = 0.5,
        min_updates_per_phase: int = 10,
        clock: Clock = time.perf_counter,
        sleep: Sleep = time.sleep,
    ):
        names = [sensor.name for sensor in sensors]
        if len(set(names)) != len(names):
            raise ValueError(f"sensor names must be unique: {names}")
        self._sensors = list(sensors)
        self._baseline = baseline
        self._idle_baseline_s = idle_baseline_s
        self._min_updates_per_phase = min_updates_per_phase
        self._clock = clock
        self._sleep = sleep
        self._marks: dict[str, tuple[float, _Readings]] = {}
        self.report: EnergyReport | None = None

    def start(self) -> None:
        if "start" in self._marks:
            raise RuntimeError("EnergyWindow already started")
        if self._baseline is None and self._idle_baseline_s > 0 and self._sensors:
            self._baseline = measure_idle_baseline(
                self._sensors, self._idle_baseline_s, self._clock, self._sleep
            )
        self._mark("start")

    def mark_first_token(self) -> None:
        if "start" not in self._marks:
            raise RuntimeError("mark_first_token() before start()")
        if "first_token" not in self._marks and "end" not in self._marks:
            self._mark("first_token")

    def stop(self, prompt_tokens: int = 0, generated_tokens: int = 0) -> EnergyReport:
        if "start" not in self._marks:
            raise RuntimeError("stop() before start()")
        if self.report is None:
            self._mark("end")
            self.report = self._build_report(prompt_tokens, generated_tokens)
        return self.report

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.report is None:
            self.stop()

    def _mark(self, label: str) -> None:
        # One timestamp per mark, taken after the reads: the read time is then the same offset
        # at every mark and cancels out of every difference.
        readings = _read_all(self._sensors)
        self._marks[label] = (self._clock(), readings)

    def _build_report(self, prompt_tokens: int, generated_tokens: int) -> EnergyReport:
        start_time, _ = self._marks["start"]
        end_time, _ = self._marks["end"]
        duration = end_time - start_time
        first_token = self._marks.get("first_token")
        prefill_s = first_token[0] - start_time if first_token else None
        decode_s = end_time - first_token[0] if first_token else None

        per_sensor = [self._sensor_energy(sensor, duration) for sensor in self._sensors]
        counted, notes = _counted_sensors(per_sensor)
        if not first_token:
            notes.append("no first token was marked: prefill and decode are not split")

        total_joules: float | None = None
        prefill_joules: float | None = None
        decode_joules: float | None = None
        if counted:
            total_joules = sum(item.joules or 0.0 for item in counted)
            if all(item.prefill_joules is not None for item in counted):
                prefill_joules = sum(item.prefill_joules or 0.0 for item in counted)
                decode_joules = sum(item.decode_joules or 0.0 for item in counted)
            elif first_token:
                notes.append("prefill/decode split not reported: not every sensor resolves it")

        return EnergyReport(
            duration_s=duration,
            prefill_s=prefill_s,
            decode_s=decode_s,
            prompt_tokens=prompt_tokens,
            generated_tokens=generated_tokens,
            total_kind=_total_kind(counted),
            total_joules=total_joules,
            average_watts=_ratio(total_joules, duration),
            joules_per_token=_ratio(total_joules, generated_tokens),
            prefill_joules=prefill_joules,
            decode_joules=decode_joules,
            prefill_joules_per_token=_ratio(prefill_joules, prompt_tokens),
            decode_joules_per_token=_ratio(decode_joules, generated_tokens),
            baseline=self._baseline_statement(counted),
            sources=[_source_label(item) for item in counted],
            sensors=per_sensor,
            notes=notes,
        )

    def _sensor_energy(self, sensor: PowerSensor, duration: float) -> SensorEnergy:
        identity = {
            "sensor": sensor.name,
            "scope": sensor.scope,
            "kind": sensor.kind,
            "source": sensor.method,
        }
        start_reading = self._marks["start"][1][sensor.name]
        end_reading = self._marks["end"][1][sensor.name]
        if isinstance(start_reading, str):
            return SensorEnergy(**identity, error=start_reading)
        if isinstance(end_reading, str):
            return SensorEnergy(**identity, error=end_reading)
        start, end = start_reading, end_reading

        baseline_watts = None
        if self._baseline is not None:
            baseline_watts = self._baseline.watts_by_sensor.get(sensor.name)
        idle = baseline_watts or 0.0
        gross = end - start
        joules = max(gross - idle * duration, 0.0)
        notes: list[str] = []
        if gross < idle * duration:
            notes.append("idle draw exceeded this window's energy; net clamped to 0 J")

        prefill = decode = None
        first_token = self._marks.get("first_token")
        if first_token is not None:
            middle = first_token[1][sensor.name]
            prefill_s = first_token[0] - self._marks["start"][0]
            decode_s = self._marks["end"][0] - first_token[0]
            shortest = min(prefill_s, decode_s)
            resolvable = self._min_updates_per_phase * sensor.update_interval_s
            if isinstance(middle, str):
                notes.append(f"no prefill/decode split: first-token read failed ({middle})")
            elif shortest < resolvable:
                phase = "prefill" if prefill_s <= decode_s else "decode"
                notes.append(
                    f"no prefill/decode split: {phase} lasted {shortest:.3f} s, under "
                    f"{self._min_updates_per_phase} updates of this sensor "
                    f"(~{sensor.update_interval_s:g} s each)"
                )
            else:
                prefill = max(middle - start - idle * prefill_s, 0.0)
                decode = max(end - middle - idle * decode_s, 0.0)
                # Clamping the phases separately can differ from clamping the whole; the
                # phases win so that prefill + decode always equals the total shown.
                joules = prefill + decode
        return SensorEnergy(
            **identity,
            gross_joules=gross,
            baseline_watts=baseline_watts,
            joules=joules,
            average_watts=_ratio(joules, duration),
            prefill_joules=prefill,
            decode_joules=decode,
            note="; ".join(notes),
        )

    def _baseline_statement(self, counted: list[SensorEnergy]) -> str:
        if not counted:
            return "not measured"
        if self._baseline is None:
            return "no idle baseline subtracted: figures are gross energy"
        subtracted = [item for item in counted if item.baseline_watts is not None]
        if not subtracted:
            reasons = "; ".join(self._baseline.notes) or "no sensor had a baseline"
            return f"no idle baseline subtracted ({reasons}): figures are gross energy"
        parts = ", ".join(f"{item.sensor} {item.baseline_watts:.2f} W" for item in subtracted)
        total = sum(item.baseline_watts or 0.0 for item in subtracted)
        statement = (
            f"idle baseline of {total:.2f} W ({parts}), measured over "
            f"{self._baseline.seconds:.2f} s before the generation, subtracted"
        )
        if self._baseline.notes:
            statement += "; " + "; ".join(self._baseline.notes)
        return statement


def _counted_sensors(per_sensor: list[SensorEnergy]) -> tuple[list[SensorEnergy], list[str]]:
    """Sensors whose joules add up to the total without counting any hardware twice."""
    notes = [f"{item.sensor}: {item.error}" for item in per_sensor if item.error]
    readable = [item for item in per_sensor if item.error is None]
    whole_system = [item for item in readable if item.scope == "system"]
    if whole_system:
        # A platform meter already includes what the component sensors see.
        left_out = [item.sensor for item in readable if item.scope != "system"]
        if left_out:
            notes.append(f"total is the system figure; {', '.join(left_out)} shown but not added")
        return whole_system, notes
    return readable, notes


def _source_label(item: SensorEnergy) -> str:
    return f"{item.sensor} [{item.scope}, {item.kind}]: {item.source}"


def _total_kind(counted: list[SensorEnergy]) -> TotalKind:
    kinds = {item.kind for item in counted}
    if not kinds:
        return "not measured"
    if kinds == {"measured"}:
        return "measured"
    if kinds == {"estimated"}:
        return "estimated"
    return "partly estimated"


def _ratio(numerator: float | None, denominator: float) -> float | None:
    if numerator is None or denominator <= 0:
        return None
    return numerator / denominator
