"""Process start to the main window's first painted frame, and to a usable chat.

    .venv/bin/python bench/gui_startup.py [--reps 5]

Each repetition starts `python -m app.cli.main gui` in a fresh process (offscreen unless a
display is set) with a brand-new data directory, and reads what the app reports:
`window-paint-s` (the main window's first frame), `ready-s` (the services open and the
window filled in: a message can be sent) and `cpu-s` (the process's CPU seconds by then,
which a shared machine's load does not inflate the way it does the wall clock).
Target (issue 17): first paint <= 1.0 s on the 2-core reference machine. Also times a bare
`python -c "import PySide6.QtWidgets"` process as the floor no app can beat.

Builds before issue 17 painted a splash card (`first-paint-s`) and then the finished window
(`window-paint-s`, their "ready"); they report no CPU time. Both are read, so the same script
measures the old and the new start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class StartUp:
    first_paint_s: float  # the first frame of a Stillroom window (old builds: the splash)
    window_paint_s: float  # the main window's first frame
    ready_s: float  # a message can be sent
    cpu_s: float | None  # the process's CPU seconds when ready (None: an old build)


def start_once() -> StartUp:
    env = {**os.environ, "STILLROOM_HOME": tempfile.mkdtemp(prefix="stillroom-startup-")}
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["STILLROOM_STARTED_AT"] = repr(time.time())
    result = subprocess.run([sys.executable, "-m", "app.cli.main", "gui"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    seen = dict(line.split() for line in result.stdout.splitlines()
                if line.startswith(("first-paint-s ", "window-paint-s ", "ready-s ", "cpu-s ")))
    if "window-paint-s" not in seen:
        raise RuntimeError(f"no window paint reported:\n{result.stdout}\n"
                           f"{result.stderr[-2000:]}")
    window = float(seen["window-paint-s"])
    return StartUp(first_paint_s=float(seen.get("first-paint-s", window)),
                   window_paint_s=window, ready_s=float(seen.get("ready-s", window)),
                   cpu_s=float(seen["cpu-s"]) if "cpu-s" in seen else None)


def bare_qt_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    runs: list[StartUp] = []
    floors: list[float] = []
    for rep in range(args.reps):
        runs.append(start_once())
        floors.append(bare_qt_seconds())
        run = runs[-1]
        cpu = f", {run.cpu_s:.2f} CPU s" if run.cpu_s is not None else ""
        print(f"rep {rep}: first paint {run.first_paint_s:.3f} s, main window "
              f"{run.window_paint_s:.3f} s, ready {run.ready_s:.3f} s{cpu} "
              f"(bare Qt import {floors[-1]:.3f} s)", flush=True)

    def median(values: list[float]) -> float:
        return statistics.median(values)

    print(f"\nmedian first paint {median([r.first_paint_s for r in runs]):.3f} s "
          f"(target <= 1.0 s); main window painted "
          f"{median([r.window_paint_s for r in runs]):.3f} s; ready to send "
          f"{median([r.ready_s for r in runs]):.3f} s; bare PySide6 import "
          f"{median(floors):.3f} s")
    cpu = [r.cpu_s for r in runs if r.cpu_s is not None]
    if cpu:
        print(f"CPU seconds to ready: median {median(cpu):.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
