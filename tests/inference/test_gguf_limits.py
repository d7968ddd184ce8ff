"""The GGUF reader on hostile headers: iterative, bounded, one clear line for each fault."""

import struct
from pathlib import Path

import pytest

from inference.hub.remote_fit import remote_fit
from inference.hub.transfer import HubError, choose_file, repo_files
from inference.models.gguf_file import (
    MAX_ARRAY_ITEMS,
    MAX_ARRAY_STRINGS,
    MAX_HEADER_BYTES,
    MAX_NESTING,
    MAX_STRING_BYTES,
    GGUFError,
    HeaderIncompleteError,
    read_summary,
    summarize,
)
from tests.conftest import run_cli
from tests.inference.fake_hub import FakeHub
from tests.inference.gguf_bytes import (
    ARRAY,
    FLOAT32,
    INT32,
    STRING,
    UINT32,
    UINT64,
    gguf_string,
    header,
    nested_array,
    scalar,
    small_model,
    string_value,
    tensor_info,
)


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    return path


def _one_line(exc: pytest.ExceptionInfo[GGUFError]) -> str:
    message = str(exc.value)
    assert "\n" not in message and message.startswith("hostile.gguf")
    return message


def test_a_small_valid_header_is_described(tmp_path: Path) -> None:
    summary = read_summary(_write(tmp_path, small_model()))
    assert summary.architecture == "llama" and summary.context_length == 256
    assert summary.tensor_count == 1 and summary.parameter_count == 4


def test_arrays_nested_5000_deep_are_refused_not_a_recursion_error(tmp_path: Path) -> None:
    data = small_model([("general.architecture", string_value("llama")),
                        ("evil.nested", nested_array(5000))])
    with pytest.raises(GGUFError) as caught:
        read_summary(_write(tmp_path, data))
    assert "'evil.nested'" in _one_line(caught) and f"{MAX_NESTING} levels" in str(caught.value)


def test_arrays_nested_a_few_deep_are_read(tmp_path: Path) -> None:
    data = small_model([("general.architecture", string_value("llama")),
                        ("fine.nested", nested_array(MAX_NESTING))])
    assert read_summary(_write(tmp_path, data)).architecture == "llama"


def test_a_string_past_the_end_names_its_key(tmp_path: Path) -> None:
    data = header([("general.name", struct.pack("<IQ", STRING, 5000) + b"short")])
    with pytest.raises(GGUFError) as caught:
        read_summary(_write(tmp_path, data + b"\0" * 64))
    message = _one_line(caught)
    assert "'general.name'" in message and "5,000-byte string" in message
    assert "past the end of the file" in message


def test_a_string_longer_than_any_model_has_is_refused_even_in_a_prefix(tmp_path: Path) -> None:
    """A remote reader would otherwise fetch ever larger ranges for it."""
    data = header([("tokenizer.chat_template",
                    struct.pack("<IQ", STRING, MAX_STRING_BYTES + 1))])
    with pytest.raises(GGUFError) as caught:
        summarize(data, Path("hostile.gguf"), size=1 << 40)
    assert not isinstance(caught.value, HeaderIncompleteError)
    assert "'tokenizer.chat_template'" in _one_line(caught)


def test_an_array_longer_than_any_model_has_is_refused(tmp_path: Path) -> None:
    data = header([("tokenizer.ggml.tokens",
                    struct.pack("<IIQ", ARRAY, STRING, MAX_ARRAY_ITEMS + 1))])
    with pytest.raises(GGUFError) as caught:
        summarize(data, Path("hostile.gguf"), size=1 << 40)
    assert "'tokenizer.ggml.tokens'" in _one_line(caught)
    assert f"{MAX_ARRAY_ITEMS + 1:,} items" in str(caught.value)


