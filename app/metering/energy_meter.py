"""The process's power sensors, opened once, and the energy window around each generation.

Sensors are discovered on a background thread as soon as the app starts, so the first chat
turn does not pay for it (a model load takes longer anyway). The same thread then measures
the machine's idle draw once, at a moment when nothing has run for a while; until it has,
answers are metered gross and say so. Nothing here ever makes a chat turn wait for a
baseline, and nothing runs between tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from inference.power import (
    EnergyReport,
    EnergyWindow,
    IdleBaseline,
    PowerConfig,
    PowerSensor,
    SensorFamilyStatus,
    SensorProbe,
    measure_idle_baseline,
    probe_sensors,
)

if TYPE_CHECKING:
    from app.config import Settings

# A chat turn waits at most this long for discovery still under way, then goes unmetered.
DISCOVERY_WAIT_S = 10.0
# The machine must have been quiet this long before its draw counts as idle: the CPU and GPU
# clocks take a moment to come down after a generation.
QUIET_BEFORE_BASELINE_S = 2.0
# The idle sample must span a few counter updates of the slowest sensor (a Mac's IOReport
# moves about once a second) to say anything about it.
MIN_BASELINE_S = 1.0
BASELINE_UPDATES = 3

NO_LIVE_SENSOR = "no power sensor is live on this machine"

Discover = Callable[[PowerConfig], SensorProbe]


def power_config(settings: Settings) -> PowerConfig:
    """The sensors the settings allow; the chat path and `stillroom doctor` use the same."""
    return PowerConfig(allow_estimates=settings.allow_power_estimates,
                       cpu_tdp_watts=settings.cpu_tdp_watts)


class _SerializedSensor(PowerSensor):
    """A sensor whose reads are serialized with every other read of this meter's sensors.

    Sensors keep running state (wraparound tracking, the estimate's last CPU times), so a
    chat turn and the baseline thread must not read one at the same moment.
    """

    def __init__(self, sensor: PowerSensor, lock: threading.Lock) -> None:
        self.inner = sensor
        self.name = sensor.name
        self.scope = sensor.scope
        self.kind = sensor.kind
        self.method = sensor.method
        self.update_interval_s = sensor.update_interval_s
        self._lock = lock

    def read_energy_j(self) -> float:
        with self._lock:
            return self.inner.read_energy_j()

    def close(self) -> None:
        with self._lock:
            self.inner.close()


class EnergyMeter:
    """Opens the sensors once per process and hands out energy windows for generations."""

    def __init__(self, config: PowerConfig, *, discover: Discover = probe_sensors,
                 quiet_before_baseline_s: float = QUIET_BEFORE_BASELINE_S,
                 min_baseline_s: float = MIN_BASELINE_S) -> None:
        self.config = config
        self._discover = discover
        self._quiet_s = quiet_before_baseline_s
        self._min_baseline_s = min_baseline_s
        self._read_lock = threading.Lock()
        self._sensors: list[PowerSensor] = []
        self._statuses: list[SensorFamilyStatus] = []
        self._baseline: IdleBaseline | None = None
        self._discovered = threading.Event()
        self._finished = threading.Event()  # the thread has nothing left to do
        self._stopping = threading.Event()
        # Guards the activity counters; the baseline thread waits on it for a quiet moment.
        self._activity = threading.Condition()
        self._active = 0
        self._activity_count = 0
        self._last_active_at = time.monotonic()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Discover sensors, then measure the idle baseline, on a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stillroom-energy",
                                            daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        with self._activity:
            self._activity.notify_all()
        if self._thread is not None:
            self._thread.join()
        for sensor in self._sensors:
            sensor.close()
        self._sensors = []

    def reconfigure(self, config: PowerConfig) -> None:
        """Use changed power settings (a new TDP, estimates on or off) from the next answer:
        the sensors are found again in the background, as at start-up. Nothing happens when
        the settings are the same, so saving an unrelated setting costs nothing."""
        if config == self.config:
            return
        started = self._thread is not None
        self.close()
        self.config = config
        self._statuses, self._baseline = [], None
        for event in (self._discovered, self._finished, self._stopping):
            event.clear()
        self._thread = None
        if started:
            self.start()

    # -- what the chat path uses -------------------------------------------------------
    @contextmanager
    def busy(self) -> Iterator[None]:
        """Mark work (a model load, a generation) so no idle baseline is taken across it."""
        with self._activity:
            self._active += 1
            self._activity_count += 1
        try:
            yield
        finally:
            with self._activity:
                self._active -= 1
                self._last_active_at = time.monotonic()
                self._activity.notify_all()

    def open_window(self) -> EnergyWindow:
        """A started window over every live sensor; with none it reports "not measured"."""
        if self._thread is not None:  # a meter never started has no sensors to wait for
            self._discovered.wait(DISCOVERY_WAIT_S)
        # idle_baseline_s=0: a window never samples idle itself (that would delay the
        # answer); it subtracts the background baseline when there is one.
        window = EnergyWindow(self.sensors, baseline=self._baseline, idle_baseline_s=0,
                              min_updates_per_phase=self.config.min_updates_per_phase)
        window.start()
        return window

    @property
    def sensors(self) -> list[PowerSensor]:
        return list(self._sensors) if self._discovered.is_set() else []

    @property
    def statuses(self) -> list[SensorFamilyStatus]:
        return list(self._statuses)

    @property
    def baseline(self) -> IdleBaseline | None:
        return self._baseline

    def wait_until_discovered(self, timeout: float | None = None) -> bool:
        return self._discovered.wait(timeout)

    def wait_until_settled(self, timeout: float | None = None) -> bool:
        """Until the baseline is measured (or cannot be: no sensors, closing)."""
        return self._finished.wait(timeout)

    def source_label(self, report: EnergyReport) -> str:
        """One line for the ledger: which sensors measured or estimated the answer, and how
        (net of the idle draw or gross), or why it was not measured."""
        if report.total_joules is None:
            if self._thread is None:
                return "not measured: power sensors were not opened"
            if not self._discovered.is_set():
                return f"not measured: sensor discovery took over {DISCOVERY_WAIT_S:g} s"
            return f"not measured: {why_not_measured(report, self._statuses)}"
        readable = [item for item in report.sensors if item.error is None]
        if any(item.baseline_watts is not None for item in readable):
            basis = "net of the idle draw measured before"
        else:
            basis = "gross (no idle baseline yet)"
        # report.sources names exactly the sensors the total adds up.
        return f"{report.total_kind}: {'; '.join(report.sources)}; {basis}"

    # -- the background thread ---------------------------------------------------------
    def _run(self) -> None:
        try:
            self._discover_then_measure()
        finally:
            self._discovered.set()
            self._finished.set()

    def _discover_then_measure(self) -> None:
        try:
            probe = self._discover(self.config)
        except Exception as exc:  # discovery must never take the app down with it
            probe = SensorProbe(sensors=[], statuses=[SensorFamilyStatus(
                family="sensors", state="unavailable",
                reason=f"discovery failed: {type(exc).__name__}: {exc}")])
        if self._stopping.is_set():
            probe.close()
            return
        self._sensors = [_SerializedSensor(s, self._read_lock) for s in probe.sensors]
        self._statuses = probe.statuses
        self._discovered.set()
        if self._sensors:
            self._measure_baseline_when_idle()

    def _baseline_seconds(self) -> float:
        slowest = max(sensor.update_interval_s for sensor in self._sensors)
        return max(self._min_baseline_s, BASELINE_UPDATES * slowest)

    def _wait_for_quiet(self) -> int | None:
        """Block until nothing has run for the quiet period; the activity count then, or
        None when the meter is closing."""
        with self._activity:
            while not self._stopping.is_set():
                quiet_for = time.monotonic() - self._last_active_at
                if self._active == 0 and quiet_for >= self._quiet_s:
                    return self._activity_count
                self._activity.wait(None if self._active else self._quiet_s - quiet_for)
        return None

    def _measure_baseline_when_idle(self) -> None:
        seconds = self._baseline_seconds()
        while True:
            count = self._wait_for_quiet()
            if count is None:
                return
            baseline = measure_idle_baseline(self._sensors, seconds,
                                             sleep=self._stopping.wait)
            with self._activity:
                if self._stopping.is_set():
                    return
                # Work that began during the sample would count as idle draw: try again.
                if count == self._activity_count and self._active == 0:
                    self._baseline = baseline
                    return


def why_not_measured(report: EnergyReport, statuses: Sequence[SensorFamilyStatus]) -> str:
    """The shortest true reason a window has no energy figure."""
    failed = [item.sensor for item in report.sensors if item.error]
    if failed:
        return f"sensor read failed ({', '.join(failed)})"
    reason = why_no_sensor(statuses)
    return f"{reason} (see `stillroom doctor`)" if reason == NO_LIVE_SENSOR else reason


def why_no_sensor(statuses: Sequence[SensorFamilyStatus]) -> str:
    estimate = next((s for s in statuses if s.family == "estimate"), None)
    if estimate is not None and estimate.state == "disabled":
        return "no power sensor is live and estimates are turned off"
    failure = next((s for s in statuses if s.family == "sensors"), None)
    if failure is not None:
        return failure.reason
    return NO_LIVE_SENSOR


def chat_energy_summary(sensors: Sequence[PowerSensor],
                        statuses: Sequence[SensorFamilyStatus]) -> str:
    """Which sensors an energy window adds up for each answer, as `doctor` prints it."""
    if not sensors:
        return f"not measured: {why_no_sensor(statuses)}"
    # A whole-system meter already contains the others, so a window totals it alone.
    system = [sensor for sensor in sensors if sensor.scope == "system"]
    counted = system or list(sensors)
    kinds = {sensor.kind for sensor in counted}
    kind = "partly estimated"
    if len(kinds) == 1:
        (kind,) = kinds
    names = ", ".join(f"{sensor.name} [{sensor.scope}]" for sensor in counted)
    return f"{kind} by {names}"
