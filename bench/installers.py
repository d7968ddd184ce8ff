"""The installer's figures: its size, the installed size, and how fast the frozen app starts
compared with running from source.

    .venv/bin/python bench/installers.py [--reps 5] [--frozen dist/stillroom/stillroom]

Needs `bash packaging/build-deb.sh` first (or --frozen pointing at an installed app, e.g.
/opt/stillroom/stillroom). Measures, each over --reps fresh processes with a brand-new data
directory:
  - process start to the window's first painted frame (offscreen unless a display is set;
    the app prints it, as for bench/gui_startup.py), frozen and from source. Target: frozen
    <= 1.2x source.
  - `stillroom --help`, frozen and from source. Target: <= 0.5 s frozen.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = [sys.executable, "-m", "app.cli.main"]


def _environment() -> dict[str, str]:
    env = {**os.environ, "STILLROOM_HOME": tempfile.mkdtemp(prefix="stillroom-bench-pkg-")}
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def first_paint_seconds(command: list[str]) -> float:
    env = _environment()
    env["STILLROOM_STARTED_AT"] = repr(time.time())
    # From /tmp: the frozen app must not lean on the checkout.
    cwd = ROOT if command == SOURCE else tempfile.gettempdir()
    result = subprocess.run([*command, "gui"], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=180)
    for line in result.stdout.splitlines():
        if line.startswith("window-paint-s "):
            return float(line.split()[1])
    raise RuntimeError(f"{command[0]}: no first paint reported:\n{result.stdout}\n"
                       f"{result.stderr[-2000:]}")


def help_seconds(command: list[str]) -> tuple[float, float]:
    """Wall time, and the CPU time the process used (user + system): on a shared machine the
    wall time includes waiting for a core, the CPU time much less so."""
    env = _environment()
    cwd = ROOT if command == SOURCE else tempfile.gettempdir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*command, "--help"], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def folder_bytes(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*") if not path.is_symlink())


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--frozen", type=Path, default=ROOT / "dist" / "stillroom" / "stillroom",
                        help="the frozen binary (default: dist/stillroom/stillroom)")
    args = parser.parse_args()
    frozen = args.frozen.resolve()
    if not frozen.is_file():
        print(f"{frozen} is not there: run `bash packaging/build-deb.sh` first.", file=sys.stderr)
        return 2

    debs = sorted((ROOT / "dist").glob("stillroom_*.deb"), key=lambda p: p.stat().st_mtime)
    if debs:
        print(f"installer      {debs[-1].name}: {megabytes(debs[-1].stat().st_size)}")
    print(f"installed      {frozen.parent}: {megabytes(folder_bytes(frozen.parent))}")

    figures: dict[str, list[float]] = {"paint frozen": [], "paint source": [],
                                       "help frozen": [], "help source": [],
                                       "help frozen cpu": [], "help source cpu": []}
    for rep in range(args.reps):
        # Interleaved, so a noisy neighbour on a shared machine hits both sides alike.
        figures["paint frozen"].append(first_paint_seconds([str(frozen)]))
        figures["paint source"].append(first_paint_seconds(SOURCE))
        for side, command in (("frozen", [str(frozen)]), ("source", SOURCE)):
            wall, cpu = help_seconds(command)
            figures[f"help {side}"].append(wall)
            figures[f"help {side} cpu"].append(cpu)
        print(f"rep {rep}: " + ", ".join(f"{name} {values[-1]:.3f} s"
                                         for name, values in figures.items()), flush=True)
    median = {name: statistics.median(values) for name, values in figures.items()}
    ratio = median["paint frozen"] / median["paint source"]
    print(f"\nfirst paint    frozen {median['paint frozen']:.3f} s, source "
          f"{median['paint source']:.3f} s: {ratio:.2f}x (target <= 1.2x)")
    print(f"--help         frozen {median['help frozen']:.3f} s (target <= 0.5 s), source "
          f"{median['help source']:.3f} s; CPU time frozen {median['help frozen cpu']:.3f} s, "
          f"source {median['help source cpu']:.3f} s")
    print(f"machine load   {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (1-minute average)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
