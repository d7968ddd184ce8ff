"""Download throughput: the app's download paths vs a plain urllib client fetching the same
file from the same loopback Hub onto the same disk, paired in every repetition.

    .venv/bin/python bench/download.py [--reps 5] [--file PATH.gguf] [--rate MBPS]

Measured per repetition, in an order rotated from one repetition to the next (so that none
always runs first, after another's writeback or into a warm cache):
  plain            urllib, 1 MiB reads written to a file: no hash, no fsync
  plain+sha+fsync  the same loop with SHA-256 and a closing fsync (our guarantees, in turn)
  download()       inference.hub.transfer.download with a progress callback: `models pull`
  queue            the app's DownloadQueue (what the Models tab uses): state file, created-
                   files ledger, a progress subscriber, registered in a model library; timed
                   from add() until the subscriber sees the job "done" (registering's share
                   is printed too)
Both app paths verify the SHA-256 before the file is used and fsync it.

Printed: the median of each path's throughput, and the median (with the range) of the
per-repetition ratios plain time / path time — the figure to judge (target >= 0.9x) — and
each path's CPU time in this process.

The Hub runs in a child process (a real one is not in our process; in ours its sending
thread would compete with ours for the GIL and be counted in our CPU time). This process has
the offline guard's audit hook installed (offline mode turned on and off again), so a path
that raised Python audit events per block would pay for it here as it would in the app.

Reading the result: ours does all plain does plus a SHA-256 of every byte (~1.5-2 GB/s on
one core with SHA extensions), which runs on a second thread. With a core idle for it the
hash overlaps the transfer; on a machine whose cores are all busy (see the load printed,
against the core count) the hash's CPU time adds to the wall time and no pipelining can
hide it: the "cpu" column shows that cost. --rate paces the Hub like a real link (e.g.
--rate 500 for 500 MB/s) to show the cost where the network sets the pace.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.hub.downloads import DownloadJob, DownloadQueue, library_registrar
from inference.hub.transfer import RemoteFile, choose_file, download, repo_files
from inference.models.created_files import CreatedFiles
from inference.models.library import ModelLibrary, embedded_model
from routing import offline
from tests.inference.fake_hub import COMMIT, FakeHub

REPO, FILE = "bench/Model-GGUF", "model-Q4_1.gguf"
BLOCK = 1 << 20


def serve(path: Path, rate_mbps: float | None) -> None:
    """The child process: a loopback Hub with one file; prints its URL, ends with stdin."""
    with FakeHub() as hub:
        hub.add(REPO, {FILE: path})
        hub.rate_bps = rate_mbps * 1e6 if rate_mbps else None
        print(hub.url, flush=True)
        sys.stdin.read()


def plain(url: str, target: Path, guarantees: bool) -> None:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url) as response, target.open("wb") as sink:
        while block := response.read(BLOCK):
            if guarantees:
                digest.update(block)
            sink.write(block)
        if guarantees:
            sink.flush()
            os.fsync(sink.fileno())


def via_download(remote: RemoteFile, home: Path) -> None:
    os.environ["HF_HOME"] = str(home)
    download(remote, on_progress=lambda update: None)


class QueueRun:
    """The Models tab's path, composed as app/services.py composes it. The queue's close()
    (at the app's exit) is outside the measured time: it ends when a subscriber sees the
    job done; `registering_s` is the share of it the model library took."""

    def __init__(self) -> None:
        self.ended = 0.0
        self.ended_cpu = 0.0
        self.registering_s = 0.0

    def __call__(self, remote: RemoteFile, home: Path) -> None:
        os.environ["HF_HOME"] = str(home / "hf")
        finished = threading.Event()
        outcome: list[DownloadJob] = []
        register = library_registrar(ModelLibrary(home))

        def timed_register(remote: RemoteFile, path: Path) -> str:
            start = time.perf_counter()
            try:
                return register(remote, path)
            finally:
                self.registering_s = time.perf_counter() - start

        def watch(job: DownloadJob) -> None:
            if job.state in ("done", "failed", "cancelled"):
                self.ended, self.ended_cpu = time.perf_counter(), cpu_seconds()
                outcome.append(job)
                finished.set()

        queue = DownloadQueue(home / "downloads.json", timed_register, lambda: None,
                              autostart=False, created=CreatedFiles(home))
        queue.subscribe(watch)
        queue.start()
        try:
            queue.add(remote)
            finished.wait()
        finally:
            queue.close()
        if outcome[0].state != "done":
            raise SystemExit(f"the queue's download ended {outcome[0].state}: "
                             f"{outcome[0].error}")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--file", type=Path, default=Path(embedded_model().path),
                        help="a GGUF file (the queue registers it); default: the embedded model")
    parser.add_argument("--rate", type=float, metavar="MBPS",
                        help="pace the Hub at this many MB/s (default: as fast as it can)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.file, args.rate)
        return 0
    command = [sys.executable, __file__, "--serve", "--file", str(args.file)]
    if args.rate:
        command += ["--rate", str(args.rate)]
    offline.enable()  # installs the audit hook, which stays for the process's life
    offline.disable()
    hub = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        base = hub.stdout.readline().strip() if hub.stdout else ""
        if not base:
            raise SystemExit("the loopback Hub did not start")
        os.environ["HF_ENDPOINT"] = base
        return run(args, f"{base}/{REPO}/resolve/{COMMIT}/{FILE}")
    finally:
        if hub.stdin:
            hub.stdin.close()
        hub.wait()


def run(args: argparse.Namespace, url: str) -> int:
    remote = choose_file(REPO, repo_files(REPO), FILE)
    with tempfile.TemporaryDirectory(dir=Path.home()) as scratch_name:
        scratch = Path(scratch_name)  # one disk for every path (not a tmpfs /tmp)
        target = scratch / "plain.bin"
        queue_run = QueueRun()
        paths: dict[str, Callable[[Path], None]] = {
            "plain": lambda home: plain(url, target, guarantees=False),
            "plain+sha+fsync": lambda home: plain(url, target, guarantees=True),
            "download()": lambda home: via_download(remote, home),
            "queue": lambda home: queue_run(remote, home),
        }
        names = list(paths)
        wall: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        registering: list[float] = []
        load_before = os.getloadavg()[0]
        for rep in range(args.reps):
            for name in names[rep % len(names):] + names[:rep % len(names)]:
                home = scratch / "home"
                home.mkdir()
                cpu_start, start = cpu_seconds(), time.perf_counter()
                paths[name](home)
                end, cpu_end = time.perf_counter(), cpu_seconds()
                if name == "queue":
                    end, cpu_end = queue_run.ended, queue_run.ended_cpu
                    registering.append(queue_run.registering_s)
                wall[name].append(end - start)
                cpu[name].append(cpu_end - cpu_start)
                shutil.rmtree(home)
                target.unlink(missing_ok=True)
        load_after = os.getloadavg()[0]
    report(args, remote.size_bytes or args.file.stat().st_size, wall, cpu,
           (load_before, load_after))
    print(f"queue: registering the model (GGUF header, models.json) took "
          f"{1000 * statistics.median(registering):.0f} ms of it (median)")
    return 0


def report(args: argparse.Namespace, size: int, wall: dict[str, list[float]],
           cpu: dict[str, list[float]], load: tuple[float, float]) -> None:
    pace = f"Hub paced at {args.rate:g} MB/s" if args.rate else "loopback unpaced"
    print(f"file: {size / 1e6:.1f} MB, {args.reps} paired reps, {pace}; load average "
          f"{load[0]:.2f} -> {load[1]:.2f} on {os.cpu_count()} cores")
    print(f"{'path':<17}{'MB/s':>8}  {'plain/path (median, range)':<28}{'cpu ms':>8}")
    for name, times in wall.items():
        ratios = [base / own for base, own in zip(wall["plain"], times, strict=True)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{name:<17}{size / 1e6 / statistics.median(times):8.1f}  "
              f"{statistics.median(ratios):5.2f}x ({spread}){'':<{16 - len(spread)}}"
              f"{1000 * statistics.median(cpu[name]):8.0f}")
    print("target: download() and queue >= 0.90x plain (the paired median)")
    plain_s, sha_s = statistics.median(wall["plain"]), sha256_seconds(args.file)
    print(f"bounds: SHA-256 alone runs at {size / 1e6 / sha_s:.0f} MB/s on one core here, so "
          f"with a core idle for it download() can reach {min(1.0, plain_s / sha_s):.2f}x; "
          f"with none, about plain's CPU time / its own = "
          f"{statistics.median(cpu['plain']) / statistics.median(cpu['download()']):.2f}x")


def sha256_seconds(path: Path) -> float:
    """The best of three SHA-256 passes over the file in memory: one core's hash speed."""
    data = path.read_bytes()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        hashlib.sha256(data).digest()
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    sys.exit(main())
