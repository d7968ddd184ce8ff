"""Names and hashes a Hub server sends, checked before any of them becomes part of a path.

A server (the real Hub, a mirror in HF_ENDPOINT, or whoever answers in its place) chooses
repository ids, file names, commits and SHA-256 digests, and the transfer turns them into
paths in the HF cache: blobs/<sha256>, snapshots/<commit>/<file>. Unchecked, a file name of
`../../x` or `/etc/x` would place a link outside the cache, and a digest of `../x` would
make the checksum step delete an arbitrary file. So every such value passes one of these
checks first, and every path built from them must stay under its root (`within`).

The grammars follow the Hub's documentation: repository ids are `[namespace/]name` made of
letters, digits, `-`, `_`, `.`, at most 96 characters, with no `--` or `..` and no `-`/`.`
at either end; file names are relative POSIX paths inside the repository. We are stricter
than the Hub only where a name would mean something else on some file system (a `:` is a
drive or a stream on Windows, a `\\` a separator there).
"""

from __future__ import annotations

import re
from pathlib import Path

from inference.engines.types import EngineError

_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")  # a git commit id: what `main` resolves to
_REPO_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_REPO_ID_MAX = 96
_FILENAME_MAX = 1024
_SEGMENT_MAX = 255  # most file systems' limit for one name
_SIZE_MAX = 1 << 50  # 1 PiB: larger than any file, small enough to add up safely
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RemoteNameError(EngineError, ValueError):
    """A value from the server that must not reach the file system; the message names it."""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_sha256(value: object, field: str = "sha256") -> str:
    """Exactly 64 lower-case hex digits (the form the Hub publishes for LFS files)."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise RemoteNameError(f"The Hub's {field} is {_shown(value)}: not 64 lower-case hex "
                              f"digits; refusing to use it.")
    return value


def check_commit(value: object, field: str = "revision") -> str:
    """A commit id: exactly 40 lower-case hex digits."""
    if not isinstance(value, str) or not _COMMIT.fullmatch(value):
        raise RemoteNameError(f"The Hub's {field} is {_shown(value)}: not a commit id (40 "
                              f"lower-case hex digits); refusing to use it.")
    return value


def check_repo_id(value: object, field: str = "repo id") -> str:
    """`namespace/name` or a legacy `name`, in the Hub's documented grammar."""
    if not isinstance(value, str) or not _valid_repo_id(value):
        raise RemoteNameError(
            f"The {field} {_shown(value)} is not a Hub repository id (letters, digits, '-', "
            f"'_', '.', as NAMESPACE/NAME, at most {_REPO_ID_MAX} characters).")
    return value


def _valid_repo_id(value: str) -> bool:
    parts = value.split("/")
    return (len(value) <= _REPO_ID_MAX and 1 <= len(parts) <= 2
            and all(_REPO_PART.fullmatch(part) for part in parts)
            and "--" not in value and ".." not in value)


def check_filename(value: object, field: str = "file name") -> str:
    """A relative POSIX path inside the repository: no empty, `.` or `..` segment, no
    leading `/`, no `\\`, `:` or control character."""
    if not isinstance(value, str) or not _valid_filename(value):
        raise RemoteNameError(f"The Hub's {field} is {_shown(value)}: not a plain relative "
                              f"path inside the repository; refusing to use it.")
    return value


def _valid_filename(value: str) -> bool:
    if not value or len(value) > _FILENAME_MAX or _CONTROL.search(value):
        return False
    if "\\" in value or ":" in value:
        return False
    segments = value.split("/")
    return all(s not in ("", ".", "..") and len(s.encode()) <= _SEGMENT_MAX for s in segments)


def check_size(value: object, field: str = "size") -> int | None:
    """None (not published) or a whole number of bytes from 0 to 1 PiB."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _SIZE_MAX:
        raise RemoteNameError(f"The Hub's {field} is {_shown(value)}: not a file size in "
                              f"bytes; refusing to use it.")
    return value


def within(root: Path, path: Path, field: str = "path") -> Path:
    """`path` resolved (links followed), provided it stays under `root` resolved; else
    RemoteNameError. Resolving follows a link already planted in the cache, too."""
    resolved_root = root.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(resolved_root):
        raise RemoteNameError(f"The {field} {path} would lead outside {root}; refusing to "
                              f"use it.")
    return resolved
