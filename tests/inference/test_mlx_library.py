"""MLX model directories in the library: registered, described, verified, refused."""

import json
import math
import os
import struct
from pathlib import Path

import pytest

from inference.models.library import ModelIntegrityError, ModelLibrary, ModelNotFoundError
from inference.models.safetensors_dir import ModelDirError, read_model_dir
from tests.conftest import requires_mlx


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]],
                      metadata: dict[str, str] | None = None) -> None:
    """A real safetensors file (8-byte header length, JSON table, data), zero-filled."""
    sizes = {"F16": 2, "BF16": 2, "F32": 4, "U32": 4}
    header: dict = {"__metadata__": metadata or {"format": "mlx"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = sizes[dtype] * math.prod(shape)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    table = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(table)) + table + bytes(offset))


@pytest.fixture
def mlx_dir(tmp_path: Path) -> Path:
    """A small 4-bit MLX model directory, shaped like mlx_lm.convert's output."""
    folder = tmp_path / "Tiny-Model-0.5B-4bit"  # the dot must survive into the id
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "qwen2", "max_position_embeddings": 32768, "torch_dtype": "bfloat16",
        "quantization": {"group_size": 64, "bits": 4}}))
    (folder / "tokenizer.json").write_text("{}")
    write_safetensors(folder / "model.safetensors", {
        "layers.0.mlp.up_proj.weight": ("U32", [128, 8]),  # 128 x 64 weights, packed 8 per word
        "layers.0.mlp.up_proj.scales": ("BF16", [128, 1]),
        "layers.0.mlp.up_proj.biases": ("BF16", [128, 1]),
        "norm.weight": ("BF16", [64]),
    })
    return folder


def test_a_directory_registers_as_an_mlx_model(mlx_dir: Path, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "home")
    model = library.register(mlx_dir)
    assert model.id == "tiny-model-0-5b-4bit" and model.name == "Tiny-Model-0.5B-4bit"
    assert (model.format, model.quantization, model.architecture) == ("mlx", "4bit", "qwen2")
    assert model.context_length == 32768 and model.parameters == 128 * 64 + 64
    assert model.size_bytes == sum(p.stat().st_size for p in mlx_dir.iterdir())
    assert len(model.sha256) == 64 and model.extra["source"] == "local directory"
    assert library.get(model.id) == model
    library.verify(model)
    assert library.register(mlx_dir) == model  # the same directory twice: one entry


def test_a_changed_file_fails_verification(mlx_dir: Path, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "home")
    model = library.register(mlx_dir)
    weights = mlx_dir / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # same size, different bytes, newer mtime
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    with pytest.raises(ModelIntegrityError, match="is corrupt: its SHA-256 is"):
        library.verify(model)


def test_a_deleted_directory_is_missing(mlx_dir: Path, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "home")
    model = library.register(mlx_dir)
    for file in mlx_dir.iterdir():
        file.unlink()
    mlx_dir.rmdir()
    with pytest.raises(ModelNotFoundError, match="is missing"):
        library.verify(model)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: (d / "config.json").unlink(), "has no config.json"),
    (lambda d: (d / "config.json").write_text("{"), "config.json is not valid JSON"),
    (lambda d: (d / "model.safetensors").unlink(), "has no .safetensors weights"),
    (lambda d: (d / "tokenizer.json").unlink(), "has no tokenizer"),
    (lambda d: (d / "model.safetensors").write_bytes(
        (d / "model.safetensors").read_bytes()[:-100]), "model.safetensors is truncated"),
    (lambda d: (d / "model.safetensors").write_bytes(b"\xff" * 64),
     "is not a safetensors file"),
])
def test_broken_directories_are_refused_with_a_reason(mlx_dir: Path, tmp_path: Path,
                                                      damage, message: str) -> None:
    damage(mlx_dir)
    with pytest.raises(ModelDirError, match=message):
        read_model_dir(mlx_dir)
    with pytest.raises(ModelIntegrityError, match=message):
        ModelLibrary(tmp_path / "home").register(mlx_dir)


def test_a_full_precision_checkpoint_is_labelled_by_dtype(mlx_dir: Path) -> None:
    config = json.loads((mlx_dir / "config.json").read_text())
    del config["quantization"]
    (mlx_dir / "config.json").write_text(json.dumps(config))
    assert read_model_dir(mlx_dir).quantization == "bf16"


@requires_mlx
def test_a_converted_model_describes_itself(mlx_4bit_dir: Path, tmp_path: Path) -> None:
    model = ModelLibrary(tmp_path / "home").register(mlx_4bit_dir)
    assert (model.format, model.quantization, model.architecture) == ("mlx", "4bit", "llama")
    assert model.parameters == 134_515_008  # the embedded model's own count
    assert model.context_length == 8192
    assert read_model_dir(mlx_4bit_dir).mlx_native


def test_an_mlx_fit_uses_unified_memory_on_apple_and_ignores_nvidia(mlx_dir: Path) -> None:
    """MLX runs on Apple Silicon's GPU or on the CPU; an NVIDIA card does not change where."""
    from inference.hardware import GpuInfo
    from inference.models.fit import estimate_model_dir_fit

    config = json.loads((mlx_dir / "config.json").read_text())
    config.update(num_hidden_layers=24, hidden_size=896, num_attention_heads=14,
                  num_key_value_heads=2)
    (mlx_dir / "config.json").write_text(json.dumps(config))
    gib = 1024 ** 3
    apple = estimate_model_dir_fit(mlx_dir, 4096,
                                   gpus=[GpuInfo("Apple M3", "Apple", 16 * gib, "apple-silicon")])
    assert apple.memory_kind == "unified memory" and apple.verdict == "fits"
    assert apple.kv_cache_bytes == 2 * 24 * 2 * 64 * 4096 * 2
    nvidia = estimate_model_dir_fit(mlx_dir, 4096,
                                    gpus=[GpuInfo("RTX 4090", "NVIDIA", 24 * gib, "nvml")])
    assert nvidia.memory_kind == "RAM" and nvidia.n_gpu_layers == 0
