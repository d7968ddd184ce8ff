"""`stillroom models import`: register models other apps already downloaded, by reference.

The parser is added from main.py, so this module imports only what parsing needs at the top
(`stillroom --help` stays instant); the work's imports wait until the command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from inference.models.sources import KNOWN_ORIGINS, LABELS

if TYPE_CHECKING:
    from inference.models.importer import ImportReport
    from inference.models.library import ModelLibrary
    from inference.models.sources import Found

_WHERE = ("the Hugging Face cache (HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub), "
          "LM Studio (~/.lmstudio/models, ~/.cache/lm-studio/models), Ollama (OLLAMA_MODELS "
          "or ~/.ollama/models) and GPT4All (its app data folder, ~/.cache/gpt4all)")


def add_import_command(model_commands: argparse._SubParsersAction) -> None:
    command = model_commands.add_parser(
        "import", help="register models other apps already downloaded (nothing is copied)",
        description=f"Without PATH, searches {_WHERE}. Each GGUF file is checked and "
                    f"registered where it is; files already in the library are left as "
                    f"they are, so running it again is safe.")
    command.add_argument("path", nargs="?", metavar="PATH",
                         help="a GGUF file, or a folder to search (an Ollama models folder "
                              "or an HF cache is recognised)")
    command.add_argument("--from", dest="origin", default="all",
                         choices=[*KNOWN_ORIGINS, "all"],
                         help="search only this app's folders; with PATH: read PATH as "
                              "that app's layout")
    command.add_argument("--dry-run", action="store_true",
                         help="show what would be imported; register nothing")
    command.add_argument("--json", action="store_true",
                         help='print {"dry_run", "searched", "imported", "present", "skipped"}')
    command.set_defaults(models_func=run_import)


def run_import(args: argparse.Namespace, library: ModelLibrary) -> int:
    from app.cli.errors import EXIT_USER_ERROR, print_error
    from app.cli.progress import StatusLine
    from inference.models.importer import import_models

    status = StatusLine()

    def progress(index: int, total: int, found: Found) -> None:
        # Hashing is the slow part: about a second per gigabyte.
        status.show(f"Checking {found.name} ({index} of {total})...")

    chosen = None if args.origin == "all" else args.origin
    try:
        report = import_models(
            library, origins=[chosen] if chosen else KNOWN_ORIGINS,
            path=Path(args.path) if args.path else None, layout=chosen,
            dry_run=args.dry_run, on_progress=progress)
    finally:
        status.done()
    # A file named on its own that cannot be imported is a failed command, not a finding.
    refused = (args.path and Path(args.path).is_file() and report.skipped
               and not (report.imported or report.present))
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    elif refused:
        print_error(f"not imported: {report.skipped[0].reason}")
    else:
        _print(report)
    return EXIT_USER_ERROR if refused else 0


def _as_json(report: ImportReport) -> dict:
    return {
        "dry_run": report.dry_run,
        "searched": [{"from": s.origin, "path": str(s.path), "exists": s.exists}
                     for s in report.searched],
        "imported": [{
            "id": item.model.id if item.model else None,
            "name": item.found.name, "from": item.found.origin, "format": item.found.format,
            "path": item.model.path if item.model else str(item.found.path.resolve()),
            "sha256": item.model.sha256 if item.model else item.found.sha256,
            "size_bytes": item.size_bytes, "quantization": item.quantization,
        } for item in report.imported],
        "present": [{"id": item.model_id, "from": item.found.origin,
                     "path": str(item.found.path)} for item in report.present],
        "skipped": [{"from": item.origin, "path": str(item.path), "reason": item.reason}
                    for item in report.skipped],
    }


def _print(report: ImportReport) -> None:
    from app.cli.render import human_bytes

    print("Searched:")
    for place in report.searched:
        note = "" if place.exists else "  (not there)"
        print(f"  {LABELS[place.origin]:19} {place.path}{note}")
    if report.imported:
        verb = "Would import" if report.dry_run else "Imported"
        print(f"{verb} ({len(report.imported)}):")
        for item in report.imported:
            ident = item.model.id if item.model else item.found.id_hint
            print(f"  {ident:40} {item.quantization or '?':8} "
                  f"{human_bytes(item.size_bytes):>9}  {LABELS[item.found.origin]}: "
                  f"{item.found.name}")
    if report.present:
        print(f"Already in the library ({len(report.present)}):")
        for present in report.present:
            print(f"  {present.model_id:40} {LABELS[present.found.origin]}: "
                  f"{present.found.name}")
    if report.skipped:
        print(f"Skipped ({len(report.skipped)}):")
        for skipped in report.skipped:
            print(f"  {skipped.path}\n      {skipped.reason}")
    if not (report.imported or report.present or report.skipped):
        print("No models found.")
    if report.dry_run:
        print("Dry run: nothing was registered.")
    elif report.imported:
        print("Registered by reference: the files stay where they are. Chat with one: "
              f"stillroom chat --model {report.imported[0].model.id}")
