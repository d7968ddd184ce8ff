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


def axis_ticks(span_s: int, every_s: int = TICK_EVERY_S) -> list[list[tuple[float, str]]]:
    """pyqtgraph's tick levels for a narrow panel: "now" at the right end and one more
    label a tick in from the left ("4 min ago": the axis's very end has no room for its
    words), and a tick without a label each minute (labels there would overlap)."""
    labelled = [(-float(span_s - every_s), time_ago_label(span_s - every_s)), (0.0, "now")]
    others = [(x, "") for x, _label in time_ticks(span_s, every_s)
              if x not in {x for x, _ in labelled}]
    return [labelled, others]


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
    plot.setFixedHeight(max(140, 10 * plot.fontMetrics().lineSpacing()))
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.setXRange(-span_s, 0, padding=0.02)
    # From zero up, so a steady speed reads as steady rather than as a zoomed-in wobble.
    plot.setLimits(yMin=0)
    plot.enableAutoRange(axis="y")
    plot.setAutoVisible(y=True)
    plot.setLabel("left", "tok/s · W", color=ink.name())
    bottom = plot.getAxis("bottom")
    bottom.setTicks(axis_ticks(span_s))
    # The end labels reach past the axis's ends; pyqtgraph would drop them, so the plot
    # keeps a margin on the right for "now" and the labels are always drawn.
    bottom.setStyle(hideOverlappingLabels=False)
    plot.getPlotItem().layout.setContentsMargins(0, 0, 3 * plot.fontMetrics().averageCharWidth(),
                                                 0)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen(ink)
        plot.getAxis(axis).setPen(palette.color(QPalette.ColorRole.Mid))
    plot.addLegend(offset=(5, 5), labelTextColor=ink)
    tps = plot.plot([], [], name="decode tok/s", connect="finite",
                    pen=pyqtgraph.mkPen(accent, width=2), symbol="o", symbolSize=4,
                    symbolPen=None, symbolBrush=accent)
    watts = plot.plot([], [], name="watts", connect="finite",
                      pen=pyqtgraph.mkPen(ink, width=1.5, style=Qt.PenStyle.DashLine))
    return plot, tps, watts
