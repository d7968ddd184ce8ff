"""`stillroom audit verify | export [FILE]`: the routing audit log in the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.store.audit_log import AuditLog

EXIT_BROKEN = 1


def add_audit_command(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser(
        "audit", help="the routing audit log: verify its hash chain, export it",
        description="One content-free row per routing decision (where, why, tokens, cost; "
                    "never the text), each chained to the one before by its hash.")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    actions.add_parser("verify", help="check that no row was edited, inserted or deleted "
                                      "(exit 1 and the row when one was)")
    export = actions.add_parser("export", help="write every row as JSON Lines")
    export.add_argument("file", nargs="?", type=Path, metavar="FILE",
                        help="where to write (default: stdout)")


def _open_log() -> AuditLog:
    # Only the database: verifying must not load models or start the energy meter.
    from app.config import data_dir, database_url, ensure_writable
    from app.store.audit_anchor import AuditAnchor
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


def _anchor_note(sources: list[str]) -> str:
    if "keyring" in sources:
        return "head checked against audit-head.json and the OS keyring"
    return ("head checked against audit-head.json only (no OS keyring: rolling back the "
            "database and that file together would go unnoticed)")


def _verify(log: AuditLog) -> int:
    rows = log.rows()
    broken = log.verify(rows)
    head, sources = log.head(rows)
    if broken is None:
        last = f"; last hash {rows[-1]['hash'][:16]}…" if rows else ""
        print(f"Audit log intact: {len(rows)} rows{last}; {_anchor_note(sources)}.")
        return 0
    if broken == len(rows) and head is not None:
        print(f"stillroom: the audit log is missing its last {head.count - len(rows)} row(s): "
              f"{head.count} were written, {len(rows)} remain; {_anchor_note(sources)}.",
              file=sys.stderr)
        return EXIT_BROKEN
    seq = rows[broken].get("seq") if broken < len(rows) else None
    where = f"row {broken + 1}" + (f" (seq {seq})" if seq is not None else "")
    print(f"stillroom: the audit log is broken at {where}: a row there or just before it was "
          f"edited, inserted or deleted; rows from there on cannot be trusted.",
          file=sys.stderr)
    return EXIT_BROKEN


def _export(log: AuditLog, path: Path | None) -> int:
    if path is None:
        count = log.export(sys.stdout)
    else:
        with path.open("w", encoding="utf-8") as stream:
            count = log.export(stream)
    print(f"Exported {count} audit rows" + (f" to {path}." if path else "."), file=sys.stderr)
    return 0
