"""Convert a Hugging Face safetensors checkpoint to an MLX model with `mlx_lm.convert`.

Like quantize.py does for llama.cpp, the conversion runs in a child process
(`python -m inference.convert.mlx_convert ...`): it loads the whole model, cannot be interrupted
from Python mid-tensor, and a cancel must free its memory at once, so cancelling
terminates the child. Output goes to a `.partial` directory, renamed only on success.

Sources: a local directory (config.json + *.safetensors + tokenizer) or a Hub repo id that
is already in the Hugging Face cache. The child runs with HF_HUB_OFFLINE=1: a conversion
never downloads. GGUF files cannot be converted (mlx_lm reads Hugging Face checkpoints).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path

from inference.convert.child_job import (
    DISK_MARGIN_BYTES,
    ChildJob,
    QuantizeError,
    QuantizeProgress,
    QuantizeResult,
    check_free_space,
    child_environment,
)
from inference.hub.transfer import cache_dir
from inference.models.safetensors_dir import ModelDirError, read_model_dir

# Output type -> quantization bits (None: no quantization, cast to bfloat16).
MLX_TYPES: dict[str, int | None] = {"mlx-4bit": 4, "mlx-6bit": 6, "mlx-8bit": 8, "mlx-bf16": None}
GROUP_SIZE = 64  # mlx_lm's default: one scale and bias per 64 weights
_EXIT_NO_MLX = 3


def is_mlx_type(name: str) -> bool:
    return name.strip().lower().startswith("mlx")


def resolve_mlx_type(name: str) -> str:
    wanted = name.strip().lower()
    if wanted not in MLX_TYPES:
        raise QuantizeError(f"Unknown MLX type '{name}'. Valid MLX types: "
                            f"{', '.join(MLX_TYPES)}.")
    return wanted


def mlx_available() -> bool:
    """Whether mlx and mlx_lm are importable, without importing them (mlx_lm pulls in
    transformers: seconds)."""
    try:
        return all(importlib.util.find_spec(name) is not None
                   for name in ("mlx.core", "mlx_lm"))
    except (ImportError, ValueError):  # a parent package that fails to import
        return False


def require_mlx(type_name: str) -> None:
    if not mlx_available():
        raise QuantizeError(f"Converting to {type_name} needs MLX, which is not installed "
                            f"here; install it with: pip install 'stillroom[mlx]'.")


def cached_repo_snapshot(repo_id: str) -> Path:
    """The snapshot directory of `repo_id` (its main revision) in the Hugging Face cache."""
    repo = cache_dir() / f"models--{repo_id.replace('/', '--')}"
    ref = repo / "refs" / "main"
    if not ref.is_file():
        raise QuantizeError(
            f"{repo_id} is neither a local directory nor a repo in the Hugging Face cache "
            f"({cache_dir()}). Download its safetensors first (e.g. `hf download {repo_id}`).")
    return repo / "snapshots" / ref.read_text(encoding="utf-8").strip()


def resolve_source(source: str) -> Path:
    """A local checkpoint directory, else a cached Hub repo; refuses what cannot convert."""
    path = Path(source).expanduser()
    if not path.exists() and source.count("/") == 1 and not source.startswith((".", "/", "~")):
        path = cached_repo_snapshot(source)
    if path.is_file():
        raise QuantizeError(
            f"{path.name} is a file; MLX types convert a Hugging Face safetensors checkpoint "
            f"(a directory, or a repo in the Hugging Face cache), not a GGUF.")
    try:
        summary = read_model_dir(path)
    except ModelDirError as exc:
        raise QuantizeError(f"Cannot convert: {exc}") from exc
    if summary.quantization and summary.quantization.endswith("bit"):
        raise QuantizeError(f"{path.name} is already an MLX {summary.quantization} model; "
                            f"convert its full-precision original instead.")
    return path.resolve()


def default_output_dir(source: Path, type_name: str, directory: Path) -> Path:
    """<source name>-<type> in `directory`; a cache snapshot is named after its repo."""
    name = source.name
    if source.parent.name == "snapshots" and source.parent.parent.name.startswith("models--"):
        name = source.parent.parent.name.split("--")[-1]
    return directory / f"{name}-{type_name}"


def estimated_output_bytes(parameters: int, type_name: str) -> int:
    bits = MLX_TYPES[type_name]
    # Quantized: each group of 64 weights also carries a 16-bit scale and bias.
    per_weight = 16 if bits is None else bits + 32 / GROUP_SIZE
    return int(parameters * per_weight / 8)


class MlxConvertJob(ChildJob):
    """One conversion in a child process (see inference/convert/child_job.py); the same start /
    cancel / wait / on_progress shape as quantize.QuantizeJob."""

    NOUN, TOOL, VERB = "Conversion", "mlx_lm", "convert"

    def __init__(self, source: str | Path, output: str | Path, type_name: str, *,
                 on_progress: Callable[[QuantizeProgress], None] | None = None) -> None:
        self.type_name = resolve_mlx_type(type_name)
        require_mlx(self.type_name)
        self.source = resolve_source(str(source))
        self.output = Path(output).expanduser().resolve()
        self.on_progress = on_progress
        self._init_job()
        self._check()

    def _check(self) -> None:
        if self.output.exists():
            raise QuantizeError(f"{self.output} already exists; remove it or choose --output.")
        summary = read_model_dir(self.source)
        self._source_bytes = summary.size_bytes
        self.output.parent.mkdir(parents=True, exist_ok=True)
        estimate = estimated_output_bytes(summary.parameter_count or 0, self.type_name)
        check_free_space(self.output.parent, int(estimate * 1.25) + DISK_MARGIN_BYTES,
                         f"{self.type_name} model")

    def _command(self) -> list[str]:
        return ["inference.convert.mlx_convert", str(self.source), str(self._partial),
                self.type_name]

    def _environment(self) -> dict[str, str]:
        return child_environment(HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error")

    def _failure_detail(self, last_line: str) -> str:
        # A Python exception's last line is "ValueError: Model type x not supported."
        head, _, rest = last_line.partition(": ")
        return rest if rest and head.endswith("Error") else last_line


def convert(source: str | Path, output: str | Path, type_name: str, *,
            on_progress: Callable[[QuantizeProgress], None] | None = None) -> QuantizeResult:
    return MlxConvertJob(source, output, type_name, on_progress=on_progress).run()


def _child_main(argv: list[str]) -> int:
    """In the child process: one mlx_lm.convert call; exit status 0 on success."""
    source, output, type_name = argv
    try:
        from mlx_lm import convert as mlx_lm_convert
    except ImportError as exc:
        print(f"MLX is not installed ({exc})", file=sys.stderr)
        return _EXIT_NO_MLX
    bits = MLX_TYPES[type_name]
    mlx_lm_convert(hf_path=source, mlx_path=output, quantize=bits is not None, q_bits=bits,
                   q_group_size=GROUP_SIZE, dtype="bfloat16" if bits is None else None)
    if bits is None:
        # mlx_lm casts but keeps the source's torch_dtype; the library reads the label here.
        config_path = Path(output) / "config.json"
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["torch_dtype"] = "bfloat16"
        config_path.write_text(json.dumps(config, indent=4), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
