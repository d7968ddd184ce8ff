"""Quantize a GGUF model with llama.cpp's own quantizer (llama_model_quantize).

The quantizer is one blocking C call that reports no progress and cannot be interrupted
from Python, so it runs in a child process (`python -m inference.convert.quantize ...`, see
inference/convert/child_job.py): cancelling terminates it, progress is the time elapsed and the
output's growth, and the output is a `.partial` file until llama.cpp reports success.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from inference.convert.child_job import (
    DISK_MARGIN_BYTES,
    ChildJob,
    QuantizeCancelled,
    QuantizeError,
    QuantizeProgress,
    QuantizeResult,
    check_free_space,
)
from inference.convert.imatrix import ImatrixError, c_imatrix, read_imatrix
from inference.convert.quant_types import NEEDS_IMATRIX, estimated_bytes, offered
from inference.models.gguf_file import GGUFError, read_summary

__all__ = ["QuantizeCancelled", "QuantizeError", "QuantizeJob", "QuantizeProgress",
           "QuantizeResult", "quantize"]

# File types a model can be quantized *from* without allow_requantize: full precision.
FULL_PRECISION_TYPES = frozenset({"F32", "F16", "BF16"})

def quantization_types(*, with_imatrix: bool = False) -> dict[str, int]:
    """The output types offered, by name (Q4_K_M -> its ftype id): those this llama.cpp
    build has and Stillroom knows the size of (inference.convert.quant_types); the ones that
    need an importance matrix only `with_imatrix`."""
    import llama_cpp

    available: dict[str, int] = {}
    for attr in dir(llama_cpp):
        match = re.fullmatch(r"LLAMA_FTYPE_(?:MOSTLY|ALL)_(\w+)", attr)
        if match:
            available[match.group(1)] = int(getattr(llama_cpp, attr))
    return {name: available[name]
            for name in offered(set(available), with_imatrix=with_imatrix)}


def resolve_type(name: str, *, with_imatrix: bool = False) -> tuple[str, int]:
    wanted = name.strip().upper()
    if wanted in NEEDS_IMATRIX and not with_imatrix:
        raise QuantizeError(
            f"{wanted} needs an importance matrix: give --imatrix FILE (made by llama.cpp's "
            f"llama-imatrix from text like yours). Without one, Q2_K or larger works.")
    types = quantization_types(with_imatrix=with_imatrix)
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
    """From the type's bits per weight (quant_types.BITS_PER_WEIGHT); 0 when unknown."""
    return estimated_bytes(parameters, type_name) or 0


class QuantizeJob(ChildJob):
    """One quantization in a child process (see inference/convert/child_job.py)."""

    def __init__(self, source: str | Path, output: str | Path, type_name: str, *,
                 allow_requantize: bool = False, imatrix: str | Path | None = None,
                 on_progress: Callable[[QuantizeProgress], None] | None = None) -> None:
        self.source = Path(source).expanduser().resolve()
        self.output = Path(output).expanduser().resolve()
        self.imatrix = Path(imatrix).expanduser().resolve() if imatrix else None
        self.type_name, self._ftype = resolve_type(type_name,
                                                   with_imatrix=self.imatrix is not None)
        self.allow_requantize = allow_requantize
        self.on_progress = on_progress
        self._source_bytes = 0
        self._init_job()
        self._check()

    def _check(self) -> None:
        try:
            summary = read_summary(self.source)
        except GGUFError as exc:
            raise QuantizeError(f"Cannot quantize: {exc}") from exc
        self._source_bytes = summary.size_bytes
        if self.imatrix is not None:
            try:  # read here too, so a bad file is one line before the child starts
                read_imatrix(self.imatrix)
            except ImatrixError as exc:
                raise QuantizeError(str(exc)) from exc
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
        check_free_space(self.output.parent, int(estimate * 1.25) + DISK_MARGIN_BYTES,
                         f"{self.type_name} file")

    def _command(self) -> list[str]:
        return ["inference.convert.quantize", str(self.source), str(self._partial),
                str(self._ftype), "1" if self.allow_requantize else "0",
                str(self.imatrix or "")]


def quantize(source: str | Path, output: str | Path, type_name: str, *,
             allow_requantize: bool = False, imatrix: str | Path | None = None,
             on_progress: Callable[[QuantizeProgress], None] | None = None) -> QuantizeResult:
    return QuantizeJob(source, output, type_name, allow_requantize=allow_requantize,
                       imatrix=imatrix, on_progress=on_progress).run()


def _child_main(argv: list[str]) -> int:
    """In the child process: one llama_model_quantize call; exit status 0 on success."""
    import ctypes

    import llama_cpp

    from inference.engines.llama_native import NativeLog

    NativeLog.install(llama_cpp)  # its errors say why a run failed; the status does not
    source, output, ftype, allow, imatrix = argv
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = int(ftype)
    params.allow_requantize = allow == "1"
    if imatrix:
        entries, _buffers = c_imatrix(read_imatrix(imatrix),  # kept alive through the call
                                      llama_cpp.llama_model_imatrix_data)
        params.imatrix = ctypes.cast(entries, ctypes.POINTER(llama_cpp.llama_model_imatrix_data))
    status = llama_cpp.llama_model_quantize(os.fsencode(source), os.fsencode(output),
                                            ctypes.byref(params))
    if status != 0:
        # The parent shows the last line: llama.cpp's reason ("Missing importance matrix
        # for tensor blk.0.ffn_down.weight ..."), else the bare status.
        marker = "failed to quantize: "
        reasons = [line.split(marker, 1)[1] for line in NativeLog.recent_errors
                   if marker in line]
        print(reasons[-1] if reasons else f"llama_model_quantize returned {status}",
              file=sys.stderr)
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
