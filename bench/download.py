"""Download throughput: our path (inference.hub.download into an HF cache) vs a plain
urllib loop fetching the same file from the same loopback Hub, in the same run.

    .venv/bin/python bench/download.py [--reps 3] [--file PATH]

Loopback only; the file defaults to the embedded model (98 MB). Our path includes the
SHA-256 check (the plain client does none), as a user's download does. Target >= 0.9x.
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

from inference.hub import choose_file, download, repo_files
from inference.library import embedded_model
from tests.inference.fake_hub import COMMIT, FakeHub

REPO, FILE = "bench/Model-GGUF", "model-Q4_1.gguf"


def plain(url: str, target: Path, verify: bool) -> None:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url) as response, target.open("wb") as sink:
        while block := response.read(1 << 20):
            if verify:
                digest.update(block)
            sink.write(block)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--file", type=Path, default=Path(embedded_model().path))
    args = parser.parse_args()
    size = args.file.stat().st_size
    ours, baseline, hashed = [], [], []
    with FakeHub() as hub, tempfile.TemporaryDirectory() as scratch:
        hub.add(REPO, {FILE: args.file})
        os.environ["HF_ENDPOINT"] = hub.url
        url = f"{hub.url}/{REPO}/resolve/{COMMIT}/{FILE}"
        for rep in range(args.reps):
            home = Path(scratch) / f"hf-{rep}"
            os.environ["HF_HOME"] = str(home)
            remote = choose_file(REPO, repo_files(REPO), FILE)
            start = time.perf_counter()
            download(remote)
            ours.append(time.perf_counter() - start)
            shutil.rmtree(home)
            target = Path(scratch) / "plain.bin"
            for verify, times in ((False, baseline), (True, hashed)):
                start = time.perf_counter()
                plain(url, target, verify)
                times.append(time.perf_counter() - start)
                target.unlink()
    mb = size / 1e6
    ours_s, base_s, hashed_s = (statistics.median(t) for t in (ours, baseline, hashed))
    print(f"file: {mb:.1f} MB, {args.reps} reps (median)")
    print(f"plain urllib:             {mb / base_s:8.1f} MB/s")
    print(f"plain urllib + SHA-256:   {mb / hashed_s:8.1f} MB/s")
    print(f"stillroom download:       {mb / ours_s:8.1f} MB/s (transfer + SHA-256 + fsync)")
    print(f"ratio vs plain:           {base_s / ours_s:.2f}x (target >= 0.9x)")
    print(f"ratio vs plain + SHA-256: {hashed_s / ours_s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
