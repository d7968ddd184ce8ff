"""The meters' chart: a time axis that reads "… ago / now", and idle time drawn as a gap."""

from __future__ import annotations

import math

from app.gui.throughput_chart import GAP_S, axis_ticks, time_ago_label, time_ticks, with_gaps


def test_the_time_axis_reads_minutes_ago_up_to_now() -> None:
    ticks = time_ticks(300)
    assert [label for _x, label in ticks] == ["5 min ago", "4 min ago", "3 min ago",
                                              "2 min ago", "1 min ago", "now"]
    assert [x for x, _label in ticks] == [-300, -240, -180, -120, -60, 0]
    assert time_ago_label(-3) == "3 s ago" and time_ago_label(-90) == "1 min 30 s ago"
    assert not any(label.startswith("-") for _x, label in ticks)
    # In the narrow meters panel two ticks carry words; the other minutes are bare ticks.
    labelled, minutes = axis_ticks(300)
    assert labelled == [(-240.0, "4 min ago"), (0.0, "now")]
    assert [x for x, _label in minutes] == [-300, -180, -120, -60]
    assert all(label == "" for _x, label in minutes)


def test_an_idle_pause_between_answers_is_a_gap() -> None:
    now = 1000.0
    first_answer = [(900.0, 120.0), (900.25, 121.0), (900.5, 119.0)]
    second_answer = [(960.0, 80.0), (960.25, 82.0)]
    xs, ys = with_gaps(first_answer + second_answer, now)
    breaks = [i for i, y in enumerate(ys) if math.isnan(y)]
    assert len(breaks) == 1  # one gap, between the answers, not inside either
    assert ys[:breaks[0]] == [120.0, 121.0, 119.0] and ys[breaks[0] + 1:] == [80.0, 82.0]
    assert xs[0] == -100.0 and xs[-1] == -39.75 and all(x <= 0 for x in xs)


def test_samples_within_an_answer_stay_connected() -> None:
    points = [(10.0 + i * GAP_S * 0.9, float(i)) for i in range(5)]
    _xs, ys = with_gaps(points, 30.0)
    assert not any(math.isnan(y) for y in ys)


def test_the_meters_chart_draws_gaps_between_answers(qtbot) -> None:
    """The real panel and pyqtgraph curve: the NaN reaches the plot and breaks the line."""
    import time

    from app.gui.meters import MetersPanel

    panel = MetersPanel("gpt-4o-mini", show_tour=False)
    qtbot.addWidget(panel)
    panel._create_chart()
    now = time.monotonic()
    panel.tps_history.extend([(now - 60, 100.0), (now - 59.8, 101.0), (now - 1, 90.0)])
    panel._prune_and_plot()
    _xs, ys = panel._tps_curve.getData()
    assert sum(math.isnan(y) for y in ys) == 1
    assert panel._tps_curve.opts["connect"] == "finite"
    ends = panel._chart.getAxis("bottom")._tickLevels[0]
    assert ends == [(-240.0, "4 min ago"), (0.0, "now")]
    panel.close_sensors()
