"""Open the database, bring its schema up to date, and recover from an interrupted run."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import sessionmaker

from app.store import encryption

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions/; tests check it matches Alembic's head.
# Comparing against it lets a normal start skip importing Alembic at all.
HEAD_REVISION = "0004"


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
    file is encrypted at rest where an OS keyring exists (app/store/encryption.py)."""
    try:
        setup = encryption.prepare(url)
    except (encryption.KeyUnavailableError, ValueError) as exc:
        raise StoreError(f"Stillroom cannot open its database {encryption.database_path(url)}: "
                         f"{exc}.") from None
    engine = create_engine(url, **setup.options)
    encryption.remember(engine, setup.at_rest)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except (OperationalError, DatabaseError) as exc:
        where = engine.url.database or engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"Stillroom cannot open its database {where}: {exc.orig}. If the file is damaged, "
            f"move it aside and Stillroom will start a new one."
        ) from exc
    return engine


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
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
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
