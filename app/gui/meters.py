"""The live meters panel: every figure with its source, and a rolling chart.

Throughput comes from the engine's clock; CPU and RAM from psutil; power from the power
sensors (inference.power) found at start-up in the background; the cloud-equivalent price
from the dated catalog (routing.pricing). What nobody measures says so.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import deque
from decimal import Decimal

import psutil
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.cli.render import human_bytes, prompt_split
from app.gui.theme import SPACE_M, SPACE_S, SPACE_XS
from app.gui.throughput_chart import create_chart, with_gaps
from inference.power import PowerConfig
from routing.pricing.money import format_usd

CHART_SECONDS = 300
CHART_AFTER_SHOW_MS = 400
# One decode sample a second: five minutes over the panel's width is about a pixel a
# second, and each point drawn (antialiased, with a symbol) is UI time taken from decode.
CHART_SAMPLE_S = 1.0
TOUR = ("<b>What these figures mean.</b> <i>Decode</i> is how fast the answer is written; "
        "<i>prefill</i> how fast your prompt is read; <i>TTFT</i> the wait before the first "
        "word. Power and energy come from a hardware sensor when this machine has one, an "
        "estimate when you allow it, and otherwise say “not measured”. The cloud price is "
        "what the same tokens would cost at your reference model, from a dated price list.")


class _SensorLoader(QObject):
    sig_ready = Signal(object, object)  # sensors, statuses


class MetersPanel(QWidget):
    sig_tour_dismissed = Signal()

    def __init__(self, reference_model: str, show_tour: bool,
                 power_config: PowerConfig | None = None) -> None:
        super().__init__()
        # The user's power settings (TDP, estimates allowed); set_power_config applies edits.
        self.power_config = power_config or PowerConfig()
        self.setAccessibleName("Live meters")
        self.setMaximumWidth(420)
        # Wide enough for a figure and its name side by side; the sources wrap below them.
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 26)
        self.reference_model = reference_model
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # The figures scroll when the window is short; they are never squeezed or cut.
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        content.setObjectName("metersContent")
        scroll.setWidget(content)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(SPACE_M, SPACE_S, SPACE_M, SPACE_S)
        layout.setSpacing(SPACE_S)
        self.tour = QFrame()
        self.tour.setObjectName("tour")
        tour_layout = QVBoxLayout(self.tour)
        tour_text = QLabel(TOUR)
        tour_text.setWordWrap(True)
        tour_layout.addWidget(tour_text)
        dismiss = QPushButton("Got it")
        dismiss.setAccessibleName("Dismiss the meters tour")
        dismiss.clicked.connect(self._dismiss_tour)
        tour_layout.addWidget(dismiss, alignment=Qt.AlignmentFlag.AlignRight)
        self.tour.setVisible(show_tour)
        layout.addWidget(self.tour)

        # The chart first: the trend is what a glance looks for; the figures scroll below.
        self.chart_holder = QVBoxLayout()
        layout.addLayout(self.chart_holder)
        self.values: dict[str, QLabel] = {}
        self.sources: dict[str, QLabel] = {}
        rows = [("decode", "Decode"), ("prefill", "Prefill"), ("ttft", "Time to first token"),
                ("tokens", "Tokens in / out"), ("cpu", "CPU"), ("ram", "RAM"),
                ("gpu", "GPU / VRAM"), ("power", "Power"), ("energy", "Energy per token"),
                ("local_cost", "This answer, local"), ("cloud_cost", "Same tokens, cloud")]
        for key, title in rows:
            # A box per figure (not one grid): a wrapped source gets the height it needs.
            row = QVBoxLayout()
            row.setSpacing(SPACE_XS // 2)
            line = QHBoxLayout()
            name = QLabel(title)
            name.setObjectName("meterName")
            value = QLabel("—")
            value.setObjectName("meterValue")
            value.setAccessibleName(title)
            value.setWordWrap(True)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            source = QLabel("")
            source.setObjectName("meterSource")
            source.setWordWrap(True)
            line.addWidget(name)
            line.addWidget(value, 1)
            row.addLayout(line)
            row.addWidget(source)
            layout.addLayout(row)
            self.values[key], self.sources[key] = value, source
        layout.addStretch()

        self._set("power", "…", "looking for power sensors")
        self._set("energy", "not measured yet", "needs a power sensor or an allowed estimate")
        self._set("local_cost", "not measured yet", "needs energy and an electricity tariff")
        self._set("cloud_cost", "—", f"estimated at {reference_model}'s catalog price")
        self._set("gpu", "—", "")
        self.sensors: list = []
        self._has_nvidia = False
        self._last_energy: tuple[float, float] | None = None
        self.tps_history: deque[tuple[float, float]] = deque()
        self.watts_history: deque[tuple[float, float]] = deque()
        self._chart = None
        self._started = time.monotonic()
        psutil.cpu_percent(None)  # primes the counter; the first real reading comes in 1 s
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.sample_system)
        self.timer.start()
        self._loader = _SensorLoader()
        self._loader.sig_ready.connect(self._on_sensors)
        threading.Thread(target=self._discover_sensors, name="sensor-discovery",
                         daemon=True).start()

    def showEvent(self, event: QShowEvent) -> None:
        # pyqtgraph (numpy and all, ~0.5 s) loads once the window has painted, not before:
        # the first paint follows the show within a frame or two.
        if self._chart is None:
            QTimer.singleShot(CHART_AFTER_SHOW_MS, self._create_chart)
        super().showEvent(event)

    # -- figure helpers ----------------------------------------------------------------
    def _set(self, key: str, value: str, source: str) -> None:
        self.values[key].setText(value)
        self.sources[key].setText(source)

    def value(self, key: str) -> str:
        return self.values[key].text()

    def _dismiss_tour(self) -> None:
        self.tour.hide()
        self.sig_tour_dismissed.emit()

    # -- per answer --------------------------------------------------------------------
    def show_turn(self, figures: dict, *, final: bool = False) -> None:
        decode, prefill, ttft = (figures.get("decode_tps"), figures.get("prefill_tps"),
                                 figures.get("ttft_s"))
        clock = "measured: Stillroom's clock around the engine"
        self._set("decode", f"{decode:.1f} tok/s" if decode else "—", clock)
        split = prompt_split(figures.get("prompt_tokens_evaluated"),
                             figures.get("prompt_tokens_reused") or 0)
        self._set("prefill", f"{prefill:.0f} tok/s" if prefill else "—",
                  clock + (f"; {split}" if split else ""))
        self._set("ttft", f"{ttft * 1000:.0f} ms" if ttft is not None else "—", clock)
        prompt, completion = figures.get("prompt_tokens", 0), figures.get("completion_tokens", 0)
        self._set("tokens", f"{prompt} / {completion}", "counted by the model's tokenizer")
        now = time.monotonic()
        if decode and (final or not self.tps_history
                       or now - self.tps_history[-1][0] >= CHART_SAMPLE_S):
            self.tps_history.append((now, float(decode)))
        if final:
            self._show_costs(figures)

    def _show_costs(self, figures: dict) -> None:
        """Energy and money for the finished answer, exactly as the ledger recorded them."""
        energy, cost = figures.get("energy"), figures.get("cost")
        if energy is not None:
            joules = energy.get("joules")
            generated = max(1, figures.get("completion_tokens", 0))
            if joules is None:
                self._set("energy", "not measured", energy.get("source") or "")
            else:
                # The ledger's source line already begins with its kind ("estimated: ...").
                self._set("energy", f"{joules / generated:.3f} J/token ({joules:.1f} J)",
                          energy.get("source") or energy.get("kind") or "")
        if cost is None:
            return
        notes = cost.get("notes") or {}
        # How each part was priced (the hardware share's method) on hover.
        self.values["local_cost"].setToolTip("\n".join(
            f"{part}: {notes[part]}" for part in ("electricity", "hardware") if notes.get(part)))
        parts = [cost.get("local_energy_usd"), cost.get("local_hardware_usd")]
        if None in parts:
            why = "; ".join(v for k, v in notes.items() if k in ("electricity", "hardware")
                            and v.startswith("unknown"))
            self._set("local_cost", "unknown", why)
        else:
            total = sum(Decimal(p) for p in parts)
            self._set("local_cost", format_usd(total),
                      f"electricity {format_usd(Decimal(parts[0]))} + hardware share "
                      f"{format_usd(Decimal(parts[1]))}")
        cloud = cost.get("cloud_equivalent_usd")
        model = cost.get("cloud_equivalent_model") or self.reference_model
        self._set("cloud_cost", format_usd(Decimal(cloud)) if cloud is not None else "unknown",
                  f"estimated: {model} list price as of {cost.get('price_as_of')}"
                  if cloud is not None else notes.get("cloud_equivalent", "no price"))

    # -- machine -----------------------------------------------------------------------
    def sample_system(self) -> None:
        cpu = psutil.cpu_percent(None)
        memory = psutil.virtual_memory()
        self._set("cpu", f"{cpu:.0f} %", "measured: psutil, all cores")
        self._set("ram", f"{human_bytes(memory.used)} of {human_bytes(memory.total)}",
                  "measured: psutil, whole machine")
        self._sample_gpu()
        self._sample_power()
        self._prune_and_plot()

    def _sample_gpu(self) -> None:
        if not self._has_nvidia:
            return
        from inference.hardware import nvidia_gpu_load

        loads = nvidia_gpu_load()
        if loads:
            self._set("gpu", " · ".join(
                f"{g.utilisation_percent} % · {human_bytes(g.memory_used_bytes)} of "
                f"{human_bytes(g.memory_total_bytes)}" for g in loads),
                "measured: NVML (" + ", ".join(g.name for g in loads) + ")")

    def _discover_sensors(self) -> None:
        from inference.power import probe_sensors

        config = self.power_config
        try:
            probe = probe_sensors(config)
            if config != self.power_config:  # edited meanwhile: a newer search is under way
                probe.close()
                return
            self._loader.sig_ready.emit(probe.sensors, probe.statuses)
        except Exception as exc:  # a broken driver must not take the panel down
            self._loader.sig_ready.emit([], [f"sensor discovery failed: {exc}"])

    def set_power_config(self, config: PowerConfig) -> None:
        """Use edited power settings (a new TDP) now: the sensors are found again."""
        if config == self.power_config:
            return
        self.power_config = config
        self.close_sensors()
        self._last_energy = None
        self._set("power", "…", "looking for power sensors")
        threading.Thread(target=self._discover_sensors, name="sensor-discovery",
                         daemon=True).start()
        self.timer.start()

    def _on_sensors(self, sensors: list, statuses: list) -> None:
        self.sensors = sensors
        if not sensors:
            reasons = "; ".join(getattr(s, "reason", str(s)) for s in statuses)
            self._set("power", "not measured", f"no sensor on this machine ({reasons})")
        self._has_nvidia = any(getattr(s, "name", "").startswith("nvml")
                               for s in sensors)
        if not self._has_nvidia:
            apple = sys.platform == "darwin"
            self._set("gpu", "shared with CPU" if apple else "no GPU in use",
                      "Apple Silicon: unified memory, see RAM" if apple
                      else "no NVIDIA driver found")

    def _sample_power(self) -> None:
        if not self.sensors:
            return
        now = time.monotonic()
        try:
            total = sum(sensor.read_energy_j() for sensor in self.sensors)
        except Exception as exc:
            self._set("power", "not measured", f"sensor read failed: {exc}")
            return
        if self._last_energy is not None:
            then, before = self._last_energy
            watts = (total - before) / (now - then) if now > then else 0.0
            kinds = {getattr(s, "kind", "measured") for s in self.sensors}
            label = "estimated" if kinds == {"estimated"} else "measured"
            names = ", ".join(s.name for s in self.sensors)
            self._set("power", f"{watts:.1f} W", f"{label}: energy counters of {names}")
            self.watts_history.append((now, watts))
        self._last_energy = (now, total)

    # -- chart -------------------------------------------------------------------------
    def _create_chart(self) -> None:
        if self._chart is not None:
            return
        try:
            plot, self._tps_curve, self._watts_curve = create_chart(CHART_SECONDS)
        except ImportError:
            return
        self.chart_holder.addWidget(plot)
        self._chart = plot

    def _prune_and_plot(self) -> None:
        now = time.monotonic()
        for history in (self.tps_history, self.watts_history):
            while history and now - history[0][0] > CHART_SECONDS:
                history.popleft()
        if self._chart is None:
            return
        self._tps_curve.setData(*with_gaps(self.tps_history, now))
        self._watts_curve.setData(*with_gaps(self.watts_history, now))
        top = max((v for _, v in (*self.tps_history, *self.watts_history)), default=1.0)
        self._chart.setYRange(0, max(1.0, top * 1.15), padding=0)

    def close_sensors(self) -> None:
        self.timer.stop()
        for sensor in self.sensors:
            with contextlib.suppress(Exception):  # closing is best effort at shutdown
                sensor.close()
        self.sensors = []
