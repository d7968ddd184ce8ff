"""The files Stillroom itself made, so that `models rm --delete-file` deletes only those.

A pull's blob, a quantize output and an MLX conversion folder are recorded here with their
path and content digest at the moment they are made (`record`). Where a file came from
cannot be told afterwards from its place or its library entry: a Hugging Face blob may have
been made by another tool and reused by a pull, and a path may since hold other bytes. So
removal deletes only a path listed here whose content still matches (`owns`); anything
else is forgotten by the library and left in place.

The ledger is `created-files.json` in the data directory, written atomically under a file
lock. It fails closed: an unreadable ledger owns nothing (nothing is deleted); the next
`record` moves it aside (kept, for a person to look at) and starts a new one.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from inference.files import file_lock, sha256_file, write_json_atomic

LEDGER_FILE = "created-files.json"
_VERSION = 1
_DIGEST = re.compile(r"[0-9a-f]{64}")


class LedgerUnreadable(Exception):
    """created-files.json exists but is not a ledger this version can read."""


def content_digest(path: Path) -> str:
    """SHA-256 of a file; for a folder (an MLX model), of its sorted relative names with
    each file's SHA-256 and each link's target, so that any change shows."""
    if not path.is_dir():
        return sha256_file(path)
    lines = []
    for item in sorted(path.rglob("*")):
        name = item.relative_to(path).as_posix()
        if item.is_symlink():
            lines.append(f"link {name} -> {item.readlink()}")
        elif item.is_file():
            lines.append(f"file {name} {sha256_file(item)}")
        else:
            lines.append(f"dir {name}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class CreatedFiles:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LEDGER_FILE
        self._lock = threading.Lock()

    def record(self, path: Path, sha256: str | None = None) -> None:
        """Note that Stillroom just made `path`. `sha256`: the file's digest when the caller
        has it already (a verified download), so a large file is not read twice."""
        digest = sha256 or content_digest(path)
        key = _key(path)
        with self._lock, file_lock(self.path.with_suffix(".lock")):
            try:
                entries = self._read()
            except LedgerUnreadable:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                self.path.replace(self.path.with_name(f"{LEDGER_FILE}.unreadable-{stamp}"))
                entries = {}
            entries[key] = {"sha256": digest, "kind": "folder" if path.is_dir() else "file",
                            "created": datetime.now(UTC).isoformat(timespec="seconds")}
            self._write(entries)

    def lists(self, path: Path) -> bool:
        """Recorded as made by Stillroom (content not checked: cheap, for what to offer)."""
        try:
            return _key(path) in self._read()
        except LedgerUnreadable:
            return False

    def owns(self, path: Path) -> bool:
        """Recorded as made by Stillroom and its content still what was recorded."""
        try:
            entry = self._read().get(_key(path))
        except LedgerUnreadable:
            return False
        if entry is None or not path.exists():
            return False
        try:
            return content_digest(path) == entry["sha256"]
        except OSError:
            return False

    def forget(self, path: Path) -> None:
        with self._lock, file_lock(self.path.with_suffix(".lock")):
            try:
                entries = self._read()
            except LedgerUnreadable:
                return
            if entries.pop(_key(path), None) is not None:
                self._write(entries)

    def _read(self) -> dict[str, dict]:
        """The valid entries; an entry that is not well formed is left out (owns nothing)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LedgerUnreadable(str(exc)) from exc
        if not isinstance(data, dict) or data.get("version") != _VERSION \
                or not isinstance(data.get("files"), dict):
            raise LedgerUnreadable("not a created-files ledger")
        return {key: entry for key, entry in data["files"].items()
                if isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and _DIGEST.fullmatch(entry["sha256"])}

    def _write(self, entries: dict[str, dict]) -> None:
        write_json_atomic(self.path, {"version": _VERSION, "files": entries})


def _key(path: Path) -> str:
    """One spelling per place: absolute, with the folders' links resolved but not the last
    name's (a snapshot link and its blob are two entries)."""
    path = Path(path).absolute()
    return str(path.parent.resolve() / path.name)
