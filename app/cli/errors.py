"""Turn failures into one clear line for the user; keep tracebacks for crash reports only."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def user_facing_errors() -> tuple[type[BaseException], ...]:
    from app.config import ConfigError
    from app.store.conversations import ConversationNotFoundError
    from app.store.db import StoreError
    from inference.engines.types import EngineError

    return (ConfigError, StoreError, EngineError, ConversationNotFoundError, ValueError)


def print_error(message: str) -> None:
    print(f"stillroom: {message}", file=sys.stderr)


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
    except Exception as exc:
        report = _write_crash_report(exc)
        where = f" A crash report is in {report}." if report else ""
        print_error(f"unexpected error: {type(exc).__name__}: {exc}.{where}")
        return 1


def _write_crash_report(exc: BaseException) -> Path | None:
    """Save the traceback in the data directory: it holds code paths, never settings or keys."""
    try:
        from app.config import data_dir

        reports = data_dir() / "crash-reports"
        reports.mkdir(parents=True, exist_ok=True)
        path = reports / f"crash-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except OSError:
        return None
