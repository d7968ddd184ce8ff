"""`stillroom backup` and `restore`: a copy of the database made with SQLite's online backup
API (consistent while the app runs), encrypted with the same keyring key as the database, and
read back into a data directory only after it proved readable and whole.

Neither ever leaves a half-written file where the database or the backup belongs: both write
beside the target, verify the copy against its source row for row, then rename it into place.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.store import encryption, sqlite_files
from app.store.db import HEAD_REVISION

_NOT_A_BACKUP = ("{path} is not a Stillroom backup this keyring can open ({why}); nothing "
                 "was changed")


@dataclass(frozen=True, slots=True)
class CopyResult:
    path: Path
    conversations: int
    encrypted: bool
    # Where the database a restore replaced was kept.
    kept: Path | None = None


def _conversations(connection: Any) -> int:
    return connection.execute("SELECT count(*) FROM conversations").fetchone()[0]


def backup(database: Path, target: Path) -> CopyResult:
    """Copy the database at `database` (a Stillroom that is running may keep writing) to
    `target`, which must not exist yet. Raises ValueError worded for the user."""
    if target.exists():
        raise ValueError(f"{target} already exists; choose a new file name for the backup")
    if not target.parent.is_dir():
        raise ValueError(f"the folder {target.parent} does not exist; create it first")
    if not database.exists():
        raise ValueError(f"there is no database at {database} to back up yet")
    key = _key_for(database)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    dbapi = _driver()
    try:
        with contextlib.closing(sqlite_files.connect(database, key, isolation_level=None)) \
                as source:
            # One read transaction: the digest and the backup see the same snapshot.
            source.execute("BEGIN")
            expected = sqlite_files.content_digest(source)
            with contextlib.closing(sqlite_files.connect(partial, key)) as copy:
                source.backup(copy)
            count = _conversations(source)
            source.execute("COMMIT")
        _verify(partial, key, expected)
        partial.replace(target)
    except dbapi.Error as exc:
        raise ValueError(f"the backup to {target} failed ({exc}); no backup was written") \
            from None
    finally:
        partial.unlink(missing_ok=True)
    return CopyResult(target, count, key is not None)


def restore(source: Path, database: Path, *, replace: bool = False) -> CopyResult:
    """Make the backup at `source` the database at `database`. The file is checked first
    (opens with this keyring's key, passes the integrity check, is a Stillroom database of a
    known revision); a database that holds conversations is replaced only with `replace`,
    and then kept aside. Raises ValueError worded for the user; on any error nothing changed."""
    if not source.is_file():
        raise ValueError(f"{source} does not exist or is not a file; nothing was changed")
    dbapi = _driver()
    source_key = _key_for(source, backup_file=True)
    try:
        with contextlib.closing(sqlite_files.connect(source, source_key)) as reader:
            why = _not_restorable(reader)
            expected = sqlite_files.content_digest(reader) if why is None else {}
            count = _conversations(reader) if why is None else 0
    except dbapi.Error as exc:
        why = str(exc)
    if why is not None:
        raise ValueError(_NOT_A_BACKUP.format(path=source, why=why))
    # The restored file is keyed like a new database would be: encrypted where a keyring is.
    target_key = source_key or _new_database_key()
    current = _conversations_in(database)
    if current and not replace:
        raise ValueError(f"the database at {database} holds {current} conversations; add "
                         f"--replace to replace them (the current file is kept aside)")
    incoming = database.with_name(database.name + ".restoring")
    incoming.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite_files.connect(source, source_key)) as reader:
            if target_key == source_key:
                with contextlib.closing(sqlite_files.connect(incoming, target_key)) as copy:
                    reader.backup(copy)
            else:  # a plaintext backup restored where a keyring now exists: encrypt it
                reader.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{target_key}'\"",
                               (str(incoming),))
                reader.execute("SELECT sqlcipher_export('encrypted')")
                reader.execute("DETACH DATABASE encrypted")
        _verify(incoming, target_key, expected)
        kept = _set_aside(database) if database.exists() else None
        incoming.replace(database)
        sqlite_files.remove_sidecars(database)
    except dbapi.Error as exc:
        raise ValueError(f"restoring {source} failed ({exc}); nothing was changed") from None
    finally:
        incoming.unlink(missing_ok=True)
    return CopyResult(database, count, target_key is not None, kept)


def _key_for(path: Path, *, backup_file: bool = False) -> str | None:
    """The keyring key when `path` is encrypted, None when it is plaintext."""
    if not sqlite_files.is_encrypted(path):
        return None
    try:
        key = encryption.stored_key()
    except encryption.KeyUnavailableError as exc:
        raise ValueError(f"{path} is encrypted, but {exc}") from None
    if key is None:
        where = "this keyring" if backup_file else "the OS keyring"
        raise ValueError(f"{path} is encrypted and {where} holds no database key to open it "
                         f"(no keyring, or another keyring's backup); nothing was changed")
    return key


def _new_database_key() -> str | None:
    try:
        return encryption.ensure_key()
    except encryption.KeyUnavailableError as exc:
        raise ValueError(f"{exc}; nothing was changed") from None


def _driver() -> Any:
    dbapi = sqlite_files.sqlcipher()
    if dbapi is None:
        raise ValueError("backups need SQLCipher (the sqlcipher3 package); reinstall Stillroom")
    return dbapi


def _not_restorable(reader: Any) -> str | None:
    if not sqlite_files.integrity_ok(reader):
        return "it fails SQLite's integrity check"
    tables = set(sqlite_files.table_names(reader))
    if not {"alembic_version", "conversations", "messages"} <= tables:
        return "it has no Stillroom conversations tables"
    revision = reader.execute("SELECT version_num FROM alembic_version").fetchone()
    if revision is None or revision[0] > HEAD_REVISION:
        return "it comes from a newer Stillroom; update Stillroom first"
    return None


def _conversations_in(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        key = _key_for(database)
        with contextlib.closing(sqlite_files.connect(database, key)) as reader:
            if "conversations" not in sqlite_files.table_names(reader):
                return 0
            return _conversations(reader)
    except _driver().Error as exc:
        raise ValueError(f"the current database {database} cannot be read ({exc}); move it "
                         f"aside first; nothing was changed") from None


def _set_aside(database: Path) -> Path:
    """Move the current database out of the way, after making sure no Stillroom has it open
    (its WAL is folded into the file first, so the one file holds everything)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.stem}-before-restore-{stamp}.db")
    try:
        with sqlite_files.exclusively(database, _key_for(database)):
            pass
    except sqlite_files.DatabaseInUseError:
        raise ValueError(f"{database} is open in another Stillroom window or command; close "
                         f"it and restore again; nothing was changed") from None
    database.replace(kept)
    sqlite_files.remove_sidecars(database)
    return kept


def _verify(copy_path: Path, key: str | None, expected: dict[str, tuple[int, str]]) -> None:
    with contextlib.closing(sqlite_files.connect(copy_path, key)) as copy:
        whole = sqlite_files.integrity_ok(copy) and \
            sqlite_files.content_digest(copy) == expected
    if not whole:
        raise ValueError(f"the copy at {copy_path} did not match its source row for row; "
                         f"nothing was changed")
