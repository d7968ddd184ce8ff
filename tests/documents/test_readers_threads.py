"""The readers' registry is filled on first use; a job reads several documents at once, so
the first reads of a fresh process may come from several threads together."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

SCRIPT = """
import sys, threading
from pathlib import Path
from app.documents.readers import read_document

paths = [Path(p) for p in sys.argv[1:]]
start = threading.Barrier(len(paths))
statuses = {}

def read(path):
    start.wait()  # every thread asks before any registration can have finished
    statuses[path.name] = read_document(path).status

threads = [threading.Thread(target=read, args=(path,)) for path in paths]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sorted(statuses.items()))
"""


def test_the_first_reads_of_a_process_from_several_threads_all_find_their_reader(
        tmp_path: Path) -> None:
    paths = []
    for index in range(6):
        path = tmp_path / f"note-{index}.txt"
        path.write_text(f"Note {index}: the delivery is late.", encoding="utf-8")
        paths.append(str(path))
    # A fresh process: the registry is empty until the first read fills it.
    done = subprocess.run([sys.executable, "-c", SCRIPT, *paths], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([(f"note-{i}.txt", "read") for i in range(6)])
