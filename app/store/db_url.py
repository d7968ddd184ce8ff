"""Which database the store opens, and how its address is shown.

SQLite (the default, a file in the data directory) or PostgreSQL through psycopg 3 (an
office running several `stillroom serve` boxes against one database). The PostgreSQL
password is best kept in the OS keyring (service ``stillroom-database``, entry
``USER@HOST:PORT/DATABASE``; `stillroom users db-password set` stores it), so the URL carries
none; a password written in the URL works too. Either way it is never shown: every URL that
is printed, logged or raised goes through ``shown``.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

KEYRING_SERVICE = "stillroom-database"
POSTGRESQL_DRIVER = "postgresql+psycopg"
FORMS = "sqlite:///PATH or postgresql+psycopg://USER@HOST[:PORT]/DATABASE"
DEFAULT_PORT = 5432
# sslmode values under which libpq refuses a connection that is not encrypted.
TLS_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})
# "scheme://user:secret@" in text that did not parse as a URL: the secret is cut out.
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@\s]*@", re.I)


class DatabaseUrlError(ValueError):
    """A database URL Stillroom cannot use (one line for the user, password hidden)."""


def parse(url: str) -> URL:
    """The URL as SQLAlchemy opens it: sqlite, or postgresql with the psycopg driver
    (plain ``postgresql://`` means psycopg too). Raises DatabaseUrlError."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # Not echoed: text that does not parse may hold a password anywhere.
        raise DatabaseUrlError(f"the database setting is not a database URL; use {FORMS}."
                               ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed
    if backend in ("postgresql", "postgres"):
        if parsed.drivername not in ("postgresql", "postgres", POSTGRESQL_DRIVER):
            raise DatabaseUrlError(f"{shown(parsed)}: Stillroom talks to PostgreSQL through "
                                   f"psycopg 3; write {POSTGRESQL_DRIVER}://...")
        if not parsed.database:
            raise DatabaseUrlError(f"{shown(parsed)}: name the database at the end "
                                   f"({POSTGRESQL_DRIVER}://USER@HOST/DATABASE).")
        return parsed.set(drivername=POSTGRESQL_DRIVER)
    raise DatabaseUrlError(f"{shown(parsed)}: {backend} is not supported; use {FORMS}.")


def is_postgresql(url: str | URL) -> bool:
    target = url if isinstance(url, URL) else _lenient(url)
    return target is not None and target.get_backend_name() in ("postgresql", "postgres")


def shown(url: str | URL) -> str:
    """The URL as it may be printed: the password replaced by ***."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    parsed = _lenient(url)
    if parsed is not None:
        return parsed.render_as_string(hide_password=True)
    return _USERINFO.sub(r"\g<scheme>\g<user>:***@", url)


def scrub(text: str, url: URL) -> str:
    """`text` (a driver's error, say) with the URL's password cut out, wherever it is."""
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def keyring_entry(url: URL) -> str:
    """The keyring entry name for this database's password: USER@HOST:PORT/DATABASE."""
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    return f"{url.username or ''}@{host}:{url.port or DEFAULT_PORT}/{url.database}"


def with_keyring_password(url: URL) -> URL:
    """A PostgreSQL URL without a password gets the one the OS keyring keeps for it; one
    with a password, a SQLite URL, or no keyring (or no entry): the URL as it is, and libpq
    finds a password where it always does (~/.pgpass, PGPASSWORD) or needs none."""
    if not is_postgresql(url) or url.password is not None:
        return url
    from routing.keys import usable_keyring

    backend = usable_keyring()
    if backend is None:
        return url
    import keyring.errors

    try:
        password = backend.get_password(KEYRING_SERVICE, keyring_entry(url))
    except keyring.errors.KeyringError as exc:
        raise DatabaseUrlError(f"{shown(url)}: the OS keyring did not give out the database "
                               f"password ({type(exc).__name__}); is it locked?") from None
    return url.set(password=password) if password else url


def store_password(url: URL, password: str) -> str:
    """Keep the password in the OS keyring for this database; the entry's name. Raises
    DatabaseUrlError where there is no keyring (Stillroom never writes it to a file)."""
    backend = _keyring_or_error()
    entry = keyring_entry(url)
    backend.set_password(KEYRING_SERVICE, entry, password)
    return entry


def forget_password(url: URL) -> bool:
    """Remove the keyring entry; False when there was none."""
    import keyring.errors

    backend = _keyring_or_error()
    try:
        backend.delete_password(KEYRING_SERVICE, keyring_entry(url))
    except keyring.errors.PasswordDeleteError:
        return False
    return True


def _keyring_or_error():  # -> KeyringBackend
    from routing.keys import usable_keyring

    backend = usable_keyring()
    if backend is None:
        raise DatabaseUrlError("no OS keyring here (install and unlock GNOME Keyring or "
                               "KWallet, or use the macOS / Windows keychain); Stillroom never "
                               "writes the database password to a file: put it in ~/.pgpass "
                               "or the URL instead.")
    return backend


def _lenient(url: str) -> URL | None:
    try:
        return make_url(url)
    except ArgumentError:
        return None
