"""Types that need an importance matrix: offered only with one, refused in one line
without, and quantized by llama.cpp with one (GGUF or legacy .dat); every offered type's
size comes from its bits per weight."""

import struct
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader, GGUFWriter

from inference.convert.imatrix import ImatrixError, read_imatrix
from inference.convert.quant_types import BITS_PER_WEIGHT, NEEDS_IMATRIX
from inference.convert.quantize import (
    QuantizeError,
    estimated_output_bytes,
    quantization_types,
    quantize,
)
from inference.models.gguf_file import read_summary


def _matrices(model: Path) -> dict[str, int]:
    """Each 2-D weight tensor of the model and its row length (what an imatrix covers)."""
    return {t.name: int(t.shape[0]) for t in GGUFReader(model).tensors if len(t.shape) == 2}


def write_gguf_imatrix(model: Path, path: Path) -> Path:
    """An importance matrix in llama-imatrix's GGUF format: NAME.in_sum2 (sums of squared
    activations) and NAME.counts, here a uniform importance over 10 calls."""
    writer = GGUFWriter(path, arch="imatrix")
    for name, columns in _matrices(model).items():
        writer.add_tensor(f"{name}.in_sum2", np.full((1, columns), 20.0, dtype=np.float32))
        writer.add_tensor(f"{name}.counts", np.full((1, 1), 10.0, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_legacy_imatrix(model: Path, path: Path) -> Path:
    entries = _matrices(model)
    with path.open("wb") as file:
        file.write(struct.pack("<i", len(entries)))
        for name, columns in entries.items():
            encoded = name.encode()
            file.write(struct.pack("<i", len(encoded)) + encoded)
            file.write(struct.pack("<ii", 10, columns))
            file.write(np.full(columns, 20.0, dtype="<f4").tobytes())
    return path


def test_types_that_need_an_imatrix_are_offered_only_with_one() -> None:
    plain, with_imatrix = quantization_types(), quantization_types(with_imatrix=True)
    assert not NEEDS_IMATRIX & plain.keys()
    assert {"IQ2_XS", "IQ2_M", "IQ1_S", "Q2_K_S"} <= with_imatrix.keys()
    assert {"Q4_K_M", "Q8_0", "IQ4_XS", "Q2_K"} <= plain.keys()


def test_every_offered_type_is_sized_from_its_bits_per_weight() -> None:
    billion = 1_000_000_000
    for name in quantization_types(with_imatrix=True):
        assert estimated_output_bytes(billion, name) == int(billion * BITS_PER_WEIGHT[name] / 8)
    assert estimated_output_bytes(billion, "IQ2_XS") == 288_750_000  # 2.31 bpw, not F16
    assert estimated_output_bytes(billion, "Q4_K_M") == 605_000_000  # 4.84 bpw


def test_an_imatrix_type_without_one_is_one_line(f16_model: Path, tmp_path: Path) -> None:
    with pytest.raises(QuantizeError) as raised:
        quantize(f16_model, tmp_path / "out.gguf", "iq2_xs")
    assert str(raised.value) == (
        "IQ2_XS needs an importance matrix: give --imatrix FILE (made by llama.cpp's "
        "llama-imatrix from text like yours). Without one, Q2_K or larger works.")
    assert not list(tmp_path.iterdir())


def test_both_imatrix_formats_read_the_same(f16_model: Path, tmp_path: Path) -> None:
    gguf = read_imatrix(write_gguf_imatrix(f16_model, tmp_path / "imatrix.gguf"))
    legacy = read_imatrix(write_legacy_imatrix(f16_model, tmp_path / "imatrix.dat"))
    assert set(gguf) == set(legacy) == set(_matrices(f16_model))
    for name, values in gguf.items():
        assert np.allclose(values, 2.0) and np.array_equal(values, legacy[name])  # 20 / 10


def test_with_an_imatrix_llama_cpp_quantizes_a_type_that_needs_one(
        f16_model: Path, tmp_path: Path) -> None:
    # Q2_K_S: of the types that need an imatrix, the quickest to make (a k-quant).
    imatrix = write_gguf_imatrix(f16_model, tmp_path / "imatrix.gguf")
    result = quantize(f16_model, tmp_path / "out.Q2_K_S.gguf", "Q2_K_S", imatrix=imatrix)
    assert read_summary(result.path).file_type == "Q2_K_S"
    assert result.size_bytes < f16_model.stat().st_size / 3


def test_a_file_that_is_not_an_imatrix_is_refused_before_any_work(
        f16_model: Path, tmp_path: Path) -> None:
    with pytest.raises(QuantizeError, match="not an importance matrix"):
        quantize(f16_model, tmp_path / "out.gguf", "IQ2_XS", imatrix=f16_model)
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello")
    with pytest.raises(ImatrixError, match=r"neither a GGUF nor a legacy \.dat"):
        read_imatrix(garbage)
    assert not (tmp_path / "out.gguf").exists()


def test_an_imatrix_that_misses_a_tensor_fails_naming_it(f16_model: Path,
                                                         tmp_path: Path) -> None:
    imatrix = write_gguf_imatrix(f16_model, tmp_path / "full.gguf")
    # The same entries less one ffn_down in the middle (the first layers get wider types,
    # which need none): llama.cpp's own reason comes through, not "returned 1".
    reader = GGUFReader(imatrix)
    partial = GGUFWriter(tmp_path / "partial.gguf", arch="imatrix")
    for tensor in reader.tensors:
        if not tensor.name.startswith("blk.15.ffn_down.weight"):
            partial.add_tensor(tensor.name, np.array(tensor.data))
    partial.write_header_to_file()
    partial.write_kv_data_to_file()
    partial.write_tensors_to_file()
    partial.close()
    with pytest.raises(QuantizeError) as raised:
        quantize(f16_model, tmp_path / "out.gguf", "Q2_K_S", imatrix=tmp_path / "partial.gguf")
    assert str(raised.value) == (
        "llama.cpp could not quantize SmolLM2-135M-Instruct.F16.gguf to Q2_K_S: Missing "
        "importance matrix for tensor blk.15.ffn_down.weight in a very low-bit quantization")
    assert not (tmp_path / "out.gguf").exists()
