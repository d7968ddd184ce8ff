"""Does the window stay responsive while an answer streams at full speed?

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_responsiveness.py [--tokens 400]

A heartbeat QTimer on the UI thread ticks every 5 ms while the main window streams a long
answer from the embedded model; a stall is how late a tick arrives. Target (issue 3): p99
stall <= 16 ms (one frame at 60 Hz). Also prints the answer's decode speed in the window
against the same prompt through the headless ChatService in the same run, since a UI that
starves the engine is as bad as one that stutters.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT = "Write a 2000-word essay on the history of the Roman Empire, with many sections."
TICK_MS = 5


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--n-batch", type=int, default=None,
                        help="llama.cpp prompt batch for both sides (1 works around a build "
                             "whose batched prompt evaluation crashes)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["STILLROOM_HOME"] = tempfile.mkdtemp(prefix="stillroom-gui-bench-")

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui.app import apply_theme
    from app.gui.window import MainWindow
    from app.services import Services
    from app.turn.chat_turn import ChatOptions

    app = QApplication([])
    apply_theme(app)
    services = Services.open()
    if args.n_batch:
        from dataclasses import replace

        services.engines.settings = replace(services.engines.settings, n_batch=args.n_batch)
    window = MainWindow(services, QSettings(os.environ["STILLROOM_HOME"] + "/ui.ini",
                                            QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    window.temperature.setValue(0)
    window.max_tokens.setValue(args.tokens)

    def headless_decode() -> float:
        turn = services.chat().start(PROMPT, options=ChatOptions(temperature=0,
                                                                 max_tokens=args.tokens))
        for _ in turn:
            pass
        return turn.result.timings.decode_tps

    stalls: list[float] = []
    gui_rates, headless_rates = [], []
    clock = QElapsedTimer()
    for rep in range(args.reps):
        headless_rates.append(headless_decode())
        window.new_chat()
        ticks: list[float] = []
        heartbeat = QTimer(interval=TICK_MS)
        heartbeat.timeout.connect(lambda ticks=ticks: ticks.append(clock.nsecsElapsed() / 1e6))
        clock.start()
        heartbeat.start()
        window.composer.setPlainText(PROMPT)
        # The app's own event loop, as in real use: no polling that would add load.
        loop = QEventLoop()
        worker = window.workers.worker
        worker.sig_turn_finished.connect(loop.quit)
        worker.sig_turn_failed.connect(loop.quit)
        QTimer.singleShot(0, window.send)
        loop.exec()
        worker.sig_turn_finished.disconnect(loop.quit)
        worker.sig_turn_failed.disconnect(loop.quit)
        app.processEvents()
        heartbeat.stop()
        gaps = [b - a - TICK_MS for a, b in itertools.pairwise(ticks)]
        stalls.extend(max(0.0, g) for g in gaps)
        rate = float(window.meters.value("decode").split()[0])
        gui_rates.append(rate)
        print(f"rep {rep}: ticks {len(ticks)}, p99 stall {percentile(gaps, 0.99):.1f} ms, "
              f"max {max(gaps):.1f} ms, decode in window {rate:.1f} tok/s vs headless "
              f"{headless_rates[-1]:.1f} tok/s", flush=True)
    print("\n-- summary --")
    print(f"heartbeat stalls over {len(stalls)} ticks: p50 {percentile(stalls, 0.5):.2f} ms, "
          f"p99 {percentile(stalls, 0.99):.2f} ms (target <= 16 ms), max {max(stalls):.1f} ms")
    ratio = statistics.median(gui_rates) / statistics.median(headless_rates)
    print(f"decode while the window renders: {statistics.median(gui_rates):.1f} tok/s vs "
          f"{statistics.median(headless_rates):.1f} headless -> {ratio:.2f}x")
    window.close()
    services.close()
    sys.stdout.flush()
    # PySide6 can crash while the interpreter tears its objects down; the figures are out.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
