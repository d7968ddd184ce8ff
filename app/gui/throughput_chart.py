"""The meters' rolling chart: decode speed and power over the last few minutes.

Time runs left to right and ends at "now"; the axis reads "5 min ago … now", never
negative seconds. A pause between answers is a gap in the line, not a slope drawn across
it: samples further apart than GAP_S are split by a NaN, and the curve connects finite
points only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

GAP_S = 3.0  # an answer reports several times a second; a longer silence is idle time
TICK_EVERY_S = 60


def time_ago_label(seconds_ago: float) -> str:
    """An axis label for a moment `seconds_ago` before now: "now", "30 s ago", "2 min ago"."""
    seconds = round(abs(seconds_ago))
    if seconds == 0:
        return "now"
    if seconds < 60:
        return f"{seconds} s ago"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min ago" if rest == 0 else f"{minutes} min {rest} s ago"


def time_ticks(span_s: int, every_s: int = TICK_EVERY_S) -> list[tuple[float, str]]:
    """(x, label) ticks for an axis from -span_s (oldest) to 0 (now)."""
    return [(-float(s), time_ago_label(s)) for s in range(span_s, -1, -every_s)]


def with_gaps(points: Iterable[tuple[float, float]], now: float,
              gap_s: float = GAP_S) -> tuple[list[float], list[float]]:
    """(xs, ys) to plot, x in seconds relative to `now` (<= 0), with a NaN between two
    samples further apart than `gap_s` so the line breaks there."""
    xs: list[float] = []
    ys: list[float] = []
    previous: float | None = None
    for at, value in points:
        if previous is not None and at - previous > gap_s:
            xs.append((previous + at) / 2 - now)
            ys.append(math.nan)
        xs.append(at - now)
        ys.append(value)
        previous = at
    return xs, ys


def create_chart(span_s: int):  # noqa: ANN201 (pyqtgraph.PlotWidget, imported lazily)
    """The plot widget with its two curves; pyqtgraph is imported here, after first paint."""
    import pyqtgraph
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    palette = QApplication.palette()
    ink = palette.color(QPalette.ColorRole.Text)
    accent = palette.color(QPalette.ColorRole.Highlight)
    pyqtgraph.setConfigOptions(antialias=True)
    plot = pyqtgraph.PlotWidget(background=palette.color(QPalette.ColorRole.Base))
    plot.setAccessibleName("Throughput and power over the last five minutes")
    plot.setMinimumHeight(140)
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.setXRange(-span_s, 0, padding=0.02)
    plot.setLabel("left", "tok/s · W")
    bottom = plot.getAxis("bottom")
    bottom.setTicks([time_ticks(span_s)])
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen(ink)
        plot.getAxis(axis).setPen(palette.color(QPalette.ColorRole.Mid))
    plot.addLegend(offset=(5, 5), labelTextColor=ink)
    tps = plot.plot([], [], name="decode tok/s", connect="finite",
                    pen=pyqtgraph.mkPen(accent, width=2))
    watts = plot.plot([], [], name="watts", connect="finite",
                      pen=pyqtgraph.mkPen(ink, width=1.5, style=Qt.PenStyle.DashLine))
    return plot, tps, watts
