"""Open the database, bring its schema up to date, and recover from an interrupted run."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import sessionmaker

from app.store import db_url, encryption

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions/; tests check it matches Alembic's head.
# Comparing against it lets a normal start skip importing Alembic at all.
HEAD_REVISION = "0008"


class StoreError(Exception):
    """A database problem worded for the user."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the streaming writer. synchronous=NORMAL is durable against a
    # crash or kill -9 of this process (only an OS crash can drop the last commits).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def open_engine(url: str) -> Engine:
    """Raise StoreError (worded for the user) when the database cannot be opened. A SQLite
    file is encrypted at rest where an OS keyring exists (app/store/encryption.py); a
    PostgreSQL database takes its password from the URL or the OS keyring (db_url.py) and
    is kept safe at rest by its server."""
    try:
        target = db_url.with_keyring_password(db_url.parse(url))
    except db_url.DatabaseUrlError as exc:
        raise StoreError(f"Stillroom cannot open its database: {exc}") from None
    if db_url.is_postgresql(target):
        return _open_postgresql(target)
    try:
        setup = encryption.prepare(url)
    except (encryption.KeyUnavailableError, ValueError) as exc:
        raise StoreError(f"Stillroom cannot open its database {encryption.database_path(url)}: "
                         f"{exc}.") from None
    engine = create_engine(url, **setup.options)
    encryption.remember(engine, setup.at_rest)
    event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except (OperationalError, DatabaseError) as exc:
        where = engine.url.database or db_url.shown(engine.url)
        raise StoreError(
            f"Stillroom cannot open its database {where}: {exc.orig}. If the file is damaged, "
            f"move it aside and Stillroom will start a new one."
        ) from exc
    return engine


def _open_postgresql(url: URL) -> Engine:
    # pre_ping: several boxes share the server, which may restart or drop idle connections;
    # a dead pooled connection is then replaced instead of failing a request.
    engine = create_engine(url, pool_pre_ping=True)
    encryption.remember(engine, encryption.describe(url.render_as_string(hide_password=True)))
    try:
        migrate(engine)
    except (OperationalError, DatabaseError) as exc:
        engine.dispose()
        reason = db_url.scrub(_first_line(exc), url)
        raise StoreError(f"Stillroom cannot open its database {db_url.shown(url)}: {reason}."
                         ) from None
    return engine


# Any fixed number: the PostgreSQL advisory lock every Stillroom box takes while it brings
# the schema up to date, so two boxes started at once do not both create the tables.
_MIGRATION_LOCK = 0x5711_1200


def current_revision(engine: Engine | Connection) -> str | None:
    with contextlib.ExitStack() as stack:
        connection = engine if isinstance(engine, Connection) else \
            stack.enter_context(engine.connect())
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held to the end of this transaction; the box that waited finds the work done.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK})
            if current_revision(connection) == HEAD_REVISION:
                return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def damaged_database_error(url: str, error: Exception) -> StoreError:
    """A query failed with a DatabaseError: run SQLite's ``PRAGMA integrity_check`` on the
    file and say, in one line, whether it is damaged and how to recover. Read-only; never
    repairs or rewrites anything (a repair could lose more than the damage did)."""
    path = make_url(url).database
    if not url.startswith("sqlite") or not path:
        return StoreError(f"The database failed: {_first_line(error)}.")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            findings = [row[0] for row in db.execute("PRAGMA integrity_check(3)")]
    except sqlite3.DatabaseError as exc:
        findings = [str(exc)]
    if findings == ["ok"]:
        return StoreError(f"The database {path} failed ({_first_line(error)}) but its "
                          f"integrity check passed; try again, and if it recurs restore "
                          f"the last good backup.")
    return StoreError(f"The database {path} is damaged (PRAGMA integrity_check: "
                      f"{_first_line(findings[0])}). Nothing was changed; restore the last "
                      f"good backup of it, or move it aside and Stillroom starts a new one "
                      f"(`sqlite3 {path} .recover` saves what is still readable).")


def _first_line(error: object) -> str:
    text = str(getattr(error, "orig", None) or error)
    return (text.strip().splitlines() or ["unknown error"])[0].rstrip(".")
