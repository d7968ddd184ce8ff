"""`stillroom backup FILE` and `stillroom restore FILE [--replace]`: the conversations database
copied out (SQLite's online backup API, encrypted like the database) and read back in."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_backup_commands(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser(
        "backup", help="copy the conversations database to FILE (encrypted like it)",
        description="Safe while Stillroom runs. Where the database is encrypted the backup is "
                    "too, with the same key from the OS keyring: it opens only where that "
                    "keyring entry (stillroom / database-key) exists.")
    backup.add_argument("file", type=Path, metavar="FILE", help="the new backup file")
    restore = commands.add_parser(
        "restore", help="make a backup FILE the conversations database",
        description="The backup is checked first (opens with this keyring's key, passes "
                    "SQLite's integrity check); on any problem nothing is changed. Close "
                    "other Stillroom windows and commands first.")
    restore.add_argument("file", type=Path, metavar="FILE", help="a file made by `backup`")
    restore.add_argument("--replace", action="store_true",
                         help="replace a database that holds conversations (it is kept "
                              "aside, not deleted)")


def _database() -> Path:
    from app.config import ConfigError, data_dir, database_url, ensure_writable
    from app.store.encryption import database_path

    url = database_url(ensure_writable(data_dir()))
    path = database_path(url)
    if path is None:
        raise ConfigError("backup and restore handle the SQLite database only; "
                          "STILLROOM_DATABASE_URL points elsewhere (use that server's tools)")
    return path


def run_backup(args: argparse.Namespace) -> int:
    from app.store import backup
    from app.store.db import open_engine

    database = _database()
    # Opening first brings the file to the current schema and encrypts a plaintext one
    # where a keyring exists, so the backup is made from what the app itself would use.
    open_engine(f"sqlite:///{database}").dispose()
    result = backup.backup(database, args.file.expanduser().absolute())
    how = "encrypted with the database key in the OS keyring" if result.encrypted else \
        "NOT encrypted (no OS keyring: the database itself is plaintext)"
    print(f"Backed up {result.conversations} conversations to {result.path} ({how}).")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from app.store import backup

    result = backup.restore(args.file.expanduser().absolute(), _database(),
                            replace=args.replace)
    state = "encrypted" if result.encrypted else "not encrypted (no OS keyring)"
    print(f"Restored {result.conversations} conversations into {result.path} ({state}).")
    if result.kept:
        print(f"The database it replaced is kept at {result.kept}.")
    return 0
