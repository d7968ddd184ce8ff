"""Driving `stillroom docs` as a user would: real subprocesses over a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO_ROOT, run_cli

# Short answers keep the end-to-end jobs quick on a shared CPU; greedy and seeded, so a
# document gets the same answer in every run.
FAST = ("--template", "summary", "--max-tokens", "6", "--temperature", "0", "--seed", "7")


def rows(home: Path, query: str, *params: object) -> list[tuple]:
    with sqlite3.connect(home / "stillroom.db", timeout=30) as connection:
        return connection.execute(query, params).fetchall()


def start_job(home: Path, folder: Path, *args: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "STILLROOM_HOME": str(home)}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        environment.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "docs", "run", str(folder), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env=environment, cwd=REPO_ROOT)


def done_count(home: Path) -> int:
    if not (home / "stillroom.db").exists():
        return 0
    try:
        return rows(home, "SELECT count(*) FROM document_job_items WHERE status = 'done'")[0][0]
    except sqlite3.OperationalError:  # the schema is still being created
        return 0


def wait_for_done(home: Path, process: subprocess.Popen[str], at_least: int) -> int:
    """Poll the ledger until `at_least` results are in; no time limit of our own (the
    process ending first is the failure)."""
    while True:
        count = done_count(home)
        if count >= at_least:
            return count
        assert process.poll() is None, f"the job ended first: {process.communicate()}"
        time.sleep(0.05)


def results(home: Path) -> dict[str, str]:
    """{file name: result JSON} of the current documents of the only job."""
    return {Path(path).name: result for path, result in rows(
        home, "SELECT path, result FROM document_job_items WHERE status != 'replaced'")}


def only_job(home: Path) -> str:
    (job,) = rows(home, "SELECT id FROM document_jobs")
    return job[0]


def docs(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300):
    """`timeout` only stops a hung process from holding the run for ever: a long structured
    answer on a shared CPU is slow, and the assertion is about the result, not the time."""
    return run_cli("docs", *args, home=home, env=env, timeout=timeout)
