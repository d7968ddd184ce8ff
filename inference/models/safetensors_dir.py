"""Hugging Face / MLX model directories: validation and description, without loading them.

An MLX model (what `mlx_lm.convert` writes) and a Hugging Face checkpoint have the same shape:
a directory with config.json, one or more *.safetensors files and the tokenizer files. This
module is their counterpart of gguf_file.py: it reads config.json and each safetensors header
(8-byte length + JSON tensor table), so a truncated download or a directory without weights
is refused with a reason before anything is loaded. Pure Python: mlx is not needed here.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from inference.engines.types import EngineError
from inference.files import sha256_file

_MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors format's own limit
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tiktoken.model")
_DTYPE_LABELS = {"bfloat16": "bf16", "float16": "f16", "float32": "f32"}


class ModelDirError(EngineError):
    """A directory that is not a usable model; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class ModelDirSummary:
    path: Path
    architecture: str | None  # config.json model_type: "llama", "qwen2", ...
    quantization: str | None  # "4bit" for an MLX-quantized model, else the dtype ("bf16")
    context_length: int | None
    parameter_count: int | None
    size_bytes: int  # every file of the model together
    files: tuple[Path, ...]  # every file of the model (the integrity hash covers them all)
    weight_files: tuple[Path, ...]
    mlx_native: bool  # written by MLX (safetensors metadata format "mlx"), not a HF checkpoint


def read_model_dir(path: str | Path) -> ModelDirSummary:
    """Check a model directory's config and safetensors headers; raise ModelDirError."""
    path = Path(path)
    if not path.exists():
        raise ModelDirError(f"The model directory {path} does not exist (moved or deleted?).")
    if not path.is_dir():
        raise ModelDirError(f"{path} is not a directory.")
    config = read_config(path)
    weights = tuple(sorted(path.glob("*.safetensors")))
    if not weights:
        raise ModelDirError(
            f"{path.name} has no .safetensors weights. Only safetensors checkpoints are "
            f"supported (not PyTorch .bin files).")
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise ModelDirError(f"{path.name} has no tokenizer (tokenizer.json or "
                            f"tokenizer.model); copy the tokenizer files from its source.")
    headers = [_read_header(file) for file in weights]
    files = tuple(sorted(p for p in path.iterdir()
                         if p.is_file() and not p.name.startswith(".")))
    text_config = config.get("text_config") or {}
    quant = _quantization(config)
    return ModelDirSummary(
        path=path,
        architecture=config.get("model_type") or text_config.get("model_type"),
        quantization=quant,
        context_length=config.get("max_position_embeddings")
        or text_config.get("max_position_embeddings"),
        parameter_count=_parameter_count(path, headers, quant),
        size_bytes=sum(p.stat().st_size for p in files),
        files=files,
        weight_files=weights,
        mlx_native=all(h.get("__metadata__", {}).get("format") == "mlx" for h in headers),
    )


def read_config(path: Path) -> dict:
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ModelDirError(f"{path} has no config.json: it is not a Hugging Face or MLX "
                            f"model directory.")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelDirError(f"{config_path} is not valid JSON ({exc}).") from exc
    if not isinstance(config, dict):
        raise ModelDirError(f"{config_path} is not a JSON object.")
    return config


def manifest_sha256(files: tuple[Path, ...]) -> str:
    """One hash for a directory model: SHA-256 over `sha256sum`-style lines of its files,
    so any changed, added or removed file changes it."""
    lines = "".join(f"{sha256_file(p)}  {p.name}\n" for p in sorted(files, key=lambda p: p.name))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def quantization_bits(config: dict) -> int | None:
    section = config.get("quantization") or config.get("quantization_config") or {}
    bits = section.get("bits") if isinstance(section, dict) else None
    return int(bits) if isinstance(bits, int | float) else None


def _quantization(config: dict) -> str | None:
    bits = quantization_bits(config)
    if bits is not None:
        return f"{bits}bit"
    dtype = config.get("torch_dtype") or config.get("dtype")
    return _DTYPE_LABELS.get(dtype, dtype) if isinstance(dtype, str) else None


def _read_header(file: Path) -> dict:
    """The JSON tensor table of one safetensors file, after checking the file is whole."""
    size = file.stat().st_size
    with file.open("rb") as stream:
        head = stream.read(8)
        if len(head) < 8:
            raise ModelDirError(f"{file.name} is {size} bytes: too small to be safetensors.")
        (length,) = struct.unpack("<Q", head)
        if length > min(_MAX_HEADER_BYTES, size - 8):
            raise ModelDirError(f"{file.name} is not a safetensors file (or is truncated).")
        try:
            header = json.loads(stream.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelDirError(f"{file.name} has a damaged safetensors header.") from exc
    ends = [entry["data_offsets"][1] for name, entry in header.items()
            if name != "__metadata__"]
    expected = 8 + length + max(ends, default=0)
    if size < expected:
        raise ModelDirError(f"{file.name} is truncated: {size:,} bytes of {expected:,}. "
                            f"Download or convert it again.")
    return header


def _parameter_count(path: Path, headers: list[dict], quant: str | None) -> int | None:
    """Weights as the model counts them: MLX's own index says so when present; otherwise
    the tensor shapes, with packed quantized weights (uint32 holding 32/bits values each)
    unpacked and their scales and biases left out."""
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            total = json.loads(index.read_text(encoding="utf-8"))["metadata"]["total_parameters"]
            return int(total)
        except (KeyError, TypeError, ValueError):
            pass
    bits = int(quant[:-3]) if quant and quant.endswith("bit") else None
    names = {name for header in headers for name in header}
    count = 0
    for header in headers:
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            stem = name.rsplit(".", 1)[0]
            packed = bits is not None and f"{stem}.scales" in names
            if packed and name.endswith((".scales", ".biases")):
                continue
            elements = math.prod(entry["shape"])
            count += elements * 32 // bits if packed and entry["dtype"] == "U32" else elements
    return count or None
