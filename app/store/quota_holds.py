"""Tokens per day that hold under concurrent requests, on one box or several sharing one
PostgreSQL.

A request is admitted only if what the user used today (the ledger) plus what answers in
flight may still use (their holds) plus the most this request may use fits the quota; the
check and the new hold are one transaction that first locks the user's row (PostgreSQL: a
row lock, so other users are not held up; SQLite: the database's write lock). Two requests
admitted at the same moment therefore see each other's holds, and the quota is never
exceeded as long as each answer stays within its hold (the server caps the answer's tokens
to make sure). The hold goes once the answer's usage row is written; a box that dies
mid-answer leaves holds that stop counting at their expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from app.store.ledger import as_utc
from app.store.schema import QuotaHold, ServerRequest, ServerUser, Usage

MINUTE = timedelta(minutes=1)
# Longer than any answer with its wait in the queue; a dead box's holds lapse after it.
HOLD_TTL = timedelta(hours=1)


class QuotaExceededError(Exception):
    """The request does not fit: `used` (ledger) + `held` (in flight) + `asked` > `limit`."""

    def __init__(self, used: int, held: int, asked: int, limit: int) -> None:
        super().__init__(f"{used} used + {held} held + {asked} asked > {limit}")
        self.used, self.held, self.asked, self.limit = used, held, asked, limit


class TokenHolds:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def count_request(self, user: str, per_minute: int, now: datetime | None = None
                      ) -> float | None:
        """Count one request of `user` if fewer than `per_minute` were admitted in the last
        minute (on any box): None. Else count nothing: the seconds until one falls out."""
        now = as_utc(now or datetime.now(UTC))
        with Session(self.engine) as session, session.begin():
            self._lock(session, user)
            session.execute(delete(ServerRequest).where(ServerRequest.user == user,
                                                        ServerRequest.at <= now - MINUTE))
            recent = session.scalars(select(ServerRequest.at).where(ServerRequest.user == user)
                                     .order_by(ServerRequest.at)).all()
            if len(recent) >= per_minute:
                return (as_utc(recent[0]) + MINUTE - now).total_seconds()
            session.add(ServerRequest(user=user, at=now))
            return None

    @staticmethod
    def _lock(session: Session, user: str) -> None:
        # The user's row (PostgreSQL) or the database's write lock (SQLite) until commit:
        # everything read after it is what the last admission left.
        session.execute(update(ServerUser).where(ServerUser.name == user)
                        .values(name=ServerUser.name))

    def hold(self, user: str, tokens: int, *, limit: int, since: datetime,
             now: datetime | None = None) -> int:
        """Set `tokens` aside for `user`; the hold's id. Raises QuotaExceededError."""
        now = as_utc(now or datetime.now(UTC))
        with Session(self.engine) as session, session.begin():
            self._lock(session, user)
            session.execute(delete(QuotaHold).where(QuotaHold.expires_at <= now))
            used = session.scalar(
                select(func.coalesce(func.sum(Usage.prompt_tokens + Usage.completion_tokens),
                                     0))
                .where(Usage.user == user, Usage.created_at >= as_utc(since)))
            held = session.scalar(select(func.coalesce(func.sum(QuotaHold.tokens), 0))
                                  .where(QuotaHold.user == user))
            if int(used) + int(held) + tokens > limit:
                raise QuotaExceededError(int(used), int(held), tokens, limit)
            row = QuotaHold(user=user, tokens=tokens, created_at=now,
                            expires_at=now + HOLD_TTL)
            session.add(row)
            session.flush()
            return row.id

    def release(self, hold_id: int) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(delete(QuotaHold).where(QuotaHold.id == hold_id))

    def held(self, user: str) -> int:
        """Tokens held for the user's answers in flight now."""
        with Session(self.engine) as session:
            return int(session.scalar(
                select(func.coalesce(func.sum(QuotaHold.tokens), 0))
                .where(QuotaHold.user == user,
                       QuotaHold.expires_at > datetime.now(UTC))))
