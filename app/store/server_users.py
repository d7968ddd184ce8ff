"""The office server's users: names, hashed keys, limits, and what each has used.

A key is 256 random bits shown once (`stillroom users add`, `users rotate`); the store
keeps only its SHA-256. With that much entropy there is nothing to brute-force, so a slow
password hash would add latency to every request and no strength; a fast hash also lets a
request find its user with one indexed lookup. The lookup's result is then compared with
``hmac.compare_digest``, so the comparison's time does not depend on how much matched."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.store.ledger import as_utc, nanos_to_usd, usd_to_nanos
from app.store.schema import ServerUser, Usage

KEY_PREFIX = "sr-"
ROUTES = ("local", "onprem", "cloud")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserError(ValueError):
    """A users command that cannot be done as asked (one line for the user)."""


@dataclass(frozen=True, slots=True)
class UserLimits:
    tokens_per_day: int | None = None
    requests_per_minute: int | None = None
    budget_usd_month: Decimal | None = None
    routes: tuple[str, ...] = ROUTES
    models: tuple[str, ...] = ("*",)  # fnmatch patterns over model ids
    admin: bool = False


@dataclass(frozen=True, slots=True)
class OfficeUser:
    name: str
    limits: UserLimits
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserUsage:
    """What one user used since a moment (the ledger's rows that name them)."""

    requests: int
    prompt_tokens: int
    completion_tokens: int
    cloud_usd: Decimal  # what providers billed for their answers

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)  # 32 bytes: 256 bits


def parse_routes(text: str) -> tuple[str, ...]:
    routes = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [route for route in routes if route not in ROUTES]
    if unknown or not routes:
        raise UserError(f"--routes {text!r}: use a comma-separated list of "
                        f"{', '.join(ROUTES)} (e.g. --routes local,onprem).")
    return routes


def _user(row: ServerUser) -> OfficeUser:
    limits = UserLimits(
        tokens_per_day=row.tokens_per_day, requests_per_minute=row.requests_per_minute,
        budget_usd_month=nanos_to_usd(row.budget_usd_month_nanos),
        routes=tuple(row.routes.split(",")), models=tuple(json.loads(row.models)),
        admin=bool(row.admin))
    return OfficeUser(row.name, limits, row.created_at)


class UserStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, limits: UserLimits) -> str:
        """Create the user; returns their key (shown once, never stored)."""
        if not _NAME.match(name):
            raise UserError(f"User name {name!r}: use 1-64 letters, digits, '.', '_', '@' "
                            f"or '-', starting with a letter or digit.")
        key = new_key()
        row = ServerUser(
            name=name, key_sha256=key_digest(key), tokens_per_day=limits.tokens_per_day,
            requests_per_minute=limits.requests_per_minute,
            budget_usd_month_nanos=usd_to_nanos(limits.budget_usd_month),
            routes=",".join(limits.routes), models=json.dumps(list(limits.models)),
            admin=limits.admin)
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
        except IntegrityError:
            raise UserError(f"A user named {name!r} exists already; `stillroom users rotate "
                            f"{name}` gives them a new key.") from None
        return key

    def list(self) -> list[OfficeUser]:
        with Session(self.engine) as session:
            return [_user(row) for row in session.scalars(select(ServerUser)
                                                          .order_by(ServerUser.name))]

    def any(self) -> bool:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(ServerUser)) > 0

    def remove(self, name: str) -> None:
        with Session(self.engine) as session, session.begin():
            if session.execute(delete(ServerUser).where(ServerUser.name == name)).rowcount == 0:
                raise self._missing(name)

    def rotate(self, name: str) -> str:
        """A new key for the user; the old one stops working at once."""
        key = new_key()
        with Session(self.engine) as session, session.begin():
            changed = session.execute(update(ServerUser).where(ServerUser.name == name)
                                      .values(key_sha256=key_digest(key))).rowcount
            if changed == 0:
                raise self._missing(name)
        return key

    def authenticate(self, key: str) -> OfficeUser | None:
        """The user whose key this is, or None."""
        digest = key_digest(key)
        with Session(self.engine) as session:
            row = session.scalars(select(ServerUser)
                                  .where(ServerUser.key_sha256 == digest)).first()
            if row is None or not hmac.compare_digest(row.key_sha256, digest):
                return None
            return _user(row)

    def usage(self, name: str, since: datetime) -> UserUsage:
        with Session(self.engine) as session:
            requests, prompt, completion, cloud = session.execute(
                select(func.count(Usage.id), func.coalesce(func.sum(Usage.prompt_tokens), 0),
                       func.coalesce(func.sum(Usage.completion_tokens), 0),
                       func.coalesce(func.sum(Usage.cloud_actual_usd_nanos), 0))
                .where(Usage.user == name, Usage.created_at >= as_utc(since))).one()
        return UserUsage(int(requests), int(prompt), int(completion),
                         nanos_to_usd(int(cloud)) or Decimal(0))

    @staticmethod
    def _missing(name: str) -> UserError:
        return UserError(f"No user named {name!r}; `stillroom users list` shows them.")
