"""Long model jobs on a terminal: a self-overwriting status line, and running a quantization
or conversion to the end and registering what it made."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from app.cli.render import human_bytes

if TYPE_CHECKING:
    from inference.convert.child_job import ChildJob
    from inference.models.library import ModelLibrary


class StatusLine:
    """One self-overwriting progress line on a terminal; silent when stderr is a pipe."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()

    def show(self, text: str) -> None:
        if self.live:
            print(f"\r\033[K{text}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.live:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


def run_and_register(job: ChildJob, status: StatusLine, args: argparse.Namespace,
                     library: ModelLibrary, *, origin: str) -> int:
    """Run a quantization or conversion (Ctrl-C stops the child and removes its partial
    output), register the result and say how to chat with it."""
    from app.config import data_dir
    from inference.models.created_files import CreatedFiles

    try:
        result = job.run()
    finally:
        status.done()
    CreatedFiles(data_dir()).record(result.path)  # ours: `models rm --delete-file` may delete it
    model = library.register(result.path, source=origin)
    if args.json:
        print(json.dumps({"id": model.id, "path": model.path, "type": result.type,
                          "size_bytes": result.size_bytes}))
    else:
        print(f"{model.id}: {human_bytes(result.size_bytes)} {result.type}, "
              f"{result.elapsed_s:.1f} s -> {model.path}")
        print(f"Chat with it: stillroom chat --model {model.id}")
    return 0
