"""`stillroom models quantize --type mlx-*` end to end, and MLX models in `chat`."""

import json
from pathlib import Path

import pytest

from inference.models.library import ModelLibrary
from tests.conftest import requires_mlx, run_cli
from tests.inference.test_mlx_library import write_safetensors


def _one_clear_line(result, message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@requires_mlx
def test_convert_registers_a_model_that_chat_can_use(stillroom_home: Path,
                                                     hf_checkpoint: Path) -> None:
    result = run_cli("models", "quantize", str(hf_checkpoint), "--type", "mlx-4bit", "--json",
                     home=stillroom_home)
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    assert set(made) == {"id", "path", "type", "size_bytes"} and made["type"] == "mlx-4bit"
    path = Path(made["path"])
    assert path.parent == stillroom_home / "models" and path.is_dir()
    assert made["id"] == "smollm2-135m-instruct-mlx-4bit"
    assert made["size_bytes"] == sum(p.stat().st_size for p in path.iterdir())

    listed = {m["id"]: m for m in json.loads(run_cli("models", "list", "--json",
                                                     home=stillroom_home).stdout)}
    assert (listed[made["id"]]["format"], listed[made["id"]]["quantization"]) == ("mlx", "4bit")

    chat = run_cli("chat", "--model", made["id"], "--json", "-t", "0", "--max-tokens", "6",
                   "Say hi.", home=stillroom_home)
    assert chat.returncode == 0, chat.stderr
    answer = json.loads(chat.stdout)
    assert answer["model"] == made["id"] and answer["text"].startswith("Hello there")
    assert answer["usage"]["completion_tokens"] == 6 and answer["finish_reason"] == "length"
    assert answer["timings"]["decode_tps"] > 0


@requires_mlx
def test_bad_mlx_sources_are_one_clear_line(stillroom_home: Path, model,
                                            mlx_4bit_dir: Path, tmp_path: Path) -> None:
    cases = [
        ((model.path, "mlx-4bit"), "not a GGUF"),
        (("smollm2", "mlx-4bit"), "is a GGUF model; MLX types convert"),
        ((str(mlx_4bit_dir), "mlx-8bit"), "is already an MLX 4bit model"),
        ((str(tmp_path / "missing"), "mlx-4bit"), "does not exist"),
        (("someone/not-downloaded", "mlx-4bit"), "nor a repo in the Hugging Face cache"),
        ((str(mlx_4bit_dir), "mlx-5bit"), "Unknown MLX type 'mlx-5bit'"),
    ]
    for (source, type_name), message in cases:
        result = run_cli("models", "quantize", source, "--type", type_name,
                         home=stillroom_home, env={"HF_HUB_CACHE": str(tmp_path / "hub")})
        _one_clear_line(result, message)


@pytest.fixture
def without_mlx(tmp_path: Path) -> dict[str, str]:
    """An environment where `import mlx` and `import mlx_lm` fail, as without the extra."""
    stubs = tmp_path / "no-mlx"
    for name in ("mlx", "mlx_lm"):
        (stubs / name).mkdir(parents=True)
        (stubs / name / "__init__.py").write_text(
            f'raise ImportError("No module named {name!r}")\n')
    return {"PYTHONPATH": str(stubs)}


def tiny_mlx_folder(tmp_path: Path) -> Path:
    """An MLX-shaped folder with a valid header and no real weights: enough for the library."""
    folder = tmp_path / "Tiny-4bit"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {"model_type": "llama", "quantization": {"group_size": 64, "bits": 4}}))
    (folder / "tokenizer.json").write_text("{}")
    write_safetensors(folder / "model.safetensors", {"norm.weight": ("F32", [8])})
    return folder


def test_without_mlx_an_mlx_model_says_how_to_install_it(stillroom_home: Path,
                                                         tmp_path: Path,
                                                         without_mlx: dict[str, str]) -> None:
    folder = tiny_mlx_folder(tmp_path)
    model = ModelLibrary(stillroom_home).register(folder)

    chat = run_cli("chat", "--model", model.id, "Say hi.", home=stillroom_home,
                   env=without_mlx)
    _one_clear_line(chat, "is an MLX model, and MLX is not installed here; install it with: "
                          "pip install 'stillroom[mlx]'")
    convert = run_cli("models", "quantize", str(folder), "--type", "mlx-4bit",
                      home=stillroom_home, env=without_mlx)
    _one_clear_line(convert, "needs MLX, which is not installed here; install it with: "
                             "pip install 'stillroom[mlx]'")


def test_fit_of_an_mlx_model_reads_its_config(stillroom_home: Path, tmp_path: Path) -> None:
    """Weights = the folder's files; KV cache from config.json's attention stack (SmolLM2-135M's
    shape: 30 layers, 3 KV heads of 64 dims): 2 x 30 x 3 x 64 x 2048 tokens x 2 bytes."""
    folder = tiny_mlx_folder(tmp_path)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "quantization": {"group_size": 64, "bits": 4},
        "num_hidden_layers": 30, "hidden_size": 576, "num_attention_heads": 9,
        "num_key_value_heads": 3}))
    model = ModelLibrary(stillroom_home).register(folder)
    result = run_cli("models", "fit", model.id, "--context", "2048", "--json",
                     home=stillroom_home)
    assert result.returncode == 0, result.stderr
    fit = json.loads(result.stdout)
    assert fit["kv_cache_bytes"] == 2 * 30 * 3 * 64 * 2048 * 2
    assert fit["weights_bytes"] == sum(f.stat().st_size for f in folder.iterdir())
    assert fit["verdict"] == "fits" and fit["n_gpu_layers"] == 0  # MLX never uses CUDA
    by_path = run_cli("models", "fit", str(folder), "--context", "2048", "--json",
                      home=stillroom_home)
    assert json.loads(by_path.stdout)["kv_cache_bytes"] == fit["kv_cache_bytes"], by_path.stderr


def test_fit_of_an_mlx_model_without_its_shape_is_unknown(stillroom_home: Path,
                                                          tmp_path: Path) -> None:
    model = ModelLibrary(stillroom_home).register(tiny_mlx_folder(tmp_path))
    result = run_cli("models", "fit", model.id, home=stillroom_home)
    assert result.returncode == 0, result.stderr
    assert "unknown — the file does not describe its attention layers" in result.stdout
