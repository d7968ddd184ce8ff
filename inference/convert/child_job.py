"""A model conversion in a child process, watched by a worker thread.

llama.cpp's quantizer and mlx_lm.convert are long blocking calls that report no progress
and cannot be interrupted from Python; a cancel must free their memory at once. So each
runs in a child process (`python -m <module> ...`): cancelling terminates it, progress is
what can honestly be seen from outside (time elapsed, how far the output has grown), and the
output goes to a `.partial` path renamed only on success, so a cancelled, failed or killed
run never leaves something that looks finished.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference.engines.types import EngineError

DISK_MARGIN_BYTES = 64 * 1024 * 1024
_REPO_ROOT = Path(__file__).resolve().parents[2]


class QuantizeError(EngineError):
    """A quantization or conversion that cannot start or did not finish; the message says
    why."""


class QuantizeCancelled(QuantizeError):
    pass


@dataclass(frozen=True, slots=True)
class QuantizeProgress:
    elapsed_s: float
    output_bytes: int
    source_bytes: int


@dataclass(frozen=True, slots=True)
class QuantizeResult:
    path: Path
    type: str
    size_bytes: int
    elapsed_s: float


def path_bytes(path: Path) -> int:
    """The size of a file, or of the files directly in a directory; 0 when it is missing."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def check_free_space(directory: Path, needed: int, what: str) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise QuantizeError(f"Not enough disk space in {directory}: the {what} needs about "
                            f"{needed / 1e6:,.0f} MB, {free / 1e6:,.0f} MB are free.")


class ChildJob:
    """start() returns at once; progress callbacks come from the worker thread; wait()
    returns the result or raises QuantizeError / QuantizeCancelled.

    Subclasses set `source`, `output`, `type_name`, `on_progress` and `_source_bytes`, and
    name their child: `_command()` (arguments after `python -m`), `_environment()`, and
    `_failure_detail(last_line)` for the message of a failed run.
    """

    POLL_INTERVAL_S = 0.25
    NOUN = "Quantization"  # "Quantization cancelled; nothing was kept."
    TOOL = "llama.cpp"     # "<TOOL> could not <VERB> <source> to <type>: ..."
    VERB = "quantize"

    source: Path
    output: Path
    type_name: str
    on_progress: Callable[[QuantizeProgress], None] | None
    _source_bytes: int

    def _init_job(self) -> None:
        self._partial = self.output.with_name(self.output.name + ".partial")
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._cancelled = threading.Event()
        self._result: QuantizeResult | None = None
        self._error: QuantizeError | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _environment(self) -> dict[str, str] | None:
        return None  # inherit ours

    def _failure_detail(self, last_line: str) -> str:
        return last_line

    # -- running -------------------------------------------------------------------------
    def start(self) -> ChildJob:
        self._remove_partial()
        # The tools log to stderr; keep it in a file for the error message.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the watcher thread)
        self._started = time.monotonic()
        self._process = subprocess.Popen(
            [sys.executable, "-m", *self._command()],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=self._environment(), cwd=_REPO_ROOT,
            # Its own process group: a Ctrl-C in the terminal reaches us, and we decide.
            start_new_session=True,
        )
        self._thread = threading.Thread(target=self._watch, name=self.VERB, daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancelled.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    def wait(self) -> QuantizeResult:
        if self._thread is None:
            self.start()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def run(self) -> QuantizeResult:
        """Start, wait, and on any interruption (Ctrl-C) stop the child before raising."""
        self.start()
        try:
            return self.wait()
        except BaseException:
            self.cancel()
            raise

    def _remove_partial(self) -> None:
        if self._partial.is_dir():
            shutil.rmtree(self._partial, ignore_errors=True)
        else:
            self._partial.unlink(missing_ok=True)

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(QuantizeProgress(time.monotonic() - self._started,
                                              path_bytes(self._partial), self._source_bytes))

    def _watch(self) -> None:
        process = self._process
        assert process is not None
        try:
            while True:
                try:
                    code = process.wait(timeout=self.POLL_INTERVAL_S)
                    break
                except subprocess.TimeoutExpired:
                    self._report()
            elapsed = time.monotonic() - self._started
            if self._cancelled.is_set():
                self._error = QuantizeCancelled(f"{self.NOUN} cancelled; nothing was kept.")
            elif code != 0:
                self._error = QuantizeError(self._failure_message(code))
            else:
                self._report()
                self._partial.replace(self.output)
                self._result = QuantizeResult(self.output, self.type_name,
                                              path_bytes(self.output), elapsed)
        finally:
            if self._result is None:
                self._remove_partial()
            self._log.close()

    def _failure_message(self, code: int) -> str:
        self._log.seek(0)
        log = self._log.read().decode("utf-8", errors="replace")
        free = shutil.disk_usage(self.output.parent).free
        if "No space left" in log or free < DISK_MARGIN_BYTES:
            return (f"{self.NOUN} failed: the disk holding {self.output.parent} is full "
                    f"({free / 1e6:,.0f} MB free). Free some space and try again.")
        lines = [line.strip() for line in log.splitlines() if line.strip()]
        detail = self._failure_detail(lines[-1]) if lines else f"exit code {code}"
        return (f"{self.TOOL} could not {self.VERB} {self.source.name} to {self.type_name}: "
                f"{detail}")


def child_environment(**overrides: str) -> dict[str, str]:
    return {**os.environ, **overrides}
