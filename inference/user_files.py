"""Reading the user's own files fail-closed: a file that cannot be used is a FileProblem.

Every loader of a file in the data directory (settings.json, policy.toml, providers.json,
price-overrides.json, models.json, downloads.json) reports a damaged file the same way:
one line naming the file and the line or field that is wrong and what to do, with a copy
of the bad bytes kept beside it as ``<name>.bad-<UTC time>`` before anything rewrites the
file. The caller then falls back to its most private state (offline on, local routes only,
no jobs). Lives in ``inference`` so that ``routing`` and ``app`` can both use it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BAD_COPY_MARK = ".bad-"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One user file that could not be used as written, and what happens meanwhile."""

    path: Path
    message: str                  # names the file and the line or field; one line
    kept_copy: Path | None = None  # the bad bytes, set aside before any rewrite

    def __str__(self) -> str:
        kept = f" A copy of the bad file is kept as {self.kept_copy.name}." \
            if self.kept_copy else ""
        return f"{self.message}{kept}"


def one_line(text: str) -> str:
    """Parser messages may span lines (tomllib, repr of odd values); the user sees one."""
    return " ".join(str(text).split())


def set_aside_copy(path: Path) -> Path | None:
    """Copy ``path`` to ``<name>.bad-<UTC time>``, once per content: a file still broken at
    the next start is not copied again. None when there is nothing to copy or no room."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    for earlier in sorted(path.parent.glob(f"{path.name}{BAD_COPY_MARK}*")):
        try:
            if earlier.read_bytes() == data:
                return earlier
        except OSError:
            continue
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    copy = path.with_name(f"{path.name}{BAD_COPY_MARK}{stamp}")
    try:
        shutil.copyfile(path, copy)
    except OSError:
        return None  # a full or read-only disk: the original is still untouched
    return copy


def file_problem(path: Path, message: str) -> FileProblem:
    """A problem with ``path``, its bytes copied aside first."""
    return FileProblem(path, one_line(message), set_aside_copy(path))


class MissingFile:
    """Marker for a file that does not exist yet (its defaults apply; not a problem)."""


MISSING = MissingFile()


def read_json_file(path: Path, what: str, **json_options: object
                   ) -> tuple[object, FileProblem | None]:
    """The parsed JSON of ``path`` (MISSING when absent), or None and the problem.

    ``what`` is the user's word for the file ("The settings file"); the problem names the
    path and, for a syntax error, the line and column.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return MISSING, None
    except UnicodeDecodeError:
        return None, file_problem(path, f"{what} {path} is not UTF-8 text; fix or replace it.")
    except OSError as exc:
        return None, FileProblem(path, one_line(
            f"{what} {path} cannot be read ({exc.strerror or type(exc).__name__}); check its "
            f"permissions."))
    try:
        return json.loads(text, **json_options), None  # type: ignore[arg-type]
    except json.JSONDecodeError as exc:
        return None, file_problem(path, f"{what} {path} is not valid JSON (line {exc.lineno}, "
                                        f"column {exc.colno}: {exc.msg}); fix it or remove it.")
    except (ValueError, RecursionError) as exc:  # an absurdly deep or huge number
        return None, file_problem(path, f"{what} {path} cannot be parsed "
                                        f"({type(exc).__name__}); fix it or remove it.")
