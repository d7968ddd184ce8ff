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
_SCALAR_SIZES = {value_type: struct.calcsize(fmt) for value_type, fmt in _SCALARS.items()}
_STRING, _ARRAY = 8, 9
_U64 = struct.Struct("<Q")

# Limits no real model reaches, so that a hostile or broken header costs bounded time and
# memory and ends in one clear line. The largest vocabularies hold ~260k tokens and ~500k
# merges; chat templates are tens of KiB; headers are a few MiB; arrays nest once at most;
# models carry a few dozen keys and at most tens of thousands of tensors.
MAX_HEADER_BYTES = 64 << 20
MAX_STRING_BYTES = 16 << 20
MAX_ARRAY_ITEMS = 1 << 24
MAX_NESTING = 8            # arrays inside arrays, counting the outermost
MAX_INNER_ARRAYS = 1 << 16  # arrays inside arrays, in the whole header
MAX_ARRAY_STRINGS = 1 << 22  # strings inside arrays, in the whole header (tokens, merges)
MAX_KEYS = 1 << 16
MAX_TENSORS = 1 << 17
MAX_DIMS = 4               # GGML_MAX_DIMS
MAX_ALIGNMENT = 1 << 20
# The attention shape the fit estimate reads: (key, smallest, largest) of a real model.
_SHAPE_RANGES = (("context_length", 1, 1 << 30), ("block_count", 1, 1 << 16),
                 ("embedding_length", 1, 1 << 20), ("attention.head_count", 0, 1 << 16),
                 ("attention.head_count_kv", 0, 1 << 16))


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


def _shown(text: str, limit: int = 60) -> str:
    """A name from the file, quoted, on one printable line."""
    clean = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return f"'{clean}{'...' if len(text) > limit else ''}'"


class _Cursor:
    """Reads the header front to back, never past MAX_HEADER_BYTES; every fault names the
    field being read (`what`)."""

    def __init__(self, buffer: mmap.mmap | bytes | bytearray, path: Path,
                 complete: bool = True) -> None:
        self.buffer = buffer
        self.offset = 0
        self.path = path
        self.name = _shown(path.name, 120)[1:-1]
        self.complete = complete  # False: the buffer is a prefix of a longer (remote) file
        self.inner_arrays = 0
        self.array_strings = 0

    def corrupt(self, why: str) -> GGUFError:
        return GGUFError(f"{self.name} is corrupt: {why}.")

    def take(self, count: int, what: str) -> int:
        """Move past `count` bytes; return where they start."""
        start, end = self.offset, self.offset + count
        if end > len(self.buffer) and self.complete:
            raise GGUFError(f"{self.name} is truncated or corrupt: its header runs past the "
                            f"end of the file ({len(self.buffer):,} bytes) in {what}. Download "
                            f"it again.")
        if end > MAX_HEADER_BYTES:
            raise self.corrupt(f"{what} takes its header to more than "
                               f"{MAX_HEADER_BYTES >> 20} MiB, larger than any model's")
        if end > len(self.buffer):
            raise HeaderIncompleteError(f"{self.name}: the header goes on past the first "
                                        f"{len(self.buffer):,} bytes read")
        self.offset = end
        return start

    def unpack(self, fmt: str, what: str) -> int | float | bool:
        start = self.take(struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.buffer, start)[0]

    def count(self, what: str, limit: int, fmt: str = "<Q") -> int:
        value = int(self.unpack(fmt, what))
        if value > limit:
            raise self.corrupt(f"{what} is {value:,}; no model has more than {limit:,}")
        return value

    def string(self, what: str, limit: int = MAX_STRING_BYTES) -> str:
        length = self.count(f"the length of {what}", limit)
        start = self.take(length, f"{what} (a {length:,}-byte string)")
        return bytes(self.buffer[start:self.offset]).decode("utf-8", errors="replace")

    def skip_strings(self, count: int, what: str) -> None:
        """Skip `count` strings: the vocabulary's loop, so kept to plain integer steps."""
        self.array_strings += count
        if self.array_strings > MAX_ARRAY_STRINGS:
            raise self.corrupt(f"{what} takes the header's strings in arrays past "
                               f"{MAX_ARRAY_STRINGS:,}, more than any model has")
        buffer, offset, unpack = self.buffer, self.offset, _U64.unpack_from
        end = min(len(buffer), MAX_HEADER_BYTES)
        for _ in range(count):
            if offset + 8 > end:
                break
            (length,) = unpack(buffer, offset)
            if length > MAX_STRING_BYTES or offset + 8 + length > end:
                break
            offset += 8 + length
        else:
            self.offset = offset
            return
        self.offset = offset  # the string that does not fit: let take() say why
        self.string(f"a string in {what}")
        raise AssertionError("unreachable: the string above cannot fit")  # pragma: no cover

    def skip_array(self, what: str) -> None:
        """Skip an array value, nested arrays included, with a stack instead of recursion:
        [item type, items left] per open array."""
        open_arrays = [self.array_header(what)]
        while open_arrays:
            item_type, left = open_arrays[-1]
            if item_type == _ARRAY and left:
                open_arrays[-1][1] -= 1
                self.inner_arrays += 1
                if len(open_arrays) >= MAX_NESTING:
                    raise self.corrupt(f"{what} nests arrays more than {MAX_NESTING} levels "
                                       f"deep")
                if self.inner_arrays > MAX_INNER_ARRAYS:
                    raise self.corrupt(f"its header holds more than {MAX_INNER_ARRAYS:,} "
                                       f"arrays inside arrays")
                open_arrays.append(self.array_header(what))
                continue
            open_arrays.pop()
            if item_type in _SCALAR_SIZES:
                self.take(_SCALAR_SIZES[item_type] * left, f"{what} ({left:,} items)")
            elif item_type == _STRING:
                self.skip_strings(left, what)

    def array_header(self, what: str) -> list[int]:
        item_type = int(self.unpack("<I", f"the item type of {what}"))
        if item_type not in _SCALARS and item_type not in (_STRING, _ARRAY):
            raise self.corrupt(f"{what} is an array of unknown GGUF value type {item_type}")
        count = int(self.unpack("<Q", f"the length of {what}"))
        if count > MAX_ARRAY_ITEMS:
            raise self.corrupt(f"{what} holds an array of {count:,} items; no model has more "
                               f"than {MAX_ARRAY_ITEMS:,}")
        return [item_type, count]


