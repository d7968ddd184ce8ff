"""The audit chain's head (row count and last hash), kept outside the database.

A hash chain alone cannot show that its last rows were deleted: what is left is a valid,
shorter chain. So after every append the head is written where the database's rows are not:
`audit-head.json` in the data directory and, where an OS keyring exists, the keyring too.
`stillroom audit verify` then knows how many rows there must be and what the last one hashed
to. Deleting rows from the database and rolling back audit-head.json together goes unnoticed
only without a keyring (verify says which checks it could make).

The keyring entry is named after the chain's first row, so a fresh database (a new data
directory, a reset) starts its own anchor instead of tripping over an old one.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from inference.files import write_json_atomic

ANCHOR_FILE = "audit-head.json"
_KEYRING_SERVICE = "stillroom"


@dataclass(frozen=True, slots=True)
class AuditHead:
    first_hash: str
    count: int
    last_hash: str

    def to_json(self) -> dict[str, str | int]:
        return {"first_hash": self.first_hash, "count": self.count,
                "last_hash": self.last_hash}


def _keyring_backend():  # -> a usable keyring backend or None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None
    return backend


def _parse(raw: object, first_hash: str | None) -> AuditHead | None:
    if not isinstance(raw, dict):
        return None
    try:
        head = AuditHead(str(raw["first_hash"]), int(raw["count"]), str(raw["last_hash"]))
    except (KeyError, TypeError, ValueError):
        return None
    if first_hash is not None and head.first_hash != first_hash:
        return None  # the anchor of another (older) log
    return head


class AuditAnchor:
    def __init__(self, data_dir: Path, *, use_keyring: bool = True) -> None:
        self.path = data_dir / ANCHOR_FILE
        self._use_keyring = use_keyring
        self._lock = threading.Lock()

    @staticmethod
    def _slot(first_hash: str) -> str:
        return f"audit-head:{first_hash[:16]}"

    def advance(self, head: AuditHead) -> None:
        """Record a new head, never moving it backwards (two writers may finish out of order)."""
        with self._lock:
            current = self._from_file(head.first_hash)
            if current is None or head.count > current.count:
                write_json_atomic(self.path, head.to_json())
            backend = _keyring_backend() if self._use_keyring else None
            if backend is None:
                return
            # A keyring that is locked or refuses leaves the file anchor; the chat goes on.
            with contextlib.suppress(Exception):
                stored = _parse(json.loads(backend.get_password(
                    _KEYRING_SERVICE, self._slot(head.first_hash)) or "null"), head.first_hash)
                if stored is None or head.count > stored.count:
                    backend.set_password(_KEYRING_SERVICE, self._slot(head.first_hash),
                                         json.dumps(head.to_json()))

    def _from_file(self, first_hash: str | None) -> AuditHead | None:
        try:
            return _parse(json.loads(self.path.read_text(encoding="utf-8")), first_hash)
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return None

    def load(self, first_hash: str | None) -> tuple[AuditHead | None, list[str]]:
        """The furthest head recorded for the log starting with `first_hash`, and which
        places were consulted ("file", "keyring")."""
        heads, sources = [], ["file"]
        file_head = self._from_file(first_hash)
        if file_head is not None:
            heads.append(file_head)
        backend = _keyring_backend() if self._use_keyring and first_hash else None
        if backend is not None:
            with contextlib.suppress(Exception):
                raw = backend.get_password(_KEYRING_SERVICE, self._slot(first_hash))
                sources.append("keyring")
                stored = _parse(json.loads(raw or "null"), first_hash)
                if stored is not None:
                    heads.append(stored)
        return (max(heads, key=lambda head: head.count) if heads else None), sources
