"""`stillroom models quantize SOURCE --type mlx-4bit|mlx-6bit|mlx-8bit|mlx-bf16`.

The MLX half of `models quantize`: SOURCE is a Hugging Face safetensors checkpoint (a local
directory, or a repo id already in the Hugging Face cache, or the id of such a directory in
the library), converted by mlx_lm in a child process and registered as an MLX model. Kept
apart from models_cmd.py so the GGUF path stays as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.progress import StatusLine, run_and_register
from app.cli.render import human_bytes
from app.config import data_dir, ensure_writable
from inference.convert.quantize import QuantizeError, QuantizeProgress
from inference.models.library import ModelLibrary, ModelNotFoundError


def _source(source: str, library: ModelLibrary) -> str:
    """A path or repo id as given; a bare library id becomes that model's path."""
    if Path(source).expanduser().exists() or "/" in source:
        return source
    try:
        model = library.get(source)
    except ModelNotFoundError:
        return source  # resolve_source explains what it is not
    if model.format == "gguf":
        raise QuantizeError(f"{model.id} is a GGUF model; MLX types convert a Hugging Face "
                            f"safetensors checkpoint (a directory or a cached Hub repo).")
    return model.path


def run_mlx_convert(args: argparse.Namespace, library: ModelLibrary) -> int:
    from inference.convert.mlx_convert import (
        MlxConvertJob,
        default_output_dir,
        require_mlx,
        resolve_mlx_type,
        resolve_source,
    )

    type_name = resolve_mlx_type(args.type)  # an unknown type fails before any file work
    require_mlx(type_name)
    source = resolve_source(_source(args.source, library))
    output = Path(args.output) if args.output else default_output_dir(
        source, type_name, ensure_writable(data_dir() / "models"))
    status = StatusLine()

    def progress(update: QuantizeProgress) -> None:
        status.show(f"Converting to {type_name}: {update.elapsed_s:.0f} s, "
                    f"{human_bytes(update.output_bytes)} written")

    job = MlxConvertJob(source, output, type_name, on_progress=progress)
    return run_and_register(job, status, args, library,
                            origin=f"converted from {job.source.name} ({type_name})")
