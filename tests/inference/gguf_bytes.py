"""GGUF headers as bytes, built by hand: the shapes gguf-py's writer will not produce
(arrays nested thousands deep, lengths that point past the end, absurd counts)."""

from __future__ import annotations

import struct

UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64 = 4, 5, 6, 7, 8, 9, 10
_FORMATS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", UINT32: "<I", INT32: "<i", FLOAT32: "<f",
            BOOL: "<?", UINT64: "<Q", 11: "<q", 12: "<d"}


def gguf_string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def scalar(value_type: int, value: object) -> bytes:
    return struct.pack("<I", value_type) + struct.pack(_FORMATS[value_type], value)


def string_value(text: str | bytes) -> bytes:
    return struct.pack("<I", STRING) + gguf_string(text)


def nested_array(depth: int) -> bytes:
    """An array of one array of one array ... `depth` deep, innermost empty (uint32)."""
    body = struct.pack("<IQ", UINT32, 0)
    for _ in range(depth - 1):
        body = struct.pack("<IQ", ARRAY, 1) + body
    return struct.pack("<I", ARRAY) + body


def header(kvs: list[tuple[str | bytes, bytes]], tensors: bytes = b"", tensor_count: int = 0,
           version: int = 3) -> bytes:
    """`kvs`: (key, value bytes starting with the value type)."""
    out = b"GGUF" + struct.pack("<IQQ", version, tensor_count, len(kvs))
    for key, value in kvs:
        out += gguf_string(key) + value
    return out + tensors


def tensor_info(name: str, dims: list[int], type_id: int = 0, offset: int = 0) -> bytes:
    return (gguf_string(name) + struct.pack("<I", len(dims))
            + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", type_id, offset))


def small_model(kvs: list[tuple[str, bytes]] | None = None) -> bytes:
    """A valid header with one F32 tensor of 4 floats, padded to 32 and followed by its data."""
    kvs = kvs if kvs is not None else [("general.architecture", string_value("llama")),
                                       ("llama.context_length", scalar(UINT32, 256))]
    head = header(kvs, tensor_info("token_embd.weight", [4]), tensor_count=1)
    return head + b"\0" * (-len(head) % 32) + b"\0" * 16
