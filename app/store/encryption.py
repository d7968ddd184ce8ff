"""Conversations encrypted at rest: SQLCipher 4 with a random 256-bit raw key that lives in the
OS keyring (service "stillroom", entry "database-key") and nowhere else.

Where a keyring exists, a new database is created encrypted and an existing plaintext one is
migrated in place (`migrate_plaintext`): a verified plaintext backup first, then
`sqlcipher_export` into a new file, verified row for row, then swapped in. Where none exists
the database stays plaintext and `describe` says so: Stillroom never invents a passphrase and
keeps it on disk. An encrypted database whose key cannot be read is never opened or replaced:
the start stops with a message (fail closed).

One key per keyring, not per data directory: a backup restored into another data directory
on the same keyring opens with it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from app.store import db_url, sqlite_files
from app.store.sqlite_files import DatabaseInUseError

KEYRING_SERVICE = "stillroom"
KEY_NAME = "database-key"
PLAINTEXT_BACKUP_GLOB = "*-plaintext-backup-*.db"
NO_KEYRING = ("not encrypted: no OS keyring (install and unlock GNOME Keyring or KWallet, "
              "or use the macOS / Windows keychain; Stillroom never keeps a passphrase on disk)")
_HEX_KEY = re.compile(r"[0-9a-f]{64}")


class KeyUnavailableError(Exception):
    """The key of an encrypted database cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class AtRest:
    """Whether the conversations are encrypted on disk, and why (for doctor and the GUI)."""

    encrypted: bool
    reason: str
    # Said once, at the start that migrated: where the plaintext copy was kept.
    notice: str | None = None

    def line(self) -> str:
        return self.reason


def _keyring():  # -> a usable keyring backend or None
    from routing.keys import usable_keyring

    return usable_keyring()


def stored_key() -> str | None:
    """The database key from the keyring; None where there is no keyring or no key yet.
    Raises KeyUnavailableError for a keyring that refuses to answer or a damaged entry."""
    backend = _keyring()
    if backend is None:
        return None
    import keyring.errors

    try:
        key = backend.get_password(KEYRING_SERVICE, KEY_NAME)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailableError(
            f"the OS keyring did not give out the database key ({type(exc).__name__}); "
            f"is it locked?") from None
    if key is not None and not _HEX_KEY.fullmatch(key):
        raise KeyUnavailableError(
            f"the keyring entry '{KEYRING_SERVICE} / {KEY_NAME}' is not a database key")
    return key


def _create_key() -> str | None:
    """A new random key stored in the keyring and read back; None when the keyring will not
    keep it (then the database stays plaintext: an unkept key would lose the data)."""
    import keyring.errors

    backend = _keyring()
    if backend is None:
        return None
    key = secrets.token_hex(32)
    try:
        backend.set_password(KEYRING_SERVICE, KEY_NAME, key)
        kept = backend.get_password(KEYRING_SERVICE, KEY_NAME)
    except keyring.errors.KeyringError:
        return None
    return key if kept == key else None


def ensure_key() -> str | None:
    """The keyring's database key, made now if there is none yet; None where no keyring
    keeps one. Raises KeyUnavailableError as stored_key does."""
    return stored_key() or _create_key()


def database_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def plaintext_backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.stem + PLAINTEXT_BACKUP_GLOB.removeprefix("*")))


def describe(url: str) -> AtRest:
    """The state on disk now, without changing anything (doctor)."""
    path = database_path(url)
    if path is None:
        backend = make_url(url).get_backend_name()
        if backend == "sqlite":
            return AtRest(False, "not on disk: the database is in memory")
        if db_url.is_postgresql(url):
            return AtRest(False, postgresql_at_rest(make_url(url)))
        return AtRest(False, f"not managed here: the database is {backend} (its server's own "
                             f"encryption applies)")
    if sqlite_files.is_encrypted(path):
        try:
            key = stored_key()
        except KeyUnavailableError as exc:
            return AtRest(True, f"encrypted at rest, but {exc}")
        if key is None:
            return AtRest(True, f"encrypted at rest, but it cannot be opened: {_no_key()}")
        return AtRest(True, _encrypted_reason(path))
    if sqlite_files.sqlcipher() is None:
        return AtRest(False, "not encrypted: SQLCipher (the sqlcipher3 package) is missing")
    if _keyring() is None:
        return AtRest(False, NO_KEYRING)
    when = "at the next start" if path.exists() else "when it is created"
    return AtRest(False, f"not encrypted yet: it will be encrypted {when}")


def postgresql_at_rest(url: URL) -> str:
    """What Stillroom can say about a PostgreSQL database's safety: SQLCipher is SQLite's,
    so at rest it is the database server's (its administrator's) job; on the wire it is TLS
    when the URL's sslmode demands it."""
    mode = url.query.get("sslmode")
    mode = mode[0] if isinstance(mode, tuple) else mode
    if mode in db_url.TLS_SSLMODES:
        wire = f"the connection is TLS (sslmode={mode})"
    elif url.host in (None, "", "localhost", "127.0.0.1", "::1"):
        wire = "the connection stays on this machine"
    else:
        wire = (f"the connection may be unencrypted (sslmode={mode or 'prefer'}): add "
                f"?sslmode=verify-full to the URL")
    return (f"not encrypted by Stillroom: PostgreSQL at {url.host or 'localhost'} keeps the "
            f"conversations; encryption at rest is the database server's job (its "
            f"administrator's disk or volume encryption); {wire}")


def _no_key() -> str:
    where = "no OS keyring is available" if _keyring() is None else \
        "the OS keyring holds no database key"
    return (f"{where} (a file that is damaged rather than encrypted looks the same: then "
            f"move it aside)")


