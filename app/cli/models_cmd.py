"""`stillroom models ...`: the model library."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from app.cli.errors import print_error
from app.cli.progress import StatusLine, run_and_register
from app.cli.render import human_bytes
from app.config import data_dir, ensure_writable
from inference.models.library import ModelLibrary


def run_models(args: argparse.Namespace) -> int:
    library = ModelLibrary(ensure_writable(data_dir()))
    if hasattr(args, "models_func"):  # commands defined in their own modules (import, rm)
        return args.models_func(args, library)
    if args.models_command == "quantize":
        return _quantize(args, library)
    if args.models_command == "pull":
        return _pull(args, library)
    return _list(args, library)


def _list(args: argparse.Namespace, library: ModelLibrary) -> int:
    for problem in library.problems():
        print_error(f"warning: {problem}")
    models = library.list()
    if args.json:
        keys = ("id", "name", "path", "format", "quantization", "size_bytes", "sha256",
                "context_length", "architecture", "parameters", "builtin")
        print(json.dumps([{k: asdict(m)[k] for k in keys} for m in models], indent=2))
        return 0
    print(f"{'ID':40} {'FORMAT':6} {'QUANT':8} {'SIZE':>9}  NAME")
    for model in models:
        note = " (embedded default)" if model.builtin else ""
        print(f"{model.id:40} {model.format:6} {model.quantization or '?':8} "
              f"{human_bytes(model.size_bytes):>9}  {model.name}{note}")
        print(f"{'':40} {model.path}")
    return 0


def _source_path(source: str, library: ModelLibrary) -> Path:
    """SOURCE is a file when one exists at that path, otherwise a model id."""
    path = Path(source).expanduser()
    if path.exists() or source.endswith(".gguf") or "/" in source:
        return path
    return Path(library.get(source).path)


def _quantize(args: argparse.Namespace, library: ModelLibrary) -> int:
    from inference.convert.quantize import (
        QuantizeJob,
        QuantizeProgress,
        default_output_path,
        resolve_type,
    )

    if args.type.strip().lower().startswith("mlx"):
        from app.cli.mlx_convert_cmd import run_mlx_convert
        from inference.convert.quantize import QuantizeError

        if args.imatrix:
            raise QuantizeError("--imatrix is for llama.cpp's GGUF types; the mlx-* types "
                                "do not use one.")

        return run_mlx_convert(args, library)
    source = _source_path(args.source, library)
    # An unknown type, or one that needs an importance matrix, fails before any file work.
    type_name, _ = resolve_type(args.type, with_imatrix=bool(args.imatrix))
    output = Path(args.output) if args.output else default_output_path(
        source, type_name, ensure_writable(data_dir() / "models"))
    status = StatusLine()

    def progress(update: QuantizeProgress) -> None:
        # llama.cpp reports no progress; the output's growth is what we can see.
        status.show(f"Quantizing {source.name} to {type_name}: {update.elapsed_s:.0f} s, "
                    f"{human_bytes(update.output_bytes)} written")

    job = QuantizeJob(source, output, type_name, allow_requantize=args.allow_requantize,
                      imatrix=args.imatrix, on_progress=progress)
    return run_and_register(job, status, args, library,
                            origin=f"quantized from {source.name} ({type_name})")


def hub_token() -> str | None:
    """The Hugging Face token of this data directory's key store, or None."""
    from routing.keys import KeyStore
    from routing.keys import hub_token as stored_hub_token
    from routing.router import KEYS_INDEX_FILE

    return stored_hub_token(KeyStore(data_dir() / KEYS_INDEX_FILE))


def _pull(args: argparse.Namespace, library: ModelLibrary) -> int:
    from inference.hub.transfer import (
        DownloadProgress,
        choose_file,
        download,
        parse_reference,
        repo_files,
    )
    from inference.models.created_files import CreatedFiles

    repo_id, filename = parse_reference(args.reference)
    from inference.hub.reachability import require_hub_reachable

    require_hub_reachable()
    token = hub_token()
    remote = choose_file(repo_id, repo_files(repo_id, token=token), filename)
    status = StatusLine()

    def progress(update: DownloadProgress) -> None:
        total = update.total_bytes or 0
        share = f" {100 * update.downloaded_bytes / total:3.0f}%" if total else ""
        retry = f" (attempt {update.attempt})" if update.attempt > 1 else ""
        status.show(f"{remote.filename}{share} {human_bytes(update.downloaded_bytes)} of "
                    f"{human_bytes(update.total_bytes)}{retry}")

    try:
        path = download(remote, token=token, on_progress=progress,
                        created=CreatedFiles(data_dir()))
    finally:
        status.done()
    model = library.register(path, name=Path(remote.filename).stem, sha256=remote.sha256,
                             id_hint=Path(remote.filename).stem, hashed=True,
                             source=f"hf:{repo_id}/{remote.filename}@{remote.revision}")
    if args.json:
        print(json.dumps({"id": model.id, "path": model.path, "repo": repo_id,
                          "file": remote.filename, "size_bytes": model.size_bytes,
                          "sha256": model.sha256}))
    else:
        print(f"{model.id}: {human_bytes(model.size_bytes)}, SHA-256 verified -> {model.path}")
        print(f"Chat with it: stillroom chat --model {model.id}")
    return 0
