"""`stillroom audit verify | export [FILE]`: the routing audit log in the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.errors import EXIT_USER_ERROR, print_error

if TYPE_CHECKING:  # imported when the command runs: `stillroom --help` must not load SQLAlchemy
    from app.store.audit_log import AuditLog

EXIT_BROKEN = 1


def add_audit_command(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser(
        "audit", help="the routing audit log: verify its hash chain, export it",
        description="One content-free row per routing decision (where, why, tokens, cost; "
                    "never the text), each chained to the one before by its HMAC-SHA256 MAC (key "
                    "and head in the OS keyring; only SHA-256 hash-chained without one).")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    actions.add_parser("verify", help="check that no row was edited, inserted, deleted, "
                                      "forged or rolled back (exit 1 and what, when one was)")
    export = actions.add_parser("export", help="write every row as JSON Lines")
    export.add_argument("file", nargs="?", type=Path, metavar="FILE",
                        help="where to write (default: stdout)")


def _open_log() -> AuditLog:
    # Only the database: verifying must not load models or start the energy meter.
    from app.config import data_dir, database_url, ensure_writable
    from app.store.audit_anchor import AuditAnchor
    from app.store.audit_log import AuditLog
    from app.store.db import open_engine

    directory = ensure_writable(data_dir())
    return AuditLog(open_engine(database_url(directory)), AuditAnchor(directory))


def run_audit(args: argparse.Namespace) -> int:
    log = _open_log()
    try:
        if args.audit_command == "verify":
            return _verify(log)
        return _export(log, args.file)
    finally:
        log.engine.dispose()


def _verify(log: AuditLog) -> int:
    result = log.check()
    if result.intact:
        print(f"{result.verdict} Protection: {result.protection}.")
        return 0
    print_error(result.verdict)
    print(f"Protection: {result.protection}.", file=sys.stderr)
    return EXIT_BROKEN


def _export(log: AuditLog, path: Path | None) -> int:
    from routing.audit import export_jsonl

    rows = log.rows()  # first: a dropped table is one line and leaves no empty file behind
    if path is None:
        count = export_jsonl(rows, sys.stdout)
    else:
        try:
            stream = path.open("w", encoding="utf-8")
        except OSError as exc:
            print_error(f"cannot write the audit export to {path}: "
                        f"{exc.strerror or type(exc).__name__}; name a file in a folder that "
                        f"exists and that you can write to.")
            return EXIT_USER_ERROR
        with stream:
            count = export_jsonl(rows, stream)
    print(f"Exported {count} audit rows" + (f" to {path}." if path else "."), file=sys.stderr)
    return 0
