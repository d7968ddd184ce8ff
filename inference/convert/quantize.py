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
from inference.models.gguf_file import GGUFError, read_summary

__all__ = ["QuantizeCancelled", "QuantizeError", "QuantizeJob", "QuantizeProgress",
           "QuantizeResult", "quantize"]

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
# Types llama.cpp refuses without an importance matrix, which we do not compute.
_NEEDS_IMATRIX = frozenset({"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "Q2_K_S"})


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


class QuantizeJob(ChildJob):
    """One quantization in a child process (see inference/convert/child_job.py)."""

    def __init__(self, source: str | Path, output: str | Path, type_name: str, *,
                 allow_requantize: bool = False,
                 on_progress: Callable[[QuantizeProgress], None] | None = None) -> None:
        self.source = Path(source).expanduser().resolve()
        self.output = Path(output).expanduser().resolve()
        self.type_name, self._ftype = resolve_type(type_name)
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
                str(self._ftype), "1" if self.allow_requantize else "0"]


def quantize(source: str | Path, output: str | Path, type_name: str, *,
             allow_requantize: bool = False,
             on_progress: Callable[[QuantizeProgress], None] | None = None) -> QuantizeResult:
    return QuantizeJob(source, output, type_name, allow_requantize=allow_requantize,
                       on_progress=on_progress).run()


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