def _read_value(cursor: _Cursor, value_type: int, what: str) -> object:
    """A key's value: scalars and strings decoded, arrays skipped (None)."""
    if value_type in _SCALARS:
        return cursor.unpack(_SCALARS[value_type], what)
    if value_type == _STRING:
        return cursor.string(what)
    if value_type == _ARRAY:
        cursor.skip_array(what)
        return None
    raise cursor.corrupt(f"{what} has unknown GGUF value type {value_type}")


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
    version = int(cursor.unpack("<I", "the version"))
    if version not in (2, 3):
        raise GGUFError(f"{cursor.name} is GGUF version {version}; versions 2 and 3 are "
                        f"known.")
    tensor_count = cursor.count("the tensor count", MAX_TENSORS)
    kv_count = cursor.count("the key-value count", MAX_KEYS)
    fields: dict[str, object] = {}
    for index in range(kv_count):
        key = cursor.string(f"key #{index + 1}", limit=65535)  # the format's limit for keys
        what = f"the value of {_shown(key)}"
        value_type = int(cursor.unpack("<I", f"the value type of {_shown(key)}"))
        fields[key] = _read_value(cursor, value_type, what)
    data_needed = 0
    parameters = 0
    for index in range(tensor_count):
        name = _shown(cursor.string(f"the name of tensor #{index + 1}", limit=65535))
        n_dims = int(cursor.unpack("<I", f"the dimension count of tensor {name}"))
        if n_dims > MAX_DIMS:
            raise cursor.corrupt(f"tensor {name} has {n_dims} dimensions; GGUF allows at "
                                 f"most {MAX_DIMS}")
        dims = [int(cursor.unpack("<Q", f"the shape of tensor {name}")) for _ in range(n_dims)]
        type_id = int(cursor.unpack("<I", f"the type of tensor {name}"))
        offset = int(cursor.unpack("<Q", f"the offset of tensor {name}"))
        data_needed = max(data_needed, offset + _tensor_bytes(type_id, dims, path))
        count = 1
        for dim in dims:
            count *= dim
        parameters += count
    alignment = _alignment(cursor, fields.get("general.alignment"))
    data_start = -(-cursor.offset // alignment) * alignment
    data_end = data_start + data_needed
    if data_end > size:
        raise GGUFError(
            f"{cursor.name} is truncated: its tensors need {data_end:,} bytes but the file has "
            f"{size:,}. The download was probably cut short; download it again."
        )
    architecture = fields.get("general.architecture")

    def arch_int(key: str) -> int | None:
        value = fields.get(f"{architecture}.{key}") if architecture else None
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        low, high = next((lo, hi) for name, lo, hi in _SHAPE_RANGES if name == key)
        if not low <= value <= high:
            raise cursor.corrupt(f"{_shown(f'{architecture}.{key}')} is {value:,}; a model's "
                                 f"is between {low:,} and {high:,}")
        return value

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


def _alignment(cursor: _Cursor, value: object) -> int:
    """general.alignment: a power of two (as llama.cpp requires), 32 when absent."""
    if value is None:
        return DEFAULT_ALIGNMENT
    if (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ALIGNMENT
            or value & (value - 1)):
        raise cursor.corrupt(f"'general.alignment' is {value!r:.40}; it must be a power of two "
                             f"up to {MAX_ALIGNMENT:,}")
    return value


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
