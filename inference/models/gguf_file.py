"""Validate and describe a GGUF file without loading it into llama.cpp.

gguf-py's GGUFReader turns every vocabulary entry into a numpy array (seconds for a 49k
vocabulary), so we walk the header ourselves with struct and skip the large arrays, and take
only the format's tables (value types, tensor block sizes, file-type names) from gguf-py.
The result tells a truncated or foreign file apart from a good one in milliseconds.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
# Scalars we decode, by GGUF value-type id.
_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
    10: "<Q", 11: "<q", 12: "<d",
}
_STRING, _ARRAY = 8, 9


class GGUFError(ValueError):
    """The file is not a usable GGUF model; the message says why in plain words."""


class HeaderIncompleteError(GGUFError):
    """The bytes given end inside the header: more of the file is needed (remote reads)."""


@dataclass(frozen=True, slots=True)
class GGUFSummary:
    path: Path
    version: int
    size_bytes: int
    data_end: int
    architecture: str | None
    name: str | None
    file_type: str | None
    context_length: int | None
    chat_template: str | None
    size_label: str | None
    tensor_count: int
    parameter_count: int
    # Shape of the attention stack: what the KV cache costs per token of context.
    block_count: int | None = None
    embedding_length: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None


class _Cursor:
    def __init__(self, buffer: mmap.mmap | bytes | bytearray, path: Path,
                 complete: bool = True) -> None:
        self.buffer = buffer
        self.offset = 0
        self.path = path
        self.complete = complete  # False: the buffer is a prefix of a longer (remote) file

    def unpack(self, fmt: str) -> int | float | bool:
        try:
            (value,) = struct.unpack_from(fmt, self.buffer, self.offset)
        except struct.error as exc:
            raise self.truncated() from exc
        self.offset += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = int(self.unpack("<Q"))
        end = self.offset + length
        if end > len(self.buffer):
            raise self.truncated()
        raw = self.buffer[self.offset:end]
        self.offset = end
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = int(self.unpack("<Q"))
        self.offset += length
        if self.offset > len(self.buffer):
            raise self.truncated()

    def truncated(self) -> GGUFError:
        if not self.complete:
            return HeaderIncompleteError(
                f"{self.path.name}: the header goes on past the first {len(self.buffer):,} "
                f"bytes read")
        return GGUFError(
            f"{self.path.name} is truncated or corrupt: its header runs past the end of the "
            f"file ({len(self.buffer):,} bytes). Download it again."
        )


def _read_value(cursor: _Cursor, value_type: int, keep: bool) -> object:
    if value_type in _SCALARS:
        return cursor.unpack(_SCALARS[value_type])
    if value_type == _STRING:
        if keep:
            return cursor.string()
        cursor.skip_string()
        return None
    if value_type == _ARRAY:
        item_type = int(cursor.unpack("<I"))
        count = int(cursor.unpack("<Q"))
        if item_type in _SCALARS:
            cursor.offset += struct.calcsize(_SCALARS[item_type]) * count
            if cursor.offset > len(cursor.buffer):
                raise cursor.truncated()
            return None
        for _ in range(count):
            _read_value(cursor, item_type, keep=False)
        return None
    raise GGUFError(f"{cursor.path.name} has an unknown GGUF value type {value_type}; corrupt?")


def _tensor_bytes(type_id: int, dims: list[int], path: Path) -> int:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        block_size, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(type_id)]
    except (ValueError, KeyError) as exc:
        raise GGUFError(
            f"{path.name} uses tensor type {type_id}, unknown to this version of Stillroom."
        ) from exc
    elements = 1
    for dim in dims:
        elements *= dim
    return elements // block_size * type_size


def _file_type_name(file_type: object) -> str | None:
    if not isinstance(file_type, int):
        return None
    from gguf.constants import LlamaFileType

    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return f"type-{file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def read_summary(path: str | Path) -> GGUFSummary:
    """Parse the header and tensor table; raise GGUFError with a user-facing reason."""
    path = Path(path)
    if not path.exists():
        raise GGUFError(f"The model file {path} does not exist (moved or deleted?).")
    if not path.is_file():
        raise GGUFError(f"{path} is not a file.")
    size = path.stat().st_size
    if size < 24:
        raise GGUFError(f"{path.name} is {size} bytes: too small to be a model. Download it again.")
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return summarize(buf, path, size)


def summarize(buffer: mmap.mmap | bytes | bytearray, path: Path, size: int) -> GGUFSummary:
    """Describe a GGUF from its first bytes. `buffer` is the whole file or a prefix of it
    (a remote file read by ranges); `size` is the whole file's size. A prefix that ends
    inside the header raises HeaderIncompleteError, so the caller can fetch more."""
    if bytes(buffer[:4]) != GGUF_MAGIC:
        raise GGUFError(
            f"{path.name} is not a GGUF model (it starts with {bytes(buffer[:4])!r}, "
            f"not b'GGUF')."
        )
    cursor = _Cursor(buffer, path, complete=len(buffer) >= size)
    cursor.offset = 4
    version = int(cursor.unpack("<I"))
    if version not in (2, 3):
        raise GGUFError(f"{path.name} is GGUF version {version}; versions 2 and 3 are known.")
    tensor_count = int(cursor.unpack("<Q"))
    kv_count = int(cursor.unpack("<Q"))
    fields: dict[str, object] = {}
    for _ in range(kv_count):
        key = cursor.string()
        value_type = int(cursor.unpack("<I"))
        fields[key] = _read_value(cursor, value_type, keep=True)
    data_needed = 0
    parameters = 0
    for _ in range(tensor_count):
        cursor.skip_string()
        n_dims = int(cursor.unpack("<I"))
        dims = [int(cursor.unpack("<Q")) for _ in range(n_dims)]
        type_id = int(cursor.unpack("<I"))
        offset = int(cursor.unpack("<Q"))
        data_needed = max(data_needed, offset + _tensor_bytes(type_id, dims, path))
        count = 1
        for dim in dims:
            count *= dim
        parameters += count
    alignment = int(fields.get("general.alignment") or DEFAULT_ALIGNMENT)
    data_start = -(-cursor.offset // alignment) * alignment
    data_end = data_start + data_needed
    if data_end > size:
        raise GGUFError(
            f"{path.name} is truncated: its tensors need {data_end:,} bytes but the file has "
            f"{size:,}. The download was probably cut short; download it again."
        )
    architecture = fields.get("general.architecture")

    def arch_int(key: str) -> int | None:
        value = fields.get(f"{architecture}.{key}") if architecture else None
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    return GGUFSummary(
        path=path,
        version=version,
        size_bytes=size,
        data_end=data_end,
        architecture=architecture if isinstance(architecture, str) else None,
        name=_str_or_none(fields.get("general.name")),
        file_type=_file_type_name(fields.get("general.file_type")),
        context_length=arch_int("context_length"),
        chat_template=_str_or_none(fields.get("tokenizer.chat_template")),
        size_label=_str_or_none(fields.get("general.size_label")),
        tensor_count=tensor_count,
        parameter_count=parameters,
        block_count=arch_int("block_count"),
        embedding_length=arch_int("embedding_length"),
        head_count=arch_int("attention.head_count"),
        head_count_kv=arch_int("attention.head_count_kv"),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
