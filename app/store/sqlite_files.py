"""SQLite database files below SQLAlchemy: opening one with or without a SQLCipher key,
telling encrypted from plaintext, proving a copy holds the same rows, and taking a file for
ourselves before it is replaced.

All of it goes through sqlcipher3 (SQLite with SQLCipher 4 built in), which opens plaintext
files too. The key is only ever passed to `PRAGMA key`; it never appears in a message.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

# The first 16 bytes of every plaintext SQLite file; SQLCipher files start with random salt.
SQLITE_HEADER = b"SQLite format 3\x00"
# Files SQLite keeps beside a database while it is open or after a crash.
SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")


class DatabaseInUseError(RuntimeError):
    """Another process has the database open, so it must not be replaced now."""


def sqlcipher() -> ModuleType | None:
    """sqlcipher3.dbapi2, or None where it is not installed."""
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        return None
    return dbapi2


def is_encrypted(path: Path) -> bool:
    """True when the file exists, has content, and does not start like plaintext SQLite."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return False
    return bool(header) and header != SQLITE_HEADER


def key_pragma(key_hex: str) -> str:
    # A raw 256-bit key (x'...'): SQLCipher uses it as is, with no passphrase derivation.
    return f"PRAGMA key = \"x'{key_hex}'\""


def connect(path: Path, key_hex: str | None, **options: Any) -> Any:
    """A sqlcipher3 connection to `path`, keyed when `key_hex` is given. The key is checked
    at once: a wrong key or a damaged file raises sqlcipher3's DatabaseError here."""
    dbapi = sqlcipher()
    if dbapi is None:
        raise RuntimeError("sqlcipher3 is not installed")
    connection = dbapi.connect(str(path), **options)
    try:
        # SQLCipher logs a failed HMAC check to stderr; the caller words that failure itself.
        connection.execute("PRAGMA cipher_log_level = NONE")
        if key_hex is not None:
            connection.execute(key_pragma(key_hex))
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except Exception:
        connection.close()
        raise
    return connection


def table_names(connection: Any) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name").fetchall()
    return [name for (name,) in rows]


def content_digest(connection: Any) -> dict[str, tuple[int, str]]:
    """Per table: row count and a SHA-256 over every row, in rowid order. Two files with the
    same digest hold the same rows, whatever their encryption or page layout."""
    digest = {}
    for name in table_names(connection):
        quoted = '"' + name.replace('"', '""') + '"'
        hasher, count = hashlib.sha256(), 0
        for row in connection.execute(f"SELECT * FROM {quoted} ORDER BY rowid"):
            hasher.update(repr(row).encode())
            count += 1
        digest[name] = (count, hasher.hexdigest())
    return digest


def integrity_ok(connection: Any) -> bool:
    return connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def remove_sidecars(path: Path) -> None:
    for suffix in SIDECAR_SUFFIXES:
        path.with_name(path.name + suffix).unlink(missing_ok=True)


@contextlib.contextmanager
def exclusively(path: Path, key_hex: str | None) -> Iterator[Any]:
    """Hold `path` so no other connection can read or write it, with its WAL folded back into
    the file (journal_mode DELETE), for as long as the block runs. Raises DatabaseInUseError
    when another process has it open: in EXCLUSIVE locking mode a WAL database is held with
    the file's own exclusive lock, which an idle connection elsewhere that has read the file
    still blocks (tests/app/test_encryption.py holds one open)."""
    dbapi = sqlcipher()
    connection = connect(path, key_hex, isolation_level=None, timeout=2)
    try:
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            connection.execute("BEGIN EXCLUSIVE")
        except dbapi.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise DatabaseInUseError(str(exc)) from None
        # In EXCLUSIVE locking mode the lock outlives the transaction.
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode = DELETE")
        yield connection
    finally:
        connection.close()