def test_a_header_larger_than_any_model_has_is_refused(tmp_path: Path) -> None:
    """Short strings, each within every limit, until the header passes its limit."""
    text = gguf_string(b"x" * 4088)  # 4 KiB each: 16k of them pass 64 MiB
    count = MAX_HEADER_BYTES // len(text) + 1
    tokens = struct.pack("<IIQ", ARRAY, STRING, count) + text * count
    with pytest.raises(GGUFError) as caught:
        read_summary(_write(tmp_path, header([("tokenizer.ggml.tokens", tokens)])))
    assert f"more than {MAX_HEADER_BYTES >> 20} MiB" in _one_line(caught)


def test_more_strings_than_any_vocabulary_are_refused_before_walking_them(
        tmp_path: Path) -> None:
    """Many empty strings: the slow case for a reader that walks them one by one."""
    half = MAX_ARRAY_STRINGS // 2 + 1
    tokens = struct.pack("<IIQ", ARRAY, STRING, half) + b"\0" * (8 * half)
    data = header([("tokenizer.ggml.tokens", tokens), ("tokenizer.ggml.merges", tokens)])
    with pytest.raises(GGUFError) as caught:
        read_summary(_write(tmp_path, data))
    message = _one_line(caught)
    assert "'tokenizer.ggml.merges'" in message and f"{MAX_ARRAY_STRINGS:,}" in message


@pytest.mark.parametrize(("kvs", "field"), [
    ([("general.alignment", string_value("thirty-two"))], "general.alignment"),
    ([("general.alignment", scalar(FLOAT32, float("nan")))], "general.alignment"),
    ([("general.alignment", scalar(UINT32, 24))], "general.alignment"),
    ([("general.architecture", string_value("llama")),
      ("llama.context_length", scalar(INT32, -5))], "llama.context_length"),
    ([("general.architecture", string_value("llama")),
      ("llama.block_count", scalar(UINT64, 1 << 60))], "llama.block_count"),
])
def test_out_of_range_values_name_their_field(tmp_path: Path, kvs: list[tuple[str, bytes]],
                                              field: str) -> None:
    with pytest.raises(GGUFError) as caught:
        read_summary(_write(tmp_path, small_model(kvs)))
    assert f"'{field}'" in _one_line(caught)


def test_a_tensor_with_too_many_dimensions_is_named(tmp_path: Path) -> None:
    data = header([], tensor_info("blk.0.weird", [1] * 9), tensor_count=1)
    with pytest.raises(GGUFError) as caught:
        read_summary(_write(tmp_path, data + b"\0" * 64))
    assert "'blk.0.weird'" in _one_line(caught) and "9 dimensions" in str(caught.value)


def test_absurd_counts_are_refused_before_reading_on(tmp_path: Path) -> None:
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1 << 62) + gguf_string("k")
    with pytest.raises(GGUFError) as caught:
        read_summary(_write(tmp_path, data + b"\0" * 64))
    assert "key-value count" in _one_line(caught)


def _deeply_nested_model() -> bytes:
    return small_model([("general.architecture", string_value("llama")),
                        ("evil.nested", nested_array(5000))])


def test_remote_fit_of_a_deeply_nested_header_is_one_clear_error(fake_hub: FakeHub) -> None:
    fake_hub.add("acme/evil-GGUF", {"evil-Q4_0.gguf": _deeply_nested_model()})
    remote = choose_file("acme/evil-GGUF", repo_files("acme/evil-GGUF"), None)
    with pytest.raises(HubError, match=r"'evil\.nested' nests arrays") as caught:
        remote_fit(remote, 2048)
    assert "\n" not in str(caught.value)


def test_import_of_a_deeply_nested_header_is_skipped_with_one_line(
        stillroom_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "evil.gguf"
    path.write_bytes(_deeply_nested_model())
    result = run_cli("models", "import", str(path), home=stillroom_home,
                     env={"HOME": str(tmp_path)})
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "RecursionError" not in output
    assert "'evil.nested' nests arrays more than" in output, output
    assert path.exists()