def _encrypted_reason(path: Path) -> str:
    left = plaintext_backups(path)
    if left:
        return ("encrypted at rest (SQLCipher 4, key in the OS keyring); the plaintext copy "
                f"from before encryption is still at {left[0]}: delete it once you have "
                "checked your conversations")
    return "encrypted at rest (SQLCipher 4, key in the OS keyring)"


# The state each engine was opened in, for the surfaces (status_of).
_opened: weakref.WeakKeyDictionary[Engine, AtRest] = weakref.WeakKeyDictionary()


def remember(engine: Engine, at_rest: AtRest) -> None:
    _opened[engine] = at_rest


def status_of(engine: Engine) -> AtRest:
    return _opened.get(engine) or describe(engine.url.render_as_string(hide_password=False))


def creator(path: Path, key_hex: str) -> Callable[[], Any]:
    """A SQLAlchemy `creator`: every new pooled connection is keyed before its first use.
    check_same_thread=False as SQLAlchemy sets it for file databases (QueuePool)."""
    def connect() -> Any:
        return sqlite_files.connect(path, key_hex, check_same_thread=False)

    return connect


@dataclass(frozen=True, slots=True)
class EngineSetup:
    options: dict[str, Any]
    at_rest: AtRest


def prepare(url: str) -> EngineSetup:
    """Decide how `url` is opened: keyed where encrypted (migrating a plaintext file first when
    a keyring exists), plain otherwise. Raises KeyUnavailableError or ValueError (a damaged
    file, another process using it) worded for the user."""
    path = database_path(url)
    if path is None:
        return EngineSetup({}, describe(url))
    if not sqlite_files.is_encrypted(path) and _keyring() is None:
        return EngineSetup({}, AtRest(False, NO_KEYRING))  # and sqlcipher3 is not even loaded
    dbapi = sqlite_files.sqlcipher()
    if dbapi is None and not sqlite_files.is_encrypted(path):
        return EngineSetup({}, describe(url))
    if dbapi is None:
        raise KeyUnavailableError("it is encrypted and SQLCipher (the sqlcipher3 package) "
                                  "is not installed")
    key, notice = stored_key(), None
    if sqlite_files.is_encrypted(path):
        if key is None:
            raise KeyUnavailableError(f"it is encrypted and {_no_key()}")
        _check_key(path, key)
    else:
        key = key or _create_key()  # stored_key() already answered
        if key is None:
            return EngineSetup({}, AtRest(False, NO_KEYRING if _keyring() is None else
                                          "not encrypted: the OS keyring would not keep a "
                                          "database key"))
        if path.exists() and path.stat().st_size > 0:
            kept = migrate_plaintext(path, key)
            notice = (f"Conversations are now encrypted at rest. The plaintext copy from "
                      f"before is kept at {kept}: delete it once you have checked them.")
    return EngineSetup({"module": dbapi, "creator": creator(path, key)},
                       AtRest(True, _encrypted_reason(path), notice))


def _check_key(path: Path, key: str) -> None:
    dbapi = sqlite_files.sqlcipher()
    try:
        sqlite_files.connect(path, key).close()
    except dbapi.DatabaseError:
        raise KeyUnavailableError(
            "the database key in the OS keyring does not open it (it was made with another "
            "key, or the file is damaged)") from None


def migrate_plaintext(path: Path, key: str) -> Path:
    """Encrypt the plaintext database at `path` in place; return the verified plaintext
    backup kept beside it. Nothing is replaced unless the backup and the encrypted copy both
    hold every row of the original."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.stem}-plaintext-backup-{stamp}.db")
    encrypted = path.with_name(path.name + ".encrypting")
    encrypted.unlink(missing_ok=True)
    try:
        with sqlite_files.exclusively(path, None) as source:
            if not sqlite_files.integrity_ok(source):
                raise ValueError("it fails SQLite's integrity check, so it was not "
                                 "encrypted; restore a backup or move it aside")
            expected = sqlite_files.content_digest(source)
            _copy_verified(source, backup, None, expected, "backup API")
            _copy_verified(source, encrypted, key, expected, "sqlcipher_export")
        # Swapped once the lock is dropped: Windows cannot replace a file that is open.
        encrypted.replace(path)
        sqlite_files.remove_sidecars(path)
    except DatabaseInUseError:
        raise ValueError("it is open in another Stillroom window or command; close that and "
                         "start again to encrypt the conversations") from None
    except sqlite_files.sqlcipher().Error as exc:
        backup.unlink(missing_ok=True)
        raise ValueError(f"encrypting it failed ({exc}); nothing was changed") from None
    finally:
        encrypted.unlink(missing_ok=True)
    return backup


def _copy_verified(source: Any, target: Path, key: str | None,
                   expected: dict[str, tuple[int, str]], how: str) -> None:
    if how == "backup API":
        with contextlib.closing(sqlite_files.connect(target, key)) as copy:
            source.backup(copy)
    else:
        # ATTACH takes the key the same way PRAGMA key does; a raw key needs no derivation.
        source.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key}'\"", (str(target),))
        try:
            source.execute("SELECT sqlcipher_export('encrypted')")
        finally:
            source.execute("DETACH DATABASE encrypted")
    with contextlib.closing(sqlite_files.connect(target, key)) as copy:
        if not sqlite_files.integrity_ok(copy) or \
                sqlite_files.content_digest(copy) != expected:
            target.unlink(missing_ok=True)
            raise ValueError(f"the copy of the database at {target} did not match the "
                             f"original ({how}); nothing was changed")
