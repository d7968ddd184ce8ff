"""Process start to the first painted frame, and to the main window's.

    .venv/bin/python bench/gui_startup.py [--reps 5]

Each repetition starts `python -m app.cli.main gui` in a fresh process (offscreen unless a
display is set) with a brand-new data directory, and reads the paint times the app reports:
the first pixels (the splash, app/gui/splash.py) and the main window's first paint.
Target (issue 17): first paint <= 1.0 s on the 2-core reference machine. Also times a bare
`python -c "import PySide6.QtWidgets"` process as the floor no app can beat.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def first_paint_seconds() -> tuple[float, float]:
    """(first pixels on screen: the splash, main window painted and ready), seconds."""
    env = {**os.environ, "STILLROOM_HOME": tempfile.mkdtemp(prefix="stillroom-startup-")}
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["STILLROOM_STARTED_AT"] = repr(time.time())
    result = subprocess.run([sys.executable, "-m", "app.cli.main", "gui"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    seen = dict(line.split() for line in result.stdout.splitlines()
                if line.startswith(("first-paint-s ", "window-paint-s ")))
    if "window-paint-s" in seen:
        window = float(seen["window-paint-s"])
        # A build without the splash paints the window first: that is its first paint.
        return float(seen.get("first-paint-s", window)), window
    raise RuntimeError(f"no first paint reported:\n{result.stdout}\n{result.stderr[-2000:]}")


def bare_qt_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    paints, windows, floors = [], [], []
    for rep in range(args.reps):
        first, window = first_paint_seconds()
        paints.append(first)
        windows.append(window)
        floors.append(bare_qt_seconds())
        print(f"rep {rep}: first paint {first:.3f} s, main window {window:.3f} s "
              f"(bare Qt import {floors[-1]:.3f} s)", flush=True)
    print(f"\nmedian first paint {statistics.median(paints):.3f} s (target <= 1.0 s); "
          f"main window painted {statistics.median(windows):.3f} s; "
          f"bare PySide6 import {statistics.median(floors):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
