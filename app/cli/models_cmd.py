"""`stillroom models ...`: the model library."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from app.cli.render import human_bytes
from app.config import data_dir, ensure_writable
from inference.library import ModelLibrary


def run_models(args: argparse.Namespace) -> int:
    library = ModelLibrary(ensure_writable(data_dir()))
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
