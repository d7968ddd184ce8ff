"""Turn failures into one clear line for the user; keep tracebacks for crash reports only."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services import Services

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def user_facing_errors() -> tuple[type[BaseException], ...]:
    from app.config import ConfigError
    from app.store.conversations import ConversationNotFoundError
    from app.store.db import StoreError
    from inference.engines.types import EngineError

    return (ConfigError, StoreError, EngineError, ConversationNotFoundError, ValueError)


def database_errors() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's DatabaseError: a damaged file ("database disk image is malformed")."""
    from sqlalchemy.exc import DatabaseError

    return (DatabaseError,)


def describe_database_error(error: Exception) -> str:
    """One line: whether the database is damaged (PRAGMA integrity_check) and what to do."""
    from app.config import data_dir, database_url
    from app.store.db import damaged_database_error

    return str(damaged_database_error(database_url(data_dir()), error))


def print_error(message: str) -> None:
    print(f"stillroom: {message}", file=sys.stderr)


def print_start_report(services: Services) -> None:
    """What Services.open had to say: each file it could not use (one line each) and any
    one-time notice (the store was just encrypted)."""
    for warning in services.warnings:
        print_error(f"warning: {warning}")
    for notice in services.notices:
        print_error(f"note: {notice}")


def run_guarded(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return command(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0  # the reader went away (`stillroom ... | head`)
    except user_facing_errors() as exc:
        print_error(str(exc))
        return EXIT_USER_ERROR
    except database_errors() as exc:
        print_error(describe_database_error(exc))
        return EXIT_USER_ERROR
    except Exception as exc:
        report = _write_crash_report(exc)
        where = f" A crash report is in {report}." if report else ""
        # The message may quote user text (a prompt, a file line): never a card number.
        print_error(f"unexpected error: {type(exc).__name__}: {_redact(str(exc))}.{where}")
        return 1


def _write_crash_report(exc: BaseException) -> Path | None:
    """Save the traceback in the data directory: it holds code paths, never settings or keys,
    and what the sensitivity gate finds in its messages is redacted (reports get shared)."""
    try:
        from app.config import data_dir

        reports = data_dir() / "crash-reports"
        reports.mkdir(parents=True, exist_ok=True)
        path = reports / f"crash-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
        path.write_text(_redact("".join(traceback.format_exception(exc))), encoding="utf-8")
        return path
    except OSError:
        return None


def _redact(text: str) -> str:
    from app.redaction import redact  # the gate's patterns load only when something crashed

    return redact(text)
