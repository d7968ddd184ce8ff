"""`stillroom models rm`: forget a model; delete its file only if Stillroom made it.

The parser is added from main.py, so the top of this module imports only what parsing needs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference.models.library import ModelLibrary


def add_rm_command(model_commands: argparse._SubParsersAction) -> None:
    command = model_commands.add_parser(
        "rm", help="remove a model from the library (its file stays unless --delete-file)",
        description="Models are registered by reference, so by default the file stays "
                    "where it is. --delete-file also deletes it, but only a file Stillroom "
                    "created, unchanged since (a `models quantize` output, a `models pull` "
                    "download that was not in the HF cache already); any other file is "
                    "left in place.")
    command.add_argument("model", metavar="ID", help="model id, unique prefix or name")
    command.add_argument("--delete-file", action="store_true",
                         help="also delete the file (only one Stillroom created)")
    command.add_argument("--json", action="store_true",
                         help='print {"id", "path", "deleted", "was_default"}')
    command.set_defaults(models_func=run_rm)


def run_rm(args: argparse.Namespace, library: ModelLibrary) -> int:
    from app.config import data_dir, load_settings
    from inference.models.created_files import CreatedFiles
    from inference.models.removal import created_by_stillroom, remove_model

    created = CreatedFiles(data_dir())
    removal = remove_model(library, args.model, delete_file=args.delete_file,
                           models_dir=data_dir() / "models", created=created)
    model = removal.model
    settings, _warnings = load_settings(data_dir() / "settings.json")
    was_default = settings.default_model in (model.id, model.name)
    if was_default:
        # Not changed for the user: which model replaces it is their choice.
        print(f"stillroom: warning: {model.id} was the default model in settings; chats "
              f"without --model will fail until you choose another default (Settings, or "
              f"default_model in {data_dir() / 'settings.json'}).", file=sys.stderr)
    if args.json:
        print(json.dumps({"id": model.id, "path": model.path,
                          "deleted": [str(p) for p in removal.deleted],
                          "left_because": removal.left_because,
                          "was_default": was_default}))
    elif removal.deleted:
        print(f"Removed {model.id} and deleted {model.path}.")
    elif removal.left_because:
        print(f"Removed {model.id} from the library. Its file was left in place at "
              f"{model.path}: {removal.left_because}.")
    elif created_by_stillroom(model, data_dir() / "models", created):
        print(f"Removed {model.id} from the library. Its file stays at {model.path}; "
              f"Stillroom made it, so you may delete it (--delete-file does both at once).")
    else:
        print(f"Removed {model.id} from the library. Its file stays at {model.path}: it "
              f"was registered by reference, and Stillroom leaves files it did not create.")
    return 0
