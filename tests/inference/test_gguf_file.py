from pathlib import Path

import pytest

from inference.engines.types import ModelInfo
from inference.models.gguf_file import GGUFError, read_summary


def test_summary_of_the_embedded_model(model: ModelInfo) -> None:
    summary = read_summary(model.path)
    assert summary.architecture == "llama"
    assert summary.file_type == "Q4_1"
    assert summary.context_length == 8192
    assert summary.tensor_count == 272
    assert summary.data_end == summary.size_bytes == model.size_bytes
    assert "<|im_start|>" in (summary.chat_template or "")
    assert 130_000_000 < summary.parameter_count < 140_000_000


def _prefix_copy(source: str, target: Path, size: int) -> Path:
    with Path(source).open("rb") as stream:
        target.write_bytes(stream.read(size))
    return target


def test_truncated_tensor_data_is_reported_with_sizes(model: ModelInfo, tmp_path: Path) -> None:
    cut = _prefix_copy(model.path, tmp_path / "cut.gguf", 50_000_000)
    with pytest.raises(GGUFError, match=r"truncated: its tensors need 98,362,432 bytes"):
        read_summary(cut)


def test_truncated_header_is_reported(model: ModelInfo, tmp_path: Path) -> None:
    cut = _prefix_copy(model.path, tmp_path / "cut.gguf", 4096)
    with pytest.raises(GGUFError, match="header runs past the end"):
        read_summary(cut)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "too small"),
    (b"PK\x03\x04" + b"\0" * 100, "not a GGUF model"),
    (b"GGUF\x09\x00\x00\x00" + b"\0" * 100, "GGUF version 9"),
])
def test_foreign_or_damaged_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFError, match=message):
        read_summary(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="does not exist"):
        read_summary(tmp_path / "nowhere.gguf")
    with pytest.raises(GGUFError, match="not a file"):
        read_summary(tmp_path)
