"""Fuzzing the GGUF header reader with hypothesis: whatever the bytes, it returns a
description or raises GGUFError with one line, never another exception. The reader's limits
(inference.models.gguf_file) keep each run bounded; the runs are bounded by max_examples and
derandomized, so the suite takes the same path every time."""

import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference.models.gguf_file import GGUFError, GGUFSummary, HeaderIncompleteError, summarize
from tests.inference.gguf_bytes import (
    ARRAY,
    STRING,
    gguf_string,
    header,
    nested_array,
    tensor_info,
)

FUZZ = settings(max_examples=200, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_KEYS = ["general.architecture", "general.alignment", "general.name", "general.file_type",
         "llama.context_length", "llama.block_count", "llama.embedding_length",
         "llama.attention.head_count", "llama.attention.head_count_kv",
         "tokenizer.chat_template", "tokenizer.ggml.tokens"]

# A value as (value type, its bytes after the type tag).
_scalars = st.sampled_from(sorted(_SCALAR_SIZES)).flatmap(
    lambda kind: st.binary(min_size=_SCALAR_SIZES[kind], max_size=_SCALAR_SIZES[kind])
    .map(lambda raw: (kind, raw)))
_strings = st.one_of(st.text(max_size=12), st.sampled_from(["llama", "qwen2", ""])).map(
    lambda text: (STRING, gguf_string(text)))


def _arrays(items: st.SearchStrategy[tuple[int, bytes]]) -> st.SearchStrategy[tuple[int, bytes]]:
    return st.tuples(items, st.integers(0, 4)).map(
        lambda pair: (ARRAY, struct.pack("<IQ", pair[0][0], pair[1]) + pair[0][1] * pair[1]))


# Arrays nested up to thousands deep: a recursive reader runs out of stack on them.
_deep = st.integers(1, 3000).map(lambda depth: (ARRAY, nested_array(depth)[4:]))
_plain = st.recursive(st.one_of(_scalars, _strings), _arrays, max_leaves=12)
_values = st.integers(0, 9).flatmap(lambda n: _deep if n == 0 else _plain)  # deep: 1 in 10
_kvs = st.lists(st.tuples(st.one_of(st.sampled_from(_KEYS), st.text(max_size=10)), _values),
                max_size=8)
# Mostly small tensors, so that the data after the header (TENSOR_DATA) holds them and the
# reader goes on to the summary's own checks; sometimes absurd ones.
_tensors = st.lists(st.tuples(st.text(max_size=8),
                              st.lists(st.integers(0, 16) | st.integers(0, 1 << 62),
                                       max_size=5),
                              st.sampled_from([0, 1, 2, 8, 12, 99, 1 << 31]),
                              st.sampled_from([0, 32, 4096]) | st.integers(0, 1 << 63)),
                    max_size=3)
TENSOR_DATA = b"\0" * (1 << 18)


@st.composite
def _headers(draw: st.DrawFn) -> bytes:
    """A well-formed header, then maybe damaged: cut short, bytes flipped, or a large
    number written over some field."""
    kvs = [(key, struct.pack("<I", kind) + raw) for key, (kind, raw) in draw(_kvs)]
    tensors = draw(_tensors)
    data = header(kvs, b"".join(tensor_info(n, d, t, o) for n, d, t, o in tensors),
                  tensor_count=len(tensors))
    data += b"\0" * draw(st.integers(0, 64)) + TENSOR_DATA * draw(st.booleans())
    damage = draw(st.sampled_from(["none", "cut", "flip", "large"]))
    if damage == "cut":
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "flip":
        raw = bytearray(data)
        for index in draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=6)):
            raw[index] ^= draw(st.integers(1, 255))
        data = bytes(raw)
    elif damage == "large":
        at = draw(st.integers(4, max(4, len(data) - 8)))
        value = draw(st.sampled_from([1 << 63, (1 << 64) - 1, 1 << 32, 5000, 1 << 24]))
        data = data[:at] + struct.pack("<Q", value) + data[at + 8:]
    return data


def _check(data: bytes, size: int) -> None:
    try:
        summary = summarize(data, Path("fuzz.gguf"), size)
    except HeaderIncompleteError:
        assert size > len(data)  # only a prefix may ask for more
    except GGUFError as exc:
        message = str(exc)
        assert message.startswith("fuzz.gguf") and "\n" not in message, message
    else:
        assert isinstance(summary, GGUFSummary) and summary.data_end <= size


@FUZZ
@given(_headers())
def test_generated_headers_give_a_description_or_one_clear_line(data: bytes) -> None:
    _check(data, len(data))


@FUZZ
@given(_headers(), st.integers(1, 1 << 20))
def test_a_prefix_of_a_longer_file_asks_for_more_or_fails_clearly(data: bytes,
                                                                  more: int) -> None:
    """The remote reader's case: the bytes are the start of a longer file."""
    _check(data, len(data) + more)


@FUZZ
@given(st.integers(0, 5), st.binary(max_size=300))
def test_random_bytes_after_the_magic_fail_clearly(version: int, tail: bytes) -> None:
    _check(b"GGUF" + struct.pack("<I", version) + tail, 8 + len(tail))
