"""Does the window stay responsive while an answer streams at full speed?

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_responsiveness.py [--tokens 400]

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_responsiveness.py --replay [--rate 80]

A heartbeat QTimer on the UI thread ticks every 5 ms while the main window streams a long
answer from the embedded model; a stall is how late a tick arrives. Target (issue 3): p99
stall <= 16 ms (one frame at 60 Hz). Also prints the answer's decode speed in the window
against the same prompt through the headless ChatService in the same run (target, issue
17: >= 0.95x), since a UI that starves the engine is as bad as one that stutters; the two
arms alternate which goes first. And the UI thread's own CPU time per 100 tokens: on two
cores every millisecond of it comes off llama.cpp's decode, and unlike a wall-clock rate it
hardly moves with the machine's other load.

`--replay` needs no model: a fixed markdown answer is sent to the window through the chat
worker's own signal at `--rate` tokens a second, batched as the worker batches them, and
the UI thread's CPU time per 100 tokens is printed. It runs unchanged against builds
before and after issue 17, so the two can be compared on a busy machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
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
    parser.add_argument("--replay", action="store_true",
                        help="no model: replay a fixed answer at --rate tok/s")
    parser.add_argument("--rate", type=float, default=80.0)
    args = parser.parse_args()
    print(f"load average at the start {os.getloadavg()[0]:.2f} (1 min)", flush=True)
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
    if args.replay:
        return replay(app, window, args)
    window.temperature.setValue(0)
    window.max_tokens.setValue(args.tokens)

    def headless_decode() -> float:
        turn = services.chat().start(PROMPT, options=ChatOptions(temperature=0,
                                                                 max_tokens=args.tokens))
        for _ in turn:
            pass
        return turn.result.timings.decode_tps

    stalls: list[float] = []
    gui_rates, headless_rates, ui_cpu_per_100 = [], [], []
    clock = QElapsedTimer()

    def gui_decode() -> tuple[float, list[float], float]:
        """(decode tok/s in the window, heartbeat gaps, UI-thread CPU ms per 100 tokens)."""
        window.new_chat()
        ticks: list[float] = []
        heartbeat = QTimer(interval=TICK_MS)
        heartbeat.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))
        clock.start()
        heartbeat.start()
        window.composer.setPlainText(PROMPT)
        # The app's own event loop, as in real use: no polling that would add load.
        loop = QEventLoop()
        worker = window.workers.worker
        worker.sig_turn_finished.connect(loop.quit)
        worker.sig_turn_failed.connect(loop.quit)
        QTimer.singleShot(0, window.send)
        ui_cpu = time.thread_time()  # this (the UI) thread only
        loop.exec()
        ui_cpu = time.thread_time() - ui_cpu
        worker.sig_turn_finished.disconnect(loop.quit)
        worker.sig_turn_failed.disconnect(loop.quit)
        app.processEvents()
        heartbeat.stop()
        tokens = int(window.meters.value("tokens").split("/")[-1])
        rate = float(window.meters.value("decode").split()[0])
        return rate, [b - a - TICK_MS for a, b in itertools.pairwise(ticks)], \
            1e5 * ui_cpu / max(1, tokens)

    headless_decode()  # warm-up, not counted: the first answer after a load runs slow
    for rep in range(args.reps):
        if rep % 2 == 0:  # alternate which arm goes first: drift falls on both
            headless_rates.append(headless_decode())
            rate, gaps, cpu = gui_decode()
        else:
            rate, gaps, cpu = gui_decode()
            headless_rates.append(headless_decode())
        stalls.extend(max(0.0, g) for g in gaps)
        gui_rates.append(rate)
        ui_cpu_per_100.append(cpu)
        print(f"rep {rep}: ticks {len(gaps) + 1}, p99 stall {percentile(gaps, 0.99):.1f} ms, "
              f"max {max(gaps):.1f} ms, decode in window {rate:.1f} tok/s vs headless "
              f"{headless_rates[-1]:.1f} tok/s, UI thread {cpu:.0f} ms CPU per 100 tokens",
              flush=True)
    print("\n-- summary --")
    print(f"heartbeat stalls over {len(stalls)} ticks: p50 {percentile(stalls, 0.5):.2f} ms, "
          f"p99 {percentile(stalls, 0.99):.2f} ms (target <= 16 ms), max {max(stalls):.1f} ms")
    ratio = statistics.median(gui_rates) / statistics.median(headless_rates)
    print(f"decode while the window renders: {statistics.median(gui_rates):.1f} tok/s vs "
          f"{statistics.median(headless_rates):.1f} headless -> {ratio:.2f}x (target >= 0.95x)")
    print(f"UI thread CPU per 100 tokens: median {statistics.median(ui_cpu_per_100):.0f} ms")
    print(f"load average at the end {os.getloadavg()[0]:.2f} (1 min)")
    window.close()
    services.close()
    sys.stdout.flush()
    # PySide6 can crash while the interpreter tears its objects down; the figures are out.
    os._exit(0)


REPLAY_ANSWER = "\n\n".join(
    f"## Part {part}\n\nThe **Roman** state in part {part} grew by roads, law and *trade*; "
    + "its provinces paid taxes, raised legions and built towns along the frontier. " * 4
    + f"\n\n```python\nlegions = {part} * 5000\n```" for part in range(1, 9))


def replay(app, window, args: argparse.Namespace) -> int:
    """Send REPLAY_ANSWER to the window as the worker would, at args.rate tok/s; print the
    UI thread's CPU time per 100 tokens. Uses only what builds before and after issue 17
    share: the worker's sig_chunk, the window's `active` turn and its repaint timer."""
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

    class Done(QObject):  # queued behind the last chunk, so it arrives after it
        sig_done = Signal()

    tokens = [REPLAY_ANSWER[i:i + 4] for i in range(0, len(REPLAY_ANSWER), 4)]
    worker = window.workers.worker
    results = []
    for rep in range(args.reps):
        window.new_chat()
        widget = window._message_widget("assistant", "", status="streaming")
        request_id = 10_000 + rep
        window.active = {"request_id": request_id, "widget": widget, "text": "",
                         "dirty": False, "figures": None, "conversation_id": None}
        window.repaint_timer.start()
        loop = QEventLoop()
        done = Done()
        done.sig_done.connect(loop.quit)

        def stream(request_id: int = request_id, done: Done = done) -> None:
            pending, last_emit, count = [], 0.0, 0
            for index, token in enumerate(tokens):
                time.sleep(1 / args.rate)
                pending.append(token)
                now = time.monotonic()
                if now - last_emit < 0.025 and index < len(tokens) - 1:
                    continue
                last_emit, count = now, count + len(pending)
                worker.sig_chunk.emit(request_id, "".join(pending), {
                    "prompt_tokens": 20, "completion_tokens": count, "ttft_s": 0.1,
                    "prefill_tps": 500.0, "decode_tps": args.rate, "total_s": 1.0,
                    "prompt_tokens_evaluated": 20, "prompt_tokens_reused": 0})
                pending.clear()
            done.sig_done.emit()

        feeder = threading.Thread(target=stream, daemon=True)
        ui_cpu = time.thread_time()
        QTimer.singleShot(0, feeder.start)
        loop.exec()
        window._finish()  # the last frame, as when the worker says the turn finished
        ui_cpu = time.thread_time() - ui_cpu
        assert widget.text() == REPLAY_ANSWER, "the window lost text"
        results.append(1e5 * ui_cpu / len(tokens))
        print(f"rep {rep}: {len(tokens)} tokens at {args.rate:.0f} tok/s, UI thread "
              f"{results[-1]:.0f} ms CPU per 100 tokens", flush=True)
    print(f"\nUI thread CPU per 100 replayed tokens: median {statistics.median(results):.0f} ms "
          f"(load average {os.getloadavg()[0]:.2f})")
    window.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
