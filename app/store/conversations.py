"""Conversations and messages, with answers written to disk while they stream."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Engine, func, select, update
from sqlalchemy.orm import Session

from app.redaction import redact
from app.store.ledger import usd_to_nanos
from app.store.schema import Conversation, Message, Usage, utcnow

# An answer's text reaches the database at least this often while it streams; a crash
# loses at most this much of it.
FLUSH_INTERVAL_S = 0.2
TITLE_LENGTH = 60


class ConversationNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: str
    title: str | None
    model_id: str | None
    system_prompt: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int = 0
    # Routing state: the sticky sensitive flag and the pin ("local", "cloud", a provider...).
    sensitive: bool = False
    route_pin: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    role: str
    content: str
    status: str
    model_id: str | None
    route_target: str | None
    route_rule: str | None
    route_reason: str | None
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UsageFigures:
    model_id: str
    route_target: str
    route_rule: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float | None
    prefill_tps: float | None
    decode_tps: float | None
    total_s: float
    # Energy and money: None is unknown (never 0); see app/store/ledger.py.
    energy_joules: float | None = None
    energy_kind: str = "not measured"
    energy_source: str = "not measured"
    local_energy_usd: Decimal | None = None
    local_hardware_usd: Decimal | None = None
    cloud_equivalent_usd: Decimal | None = None
    cloud_equivalent_model: str | None = None
    cloud_actual_usd: Decimal | None = None
    price_as_of: date | None = None
    # How each part of the cost was priced, or why it is unknown (stored as JSON).
    cost_notes: dict[str, str] | None = None
    provider: str | None = None  # who answered, for cloud and on-prem answers
    confidence: float | None = None  # a scored local answer's confidence (escalation)


# UsageFigures fields held in USD; the ledger stores them as "<name>_nanos".
_MONEY_FIELDS = ("local_energy_usd", "local_hardware_usd", "cloud_equivalent_usd",
                 "cloud_actual_usd")


def _summary(row: Conversation, count: int = 0) -> ConversationSummary:
    return ConversationSummary(row.id, row.title, row.model_id, row.system_prompt,
                               row.created_at, row.updated_at, count,
                               sensitive=bool(row.sensitive), route_pin=row.route_pin)


def _stored(row: Message) -> StoredMessage:
    return StoredMessage(row.id, row.role, row.content, row.status, row.model_id,
                         row.route_target, row.route_rule, row.route_reason, row.error,
                         row.created_at)


def _title_from(text: str) -> str:
    """The first prompt on one line, shortened, with what the sensitivity gate finds
    replaced: a title is shown where the conversation is not (sidebar, window title)."""
    line = " ".join(redact(text).split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


class ConversationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recover_interrupted(self, started_before: datetime | None = None) -> int:
        """Mark answers that were streaming when the app last died; their text is kept.
        `started_before`: only answers begun before then (a database shared by several
        boxes: the others' answers in progress are not this start's to close)."""
        condition = Message.status == "streaming"
        if started_before is not None:
            condition = condition & (Message.created_at < started_before)
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                update(Message).where(condition)
                .values(status="interrupted", finished_at=utcnow()))
            return result.rowcount or 0

    # -- conversations -----------------------------------------------------------------
    def create(self, *, model_id: str | None, system_prompt: str | None,
               title: str | None = None) -> ConversationSummary:
        row = Conversation(id=secrets.token_hex(6), title=title, model_id=model_id,
                           system_prompt=system_prompt)
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.add(row)
        return _summary(row)

    def get(self, conversation_id: str) -> ConversationSummary:
        """Look up by id or by a unique id prefix, as git does with commits."""
        wanted = conversation_id.strip().lower()
        if not wanted:
            raise ConversationNotFoundError("No conversation id given.")
        with Session(self.engine) as session:
            rows = session.scalars(
                select(Conversation).where(Conversation.id.startswith(wanted, autoescape=True))
                .limit(2)).all()
            if len(rows) != 1:
                why = "matches several conversations" if rows else "does not exist"
                raise ConversationNotFoundError(
                    f"Conversation '{conversation_id}' {why}; `stillroom chat` then "
                    f"/history lists them.")
            count = session.scalar(select(func.count()).select_from(Message)
                                   .where(Message.conversation_id == rows[0].id)) or 0
            return _summary(rows[0], count)

    def list(self, limit: int = 50) -> list[ConversationSummary]:
        return self._summaries(None, limit)

    def _summaries(self, condition: ColumnElement[bool] | None,
                   limit: int) -> list[ConversationSummary]:
        """Newest first, with message counts."""
        counts = (select(Message.conversation_id, func.count().label("n"))
                  .group_by(Message.conversation_id).subquery())
        query = (select(Conversation, func.coalesce(counts.c.n, 0))
                 .outerjoin(counts, counts.c.conversation_id == Conversation.id))
        if condition is not None:
            query = query.where(condition)
        with Session(self.engine) as session:
            rows = session.execute(
                query.order_by(Conversation.updated_at.desc()).limit(limit)).all()
            return [_summary(row, count) for row, count in rows]

    def search(self, text: str, limit: int = 200) -> list[ConversationSummary]:
        """Conversations whose title or any message contains `text` (case-insensitive)."""
        literal = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        matching = select(Message.conversation_id).where(
            Message.content.ilike(pattern, escape="\\"))
        return self._summaries(
            Conversation.title.ilike(pattern, escape="\\") | Conversation.id.in_(matching),
            limit)

    def update(self, conversation_id: str, **values: str | None) -> None:
        allowed = {"title", "model_id", "system_prompt"}
        if not values.keys() <= allowed:
            raise ValueError(f"cannot update {sorted(values.keys() - allowed)}")
        with Session(self.engine) as session, session.begin():
            session.execute(update(Conversation).where(Conversation.id == conversation_id)
                            .values(**values, updated_at=utcnow()))

    def mark_sensitive(self, conversation_id: str) -> None:
        """Sticky: there is deliberately no way back to False short of a new conversation."""
        with Session(self.engine) as session, session.begin():
            session.execute(update(Conversation).where(Conversation.id == conversation_id)
                            .values(sensitive=True))

    def set_route_pin(self, conversation_id: str, pin: str | None) -> None:
        """Pin the conversation to "local", "onprem", "cloud" or a provider; None or "auto"
        lets the policy decide."""
        value = None if pin is None or pin.strip().lower() in ("", "auto") else pin.strip()
        with Session(self.engine) as session, session.begin():
            session.execute(update(Conversation).where(Conversation.id == conversation_id)
                            .values(route_pin=value))

    def delete(self, conversation_id: str) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(Conversation, conversation_id)
            if row is not None:
                session.delete(row)

    # -- messages ----------------------------------------------------------------------
    def messages(self, conversation_id: str) -> list[StoredMessage]:
        with Session(self.engine) as session:
            rows = session.scalars(select(Message).where(Message.conversation_id ==
                                                         conversation_id).order_by(Message.id))
            return [_stored(row) for row in rows]

    def delete_messages_from(self, conversation_id: str, message_id: int) -> int:
        """Drop a message and everything after it (regenerate, edit-and-resend).

        Their usage rows stay in the ledger: the tokens were spent."""
        with Session(self.engine) as session, session.begin():
            rows = session.scalars(select(Message).where(
                Message.conversation_id == conversation_id, Message.id >= message_id)).all()
            for row in rows:
                session.delete(row)
            return len(rows)

    def add_user_message(self, conversation_id: str, content: str) -> int:
        with Session(self.engine) as session, session.begin():
            return self._add_user_message(session, conversation_id, content).id

    @staticmethod
    def _add_user_message(session: Session, conversation_id: str, content: str) -> Message:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFoundError(f"Conversation '{conversation_id}' is gone.")
        if conversation.title is None:
            conversation.title = _title_from(content)
        conversation.updated_at = utcnow()
        message = Message(conversation_id=conversation_id, role="user", content=content)
        session.add(message)
        session.flush()
        return message

    def start_conversation(self, *, model_id: str | None, system_prompt: str | None,
                           question: str, earlier: Sequence[tuple[str, str]] = ()
                           ) -> tuple[ConversationSummary, list[StoredMessage]]:
        """A new conversation holding `earlier` (role, content) messages and the question,
        committed together: one commit stands between a first question and its answer.
        Returns the conversation and its messages, the question last."""
        row = Conversation(id=secrets.token_hex(6), title=_title_from(question),
                           model_id=model_id, system_prompt=system_prompt)
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.add(row)
            session.flush()  # the conversation's row before its messages' foreign keys
            rows = [Message(conversation_id=row.id, role=role, content=content)
                    for role, content in earlier]
            rows.append(Message(conversation_id=row.id, role="user", content=question))
            session.add_all(rows)
            session.flush()
            messages = [_stored(message) for message in rows]
        return _summary(row, len(messages)), messages

    def add_question(self, conversation_id: str, content: str) -> list[StoredMessage]:
        """Save (commit) the user's question and return the conversation's messages, the
        question last, read in the same transaction."""
        with Session(self.engine) as session, session.begin():
            self._add_user_message(session, conversation_id, content)
            rows = session.scalars(select(Message).where(
                Message.conversation_id == conversation_id).order_by(Message.id))
            return [_stored(row) for row in rows]

    def add_earlier_message(self, conversation_id: str, role: str, content: str) -> int:
        """A message the asker sent as history (the office server's clients send the whole
        conversation each time); stored as it came, marked complete."""
        with Session(self.engine) as session, session.begin():
            message = Message(conversation_id=conversation_id, role=role, content=content)
            session.add(message)
            session.flush()
            return message.id

    def start_answer(self, conversation_id: str, *, model_id: str, route_target: str,
                     route_rule: str, route_reason: str,
                     user: str | None = None) -> AnswerWriter:
        with Session(self.engine) as session, session.begin():
            message = Message(conversation_id=conversation_id, role="assistant", content="",
                              status="streaming", model_id=model_id, route_target=route_target,
                              route_rule=route_rule, route_reason=route_reason)
            session.add(message)
            session.flush()
            message_id = message.id
        return AnswerWriter(self.engine, conversation_id, message_id, user=user)


class AnswerWriter:
    """Accumulates a streaming answer and writes it through at FLUSH_INTERVAL_S."""

    def __init__(self, engine: Engine, conversation_id: str, message_id: int,
                 user: str | None = None) -> None:
        self.engine = engine
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.user = user  # the office server's user: recorded on the usage row
        self._parts: list[str] = []
        self._flushed_parts = 0
        # When the oldest text not yet on disk arrived: the flush is due FLUSH_INTERVAL_S
        # later. Timed from the text, not from the row, so a long prompt evaluation never
        # puts a database write between the first token and its reader.
        self._unflushed_since: float | None = None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def append(self, text: str) -> None:
        now = time.monotonic()
        if text:
            self._parts.append(text)
            if self._unflushed_since is None:
                self._unflushed_since = now
        if self._unflushed_since is not None and \
                now - self._unflushed_since >= FLUSH_INTERVAL_S:
            self.flush()

    def reroute(self, *, model_id: str | None, route_target: str, route_rule: str,
                route_reason: str) -> None:
        """The answer moved (failover): its message says where it was finally answered."""
        with self.engine.begin() as connection:
            connection.execute(update(Message).where(Message.id == self.message_id).values(
                model_id=model_id, route_target=route_target, route_rule=route_rule,
                route_reason=route_reason))

    def flush(self) -> None:
        if self._flushed_parts == len(self._parts):
            return
        with self.engine.begin() as connection:
            connection.execute(update(Message).where(Message.id == self.message_id)
                               .values(content=self.text))
        self._flushed_parts = len(self._parts)
        self._unflushed_since = None

    def finish(self, status: str, usage: UsageFigures | None = None,
               error: str | None = None) -> None:
        """Write the final text, status and ledger row in one transaction."""
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            session.execute(update(Message).where(Message.id == self.message_id).values(
                content=self.text, status=status, error=error, finished_at=now))
            session.execute(update(Conversation).where(Conversation.id == self.conversation_id)
                            .values(updated_at=now))
            if usage is not None:
                session.add(Usage(message_id=self.message_id,
                                  conversation_id=self.conversation_id,
                                  user=self.user, **_fields(usage)))
        self._flushed_parts = len(self._parts)
        self._unflushed_since = None


def _fields(usage: UsageFigures) -> dict[str, object]:
    columns: dict[str, object] = {name: getattr(usage, name) for name in UsageFigures.__slots__}
    for name in _MONEY_FIELDS:
        columns[f"{name}_nanos"] = usd_to_nanos(columns.pop(name))  # type: ignore[arg-type]
    if usage.cost_notes is not None:
        columns["cost_notes"] = json.dumps(usage.cost_notes, ensure_ascii=False)
    return columns
