"""Quantization with llama.cpp's quantizer in a child process: real files, real runs."""

from pathlib import Path

import pytest

from inference.convert.quantize import (
    QuantizeCancelled,
    QuantizeError,
    QuantizeJob,
    QuantizeProgress,
    default_output_path,
    quantization_types,
    quantize,
)
from inference.engines.types import ModelInfo
from inference.models.gguf_file import read_summary


def test_the_common_types_are_offered() -> None:
    assert {"Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "Q5_0", "Q3_K_M", "Q2_K", "F16"} \
        <= quantization_types().keys()


def test_f16_to_q8_0_reports_growth_and_writes_a_valid_smaller_file(
        f16_model: Path, tmp_path: Path) -> None:
    updates: list[QuantizeProgress] = []
    result = quantize(f16_model, tmp_path / "out.Q8_0.gguf", "q8_0", on_progress=updates.append)
    summary = read_summary(result.path)
    assert summary.file_type == "Q8_0" and result.type == "Q8_0"
    assert result.size_bytes == result.path.stat().st_size < f16_model.stat().st_size
    assert updates and updates[-1].output_bytes == result.size_bytes
    assert [u.output_bytes for u in updates] == sorted(u.output_bytes for u in updates)
    assert not list(tmp_path.glob("*.partial"))


def test_cancel_stops_the_child_and_keeps_nothing(f16_model: Path, tmp_path: Path) -> None:
    output = tmp_path / "cancelled.gguf"
    job = QuantizeJob(f16_model, output, "Q4_K_M").start()
    job.cancel()
    with pytest.raises(QuantizeCancelled):
        job.wait()
    assert job._process is not None and job._process.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_an_already_quantized_source_needs_allow_requantize(model: ModelInfo,
                                                            tmp_path: Path) -> None:
    with pytest.raises(QuantizeError, match=r"already quantized \(Q4_1\).*--allow-requantize"):
        QuantizeJob(model.path, tmp_path / "x.gguf", "Q4_0")


def test_unknown_type_lists_the_valid_ones(f16_model: Path, tmp_path: Path) -> None:
    with pytest.raises(QuantizeError, match=r"Unknown quantization type 'Q9_Z'.*Q4_K_M"):
        QuantizeJob(f16_model, tmp_path / "x.gguf", "Q9_Z")


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(QuantizeError, match="is not a GGUF model"):
        QuantizeJob(bogus, tmp_path / "x.gguf", "Q4_0")


def test_default_output_replaces_the_old_type_in_the_name(tmp_path: Path) -> None:
    assert default_output_path(Path("/m/SmolLM2-135M-Instruct.F16.gguf"), "Q4_K_M", tmp_path) \
        == tmp_path / "SmolLM2-135M-Instruct.Q4_K_M.gguf"
    assert default_output_path(Path("/m/llama-3-8b-q8_0.gguf"), "Q4_0", tmp_path) \
        == tmp_path / "llama-3-8b.Q4_0.gguf"
