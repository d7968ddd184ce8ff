"""Quantize a GGUF model with llama.cpp's own quantizer (llama_model_quantize).

The quantizer is one blocking C call that reports no progress and cannot be interrupted
from Python, so it runs in a child process (`python -m inference.quantize ...`): cancelling
terminates that process, and progress is what can honestly be observed from outside — the
time elapsed and how far the output file has grown. The output is written to a `.partial`
file and renamed only when llama.cpp reports success, so a cancelled, failed or killed run
never leaves a file that looks finished.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference.gguf_file import GGUFError, read_summary
from inference.types import EngineError

# File types a model can be quantized *from* without allow_requantize: full precision.
FULL_PRECISION_TYPES = frozenset({"F32", "F16", "BF16"})

# Approximate bits per weight of each output type, for the free-disk check before a run.
# Small tensors fall back to wider types, so the estimate is padded where it is used.
_BITS_PER_WEIGHT = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.6, "Q5_K_M": 5.7,
    "Q5_K_S": 5.5, "Q5_1": 6.0, "Q5_0": 5.5, "Q4_K_M": 4.9, "Q4_K_S": 4.6, "Q4_1": 5.0,
    "Q4_0": 4.5, "Q3_K_L": 4.3, "Q3_K_M": 3.9, "Q3_K_S": 3.5, "Q2_K": 3.4, "Q2_K_S": 3.0,
    "IQ4_NL": 4.5, "IQ4_XS": 4.3,
}
_DISK_MARGIN_BYTES = 64 * 1024 * 1024
# Types llama.cpp refuses without an importance matrix, which we do not compute.
_NEEDS_IMATRIX = frozenset({"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "Q2_K_S"})


class QuantizeError(EngineError):
    """A quantization that cannot start or did not finish; the message says why."""


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


def quantization_types() -> dict[str, int]:
    """Every output type this llama.cpp build offers, by name (Q4_K_M -> its ftype id)."""
    import llama_cpp

    types: dict[str, int] = {}
    for attr in dir(llama_cpp):
        match = re.fullmatch(r"LLAMA_FTYPE_(?:MOSTLY|ALL)_(\w+)", attr)
        if match and match.group(1) not in _NEEDS_IMATRIX:
            types[match.group(1)] = int(getattr(llama_cpp, attr))
    return types


def resolve_type(name: str) -> tuple[str, int]:
    types = quantization_types()
    wanted = name.strip().upper()
    if wanted not in types:
        raise QuantizeError(f"Unknown quantization type '{name}'. Valid types: "
                            f"{', '.join(sorted(types))}.")
    return wanted, types[wanted]


def default_output_path(source: Path, type_name: str, directory: Path) -> Path:
    """<model name without its old type>.<TYPE>.gguf in `directory`."""
    stem = re.sub(r"[.\-_](?:I?Q\d\w*|[BF]F?\d+|F32|F16|BF16)$", "", source.stem,
                  flags=re.IGNORECASE)
    return directory / f"{stem}.{type_name}.gguf"


def estimated_output_bytes(parameters: int, type_name: str) -> int:
    bits = _BITS_PER_WEIGHT.get(type_name, 16.0)
    return int(parameters * bits / 8)


class QuantizeJob:
    """One quantization in a child process, watched by a worker thread.

    start() returns at once; progress callbacks come from the worker thread; wait()
    returns the result or raises QuantizeError / QuantizeCancelled.
    """

    POLL_INTERVAL_S = 0.25

    def __init__(self, source: str | Path, output: str | Path, type_name: str, *,
                 allow_requantize: bool = False,
                 on_progress: Callable[[QuantizeProgress], None] | None = None) -> None:
        self.source = Path(source).expanduser().resolve()
        self.output = Path(output).expanduser().resolve()
        self.type_name, self._ftype = resolve_type(type_name)
        self.allow_requantize = allow_requantize
        self.on_progress = on_progress
        self._partial = self.output.with_name(self.output.name + ".partial")
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._cancelled = threading.Event()
        self._result: QuantizeResult | None = None
        self._error: QuantizeError | None = None
        self._source_bytes = 0
        self._check()

    def _check(self) -> None:
        try:
            summary = read_summary(self.source)
        except GGUFError as exc:
            raise QuantizeError(f"Cannot quantize: {exc}") from exc
        self._source_bytes = summary.size_bytes
        current = summary.file_type or "unknown"
        if current not in FULL_PRECISION_TYPES and not self.allow_requantize:
            raise QuantizeError(
                f"{self.source.name} is already quantized ({current}); quantizing it again "
                f"loses more quality than quantizing the F16/BF16/F32 original. Use that, or "
                f"pass --allow-requantize.")
        if self.output == self.source:
            raise QuantizeError("The output path is the source file; choose another.")
        if self.output.exists():
            raise QuantizeError(f"{self.output} already exists; remove it or choose --output.")
        self.output.parent.mkdir(parents=True, exist_ok=True)
        estimate = estimated_output_bytes(summary.parameter_count, self.type_name)
        needed = int(estimate * 1.25) + _DISK_MARGIN_BYTES
        free = shutil.disk_usage(self.output.parent).free
        if free < needed:
            raise QuantizeError(
                f"Not enough disk space in {self.output.parent}: the {self.type_name} file "
                f"needs about {needed / 1e6:,.0f} MB, {free / 1e6:,.0f} MB are free.")

    # -- running -------------------------------------------------------------------------
    def start(self) -> QuantizeJob:
        self._partial.unlink(missing_ok=True)
        # llama.cpp logs every tensor to stderr; keep it in a file for the error message.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the watcher thread)
        self._started = time.monotonic()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "inference.quantize", str(self.source), str(self._partial),
             str(self._ftype), "1" if self.allow_requantize else "0"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
            # Its own process group: a Ctrl-C in the terminal reaches us, and we decide.
            start_new_session=True,
        )
        self._thread = threading.Thread(target=self._watch, name="quantize", daemon=True)
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

    def _report(self) -> None:
        if self.on_progress is None:
            return
        try:
            written = self._partial.stat().st_size
        except FileNotFoundError:
            written = 0
        self.on_progress(QuantizeProgress(time.monotonic() - self._started, written,
                                          self._source_bytes))

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
                self._error = QuantizeCancelled("Quantization cancelled; nothing was kept.")
            elif code != 0:
                self._error = QuantizeError(self._failure_message(code))
            else:
                self._report()
                self._partial.replace(self.output)
                self._result = QuantizeResult(self.output, self.type_name,
                                              self.output.stat().st_size, elapsed)
        finally:
            if self._result is None:
                self._partial.unlink(missing_ok=True)
            self._log.close()

    def _failure_message(self, code: int) -> str:
        self._log.seek(0)
        log = self._log.read().decode("utf-8", errors="replace")
        free = shutil.disk_usage(self.output.parent).free
        if "No space left" in log or free < _DISK_MARGIN_BYTES:
            return (f"Quantization failed: the disk holding {self.output.parent} is full "
                    f"({free / 1e6:,.0f} MB free). Free some space and try again.")
        lines = [line for line in log.splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else f"exit code {code}"
        return f"llama.cpp could not quantize {self.source.name} to {self.type_name}: {detail}"


def quantize(source: str | Path, output: str | Path, type_name: str, *,
             allow_requantize: bool = False,
             on_progress: Callable[[QuantizeProgress], None] | None = None) -> QuantizeResult:
    job = QuantizeJob(source, output, type_name, allow_requantize=allow_requantize,
                      on_progress=on_progress)
    job.start()
    try:
        return job.wait()
    except BaseException:
        job.cancel()  # a KeyboardInterrupt here must not leave the child running
        raise


def _child_main(argv: list[str]) -> int:
    """In the child process: one llama_model_quantize call; exit status 0 on success."""
    import ctypes

    import llama_cpp

    source, output, ftype, allow = argv
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = int(ftype)
    params.allow_requantize = allow == "1"
    status = llama_cpp.llama_model_quantize(os.fsencode(source), os.fsencode(output),
                                            ctypes.byref(params))
    if status != 0:
        print(f"llama_model_quantize returned {status}", file=sys.stderr)
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
