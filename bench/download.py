"""Download throughput: our path (inference.hub.transfer.download into an HF cache) vs plain urllib
loops fetching the same file from the same loopback Hub, in the same run, interleaved.

    .venv/bin/python bench/download.py [--reps 5] [--file PATH] [--rate MBPS]

Loopback only; the file defaults to the embedded model (98 MB). Our path includes the
SHA-256 check before use and an fsync of the finished file, as a user's download does.
Baselines: plain (no hash, no fsync), plain + SHA-256 in the same loop, and plain + SHA-256
+ fsync (the same guarantees as ours, done one step after another). Target >= 0.9x.

On loopback the transfer can outrun SHA-256 itself (~1.8 GB/s on one core with SHA
extensions), so "vs plain" is bounded by the hash there; --rate paces the Hub like a real
link (e.g. --rate 500 for 500 MB/s, a 4 Gbit/s line) to show the cost where the network
sets the pace.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.hub.transfer import choose_file, download, repo_files
from inference.models.library import embedded_model
from tests.inference.fake_hub import COMMIT, FakeHub

REPO, FILE = "bench/Model-GGUF", "model-Q4_1.gguf"


def plain(url: str, target: Path, verify: bool, sync: bool) -> None:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url) as response, target.open("wb") as sink:
        while block := response.read(1 << 20):
            if verify:
                digest.update(block)
            sink.write(block)
        if sync:
            sink.flush()
            os.fsync(sink.fileno())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--file", type=Path, default=Path(embedded_model().path))
    parser.add_argument("--rate", type=float, metavar="MBPS",
                        help="pace the Hub at this many MB/s (default: as fast as it can)")
    args = parser.parse_args()
    size = args.file.stat().st_size
    times: dict[str, list[float]] = {"ours": [], "plain": [], "sha": [], "sha+fsync": []}
    baselines = {"plain": (False, False), "sha": (True, False), "sha+fsync": (True, True)}
    with FakeHub() as hub, tempfile.TemporaryDirectory() as scratch:
        hub.add(REPO, {FILE: args.file})
        hub.rate_bps = args.rate * 1e6 if args.rate else None
        os.environ["HF_ENDPOINT"] = hub.url
        url = f"{hub.url}/{REPO}/resolve/{COMMIT}/{FILE}"
        for rep in range(args.reps):
            home = Path(scratch) / f"hf-{rep}"
            os.environ["HF_HOME"] = str(home)
            remote = choose_file(REPO, repo_files(REPO), FILE)
            start = time.perf_counter()
            download(remote)
            times["ours"].append(time.perf_counter() - start)
            shutil.rmtree(home)
            target = Path(scratch) / "plain.bin"
            for name, (verify, sync) in baselines.items():
                start = time.perf_counter()
                plain(url, target, verify, sync)
                times[name].append(time.perf_counter() - start)
                target.unlink()
    mb = size / 1e6
    median = {name: statistics.median(values) for name, values in times.items()}
    pace = f", Hub paced at {args.rate:g} MB/s" if args.rate else ", loopback unpaced"
    print(f"file: {mb:.1f} MB, {args.reps} reps (median){pace}")
    print(f"plain urllib:                     {mb / median['plain']:8.1f} MB/s")
    print(f"plain urllib + SHA-256:           {mb / median['sha']:8.1f} MB/s")
    print(f"plain urllib + SHA-256 + fsync:   {mb / median['sha+fsync']:8.1f} MB/s")
    print(f"stillroom download:               {mb / median['ours']:8.1f} MB/s "
          f"(transfer + SHA-256 + fsync)")
    print(f"ratio vs plain:                   {median['plain'] / median['ours']:.2f}x "
          f"(target >= 0.9x)")
    print(f"ratio vs plain + SHA-256:         {median['sha'] / median['ours']:.2f}x")
    print(f"ratio vs plain + SHA-256 + fsync: {median['sha+fsync'] / median['ours']:.2f}x "
          f"(the same guarantees)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
