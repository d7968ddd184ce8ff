"""What the audit chain is checked against, kept outside the database: its MAC key and its
head (row count, first and last MAC).

The key: 32 random bytes (hex) in the OS keyring, service "stillroom", entry
`audit-key:<data directory id>`, made the first time a row is appended with a keyring present.
Each row's MAC is HMAC-SHA256 under it (routing.audit.chain), so someone who can write the
database but not read the keyring cannot recompute the chain. Without a keyring there is no
key: rows are hash-chained only (SHA-256), which anyone can recompute.

The head: after every append, `audit-head:<data directory id>` in the keyring and
`audit-head.json` in the data directory. `stillroom audit verify` checks the rows against it:
fewer rows (a rollback, a cut tail), more (rows the app did not write), a different first row
(a rewritten or replaced log). The keyring's copy wins where there is one; the file is the
only copy without a keyring, and restoring an older database together with an older file
then cannot be detected.

Both entries are named per data directory (a hash of its resolved path), not per chain:
a log rewritten from its first row would otherwise find no head and pass. A new log in the
same directory (the database moved aside) keeps the old head as `replaced`, so verify says
the earlier log is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inference.files import write_json_atomic
from routing.keys import SERVICE, usable_keyring

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

ANCHOR_FILE = "audit-head.json"
_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class AuditHead:
    first_hash: str
    count: int
    last_hash: str
    # The head of an earlier log in this data directory that a new log replaced.
    replaced: AuditHead | None = None

    def to_json(self) -> dict[str, object]:
        values: dict[str, object] = {"first_hash": self.first_hash, "count": self.count,
                                     "last_hash": self.last_hash}
        if self.replaced is not None:
            values["replaced"] = self.replaced.to_json()
        return values


def _parse(raw: object) -> AuditHead | None:
    if not isinstance(raw, dict):
        return None
    try:
        replaced = _parse(raw["replaced"]) if "replaced" in raw else None
        return AuditHead(str(raw["first_hash"]), int(raw["count"]), str(raw["last_hash"]),
                         replaced)
    except (KeyError, TypeError, ValueError):
        return None


def _loads(text: str | None) -> AuditHead | None:
    try:
        return _parse(json.loads(text or "null"))
    except json.JSONDecodeError:
        return None


class AuditAnchor:
    def __init__(self, data_dir: Path, *, use_keyring: bool = True) -> None:
        self.path = data_dir / ANCHOR_FILE
        self._use_keyring = use_keyring
        self._lock = threading.Lock()
        directory_id = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:16]
        self._head_entry = f"audit-head:{directory_id}"
        self._key_entry = f"audit-key:{directory_id}"

    def _backend(self) -> KeyringBackend | None:
        return usable_keyring() if self._use_keyring else None

    def keyring_available(self) -> bool:
        return self._backend() is not None

    def key(self, *, create: bool) -> bytes | None:
        """The audit MAC key; made and stored on first use when `create`. None when there is
        no keyring, it refuses (locked), or (without `create`) no key was made yet."""
        backend = self._backend()
        if backend is None:
            return None
        try:
            stored = backend.get_password(SERVICE, self._key_entry)
            if stored is None and create:
                stored = secrets.token_hex(_KEY_BYTES)
                backend.set_password(SERVICE, self._key_entry, stored)
            return bytes.fromhex(stored) if stored else None
        except Exception:
            return None  # a locked or broken keyring: rows go unkeyed, and verify says so

    def advance(self, head: AuditHead) -> None:
        """Record a new head, never moving it backwards (two writers may finish out of
        order). A head of another log is kept as `replaced`, never silently dropped."""
        with self._lock:
            new = self._successor(self._from_file(), head)
            if new is not None:
                write_json_atomic(self.path, new.to_json())
            backend = self._backend()
            if backend is None:
                return
            # A keyring that is locked or refuses leaves the file's copy; the chat goes on, and
            # verify reports the rows past the keyring's head.
            with contextlib.suppress(Exception):
                stored = _loads(backend.get_password(SERVICE, self._head_entry))
                new = self._successor(stored, head)
                if new is not None:
                    backend.set_password(SERVICE, self._head_entry, json.dumps(new.to_json()))

    @staticmethod
    def _successor(stored: AuditHead | None, head: AuditHead) -> AuditHead | None:
        if stored is None:
            return head
        if stored.first_hash != head.first_hash:
            # Keep the first log ever replaced: that is the one whose loss must stay visible.
            return AuditHead(head.first_hash, head.count, head.last_hash,
                             stored.replaced or AuditHead(stored.first_hash, stored.count,
                                                          stored.last_hash))
        if head.count > stored.count:
            return AuditHead(head.first_hash, head.count, head.last_hash, stored.replaced)
        return None

    def _from_file(self) -> AuditHead | None:
        try:
            return _loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None

    def load(self, first_hash: str | None = None) -> tuple[AuditHead | None, list[str]]:
        """The recorded head and where it came from: ["keyring"] when the keyring holds one
        (it is the copy the database's writer cannot reach), else ["file"], else []."""
        backend = self._backend()
        if backend is not None:
            with contextlib.suppress(Exception):
                stored = _loads(backend.get_password(SERVICE, self._head_entry))
                if stored is None and first_hash:
                    # Written before heads were named per data directory (by first row).
                    stored = _loads(backend.get_password(SERVICE,
                                                         f"audit-head:{first_hash[:16]}"))
                if stored is not None:
                    return stored, ["keyring"]
        file_head = self._from_file()
        return file_head, (["file"] if file_head is not None else [])
