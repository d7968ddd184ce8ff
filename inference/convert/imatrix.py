"""Reading an importance matrix (imatrix) for llama.cpp's quantizer.

An importance matrix says, per weight tensor, how much each input column mattered on some
calibration text; the very-low-bit types (IQ1_*, IQ2_*, Q2_K_S) need one to be usable at
all. llama.cpp's `llama-imatrix` writes it in one of two formats, both read here:

- GGUF (its default since mid-2025): for each tensor NAME, a tensor `NAME.in_sum2`
  (float32, one row of n_per_row sums of squared activations per matrix; several matrices
  for MoE experts) and `NAME.counts` (float32, how many activations each matrix saw). The
  importance is in_sum2 / count; a matrix that saw nothing gets 1 (no preference).
- the legacy `.dat` file: int32 entry count, then per entry an int32 name length, the name,
  int32 ncall, int32 nval and nval float32 values, which are sums over ncall calls.

The result is what `llama_model_quantize` takes (llama_model_quantize_params.imatrix): a
C array of {name, data, size} entries ending in a NULL name.
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SUMS, _COUNTS = ".in_sum2", ".counts"
_MAX_NAME = 4096


class ImatrixError(ValueError):
    """An importance-matrix file that cannot be used, worded for the user."""


def read_imatrix(path: str | Path) -> dict[str, np.ndarray]:
    """Tensor name -> float32 importance per column; ImatrixError names the file and why."""
    path = Path(path).expanduser()
    try:
        with path.open("rb") as file:
            magic = file.read(4)
    except OSError as exc:
        raise ImatrixError(f"Cannot read the importance matrix {path}: "
                           f"{exc.strerror or exc}.") from exc
    entries = _read_gguf(path) if magic == b"GGUF" else _read_legacy(path)
    if not entries:
        raise ImatrixError(f"The importance matrix {path} holds no entries.")
    for name, values in entries.items():
        if not np.isfinite(values).all():
            raise ImatrixError(f"The importance matrix {path} has a value that is not a "
                               f"number for {name}; make it again with llama-imatrix.")
    return entries


def _read_gguf(path: Path) -> dict[str, np.ndarray]:
    from gguf import GGUFReader

    try:
        tensors = {tensor.name: tensor for tensor in GGUFReader(path).tensors}
    except (ValueError, OSError, struct.error) as exc:
        raise ImatrixError(f"The importance matrix {path} is not a readable GGUF file "
                           f"({exc}).") from exc
    entries: dict[str, np.ndarray] = {}
    for name, sums in tensors.items():
        if not name.endswith(_SUMS):
            continue
        base = name[: -len(_SUMS)]
        counts = tensors.get(base + _COUNTS)
        if counts is None:
            raise ImatrixError(f"The importance matrix {path} has {name} without "
                               f"{base}{_COUNTS}.")
        per_matrix = np.asarray(counts.data, dtype=np.float32).reshape(-1)
        values = np.asarray(sums.data, dtype=np.float32).reshape(len(per_matrix), -1)
        seen = per_matrix > 0
        importance = np.ones_like(values)
        importance[seen] = values[seen] / per_matrix[seen, None]
        entries[base] = importance.reshape(-1)
    if not entries:
        raise ImatrixError(f"{path} is a GGUF file but not an importance matrix (no "
                           f"'*{_SUMS}' tensors); a model file is not one.")
    return entries


def _read_legacy(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    reader = _Reader(data, path)
    count = reader.int32("the entry count")
    if count <= 0 or count > 1_000_000:
        raise ImatrixError(f"{path} is neither a GGUF nor a legacy .dat importance matrix.")
    entries: dict[str, np.ndarray] = {}
    for _ in range(count):
        length = reader.int32("a name length")
        if not 0 < length <= _MAX_NAME:
            raise ImatrixError(f"{path} is not an importance matrix (a name length of "
                               f"{length}).")
        name = reader.take(length, "a tensor name").decode("utf-8", errors="replace")
        calls = reader.int32(f"the call count of {name}")
        size = reader.int32(f"the value count of {name}")
        if size <= 0:
            raise ImatrixError(f"{path}: {name} has {size} values.")
        values = np.frombuffer(reader.take(4 * size, f"the values of {name}"),
                               dtype="<f4").astype(np.float32)
        entries[name] = values / calls if calls > 0 else values
    return entries


@dataclass
class _Reader:
    data: bytes
    path: Path
    offset: int = 0

    def take(self, size: int, what: str) -> bytes:
        end = self.offset + size
        if end > len(self.data):
            raise ImatrixError(f"The importance matrix {self.path} is truncated (in {what}).")
        chunk, self.offset = self.data[self.offset:end], end
        return chunk

    def int32(self, what: str) -> int:
        return struct.unpack("<i", self.take(4, what))[0]


def c_imatrix(entries: dict[str, np.ndarray], structure: type[ctypes.Structure]
              ) -> tuple[ctypes.Array, list[object]]:
    """The entries as a NULL-terminated C array of `structure` ({name, data, size}); the
    second value holds the buffers it points into, to be kept alive until the call ends."""
    keep: list[object] = []
    array = (structure * (len(entries) + 1))()
    for index, (name, values) in enumerate(entries.items()):
        buffer = np.ascontiguousarray(values, dtype=np.float32)
        encoded = name.encode("utf-8")
        keep += [buffer, encoded]
        array[index].name = encoded
        array[index].data = buffer.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        array[index].size = buffer.size
    array[len(entries)].name = None  # the end
    return array, keep
