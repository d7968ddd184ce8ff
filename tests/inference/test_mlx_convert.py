"""The MLX converter: a real mlx_lm child process, cancelled, refused, and done."""

import shutil
import threading
from pathlib import Path

import pytest

from inference.convert.mlx_convert import (
    MlxConvertJob,
    cached_repo_snapshot,
    default_output_dir,
    estimated_output_bytes,
    resolve_source,
)
from inference.convert.quantize import QuantizeCancelled, QuantizeError
from tests.conftest import requires_mlx


@requires_mlx
def test_cancel_terminates_the_child_and_keeps_nothing(hf_checkpoint: Path,
                                                       tmp_path: Path) -> None:
    started = threading.Event()
    output = tmp_path / "out-mlx-8bit"
    job = MlxConvertJob(hf_checkpoint, output, "mlx-8bit",
                        on_progress=lambda update: started.set())
    job.start()
    assert started.wait(60)  # the child is running (progress is polled while it runs)
    job.cancel()
    with pytest.raises(QuantizeCancelled, match="nothing was kept"):
        job.wait()
    assert job._process.returncode != 0
    assert list(tmp_path.iterdir()) == []  # neither the output nor its .partial


@requires_mlx
def test_the_4bit_conversion_is_a_quarter_of_float16(hf_checkpoint: Path,
                                                     mlx_4bit_dir: Path) -> None:
    source = sum(p.stat().st_size for p in hf_checkpoint.glob("*.safetensors"))
    converted = sum(p.stat().st_size for p in mlx_4bit_dir.glob("*.safetensors"))
    # 4 bits + a 16-bit scale and bias per 64 weights = 4.5 bits, against 16.
    assert 0.25 < converted / source < 0.32
    assert abs(converted - estimated_output_bytes(134_515_008, "mlx-4bit")) / converted < 0.05
    assert not mlx_4bit_dir.with_name(mlx_4bit_dir.name + ".partial").exists()


def test_sources_that_cannot_convert_say_why(model, tmp_path: Path) -> None:
    with pytest.raises(QuantizeError, match="not a GGUF"):
        resolve_source(model.path)
    with pytest.raises(QuantizeError, match="does not exist"):
        resolve_source(str(tmp_path / "nothing"))
    with pytest.raises(QuantizeError, match=r"has no config\.json"):
        resolve_source(str(tmp_path))
    with pytest.raises(QuantizeError, match="nor a repo in the Hugging Face cache"):
        resolve_source("someone/not-downloaded")


def test_a_cached_hub_repo_resolves_to_its_snapshot(hf_checkpoint: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard cache layout: models--org--name/refs/main -> snapshots/<commit>/."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    snapshot = tmp_path / "hub" / "models--someone--Small-Model" / "snapshots" / "abc123"
    shutil.copytree(hf_checkpoint, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    assert cached_repo_snapshot("someone/Small-Model") == snapshot
    assert resolve_source("someone/Small-Model") == snapshot.resolve()
    assert default_output_dir(snapshot, "mlx-4bit", tmp_path).name == "Small-Model-mlx-4bit"


@requires_mlx
def test_an_existing_output_is_not_overwritten(hf_checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(QuantizeError, match="already exists"):
        MlxConvertJob(hf_checkpoint, tmp_path / "taken", "mlx-4bit")
    with pytest.raises(QuantizeError, match=r"Unknown MLX type 'mlx-5bit'\. Valid MLX types:"):
        MlxConvertJob(hf_checkpoint, tmp_path / "new", "mlx-5bit")
