"""Tables. Changing one means adding an Alembic revision in migrations/versions/."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(200))
    model_id: Mapped[str | None] = mapped_column(String(200))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Sticky: once the router found sensitive text here, every later message stays local.
    # Only ever set to True (ConversationStore.mark_sensitive).
    sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                            server_default="0")
    # The conversation's route pin: "local", "onprem", "cloud" or a provider; None = auto.
    route_pin: Mapped[str | None] = mapped_column(String(64))


class Message(Base):
    """One turn. An answer is inserted as 'streaming' and its content rewritten as it grows,
    so a crash leaves what was flushed, marked 'interrupted' on the next start."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="complete")
    model_id: Mapped[str | None] = mapped_column(String(200))
    route_target: Mapped[str | None] = mapped_column(String(16))
    route_rule: Mapped[str | None] = mapped_column(String(64))
    route_reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Usage(Base):
    """The usage ledger: one row per answer, whatever its route.

    It outlives the conversation: deleting a chat must not erase what was spent.
    Money columns hold integer nano-dollars (1e-9 USD; app/store/ledger.py says why) and
    None where the amount is unknown; `cost_notes` says why a part is unknown."""

    __tablename__ = "usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"))
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    model_id: Mapped[str] = mapped_column(String(200))
    route_target: Mapped[str] = mapped_column(String(16))
    route_rule: Mapped[str] = mapped_column(String(64))
    # The cloud or on-prem provider that answered (revision 0003); None for local answers.
    provider: Mapped[str | None] = mapped_column(String(64))
    finish_reason: Mapped[str] = mapped_column(String(16))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    ttft_s: Mapped[float | None] = mapped_column(Float)
    prefill_tps: Mapped[float | None] = mapped_column(Float)
    decode_tps: Mapped[float | None] = mapped_column(Float)
    total_s: Mapped[float] = mapped_column(Float)
    # Energy of the generation (docs/POWER.md): None when no sensor measured or estimated it.
    energy_joules: Mapped[float | None] = mapped_column(Float)
    # "measured", "estimated", "partly estimated" or "not measured".
    energy_kind: Mapped[str | None] = mapped_column(String(20))
    # Which sensors, measured or estimated how, net of the idle draw or gross; or why not.
    energy_source: Mapped[str | None] = mapped_column(Text)
    local_energy_usd_nanos: Mapped[int | None] = mapped_column(BigInteger)
    local_hardware_usd_nanos: Mapped[int | None] = mapped_column(BigInteger)
    # What the reference cloud model would have charged at list price for the same tokens.
    cloud_equivalent_usd_nanos: Mapped[int | None] = mapped_column(BigInteger)
    cloud_equivalent_model: Mapped[str | None] = mapped_column(String(200))
    # What a cloud answer actually cost; None for local answers.
    cloud_actual_usd_nanos: Mapped[int | None] = mapped_column(BigInteger)
    # The "as of" date of the catalog price used for the cloud figures.
    price_as_of: Mapped[date | None] = mapped_column(Date)
    cost_notes: Mapped[str | None] = mapped_column(Text)
    # The local answer's confidence score (routing.confidence.answer_score, revision 0004):
    # a low quantile of its token logprobs. None when not scored. Past scores calibrate the
    # escalation threshold, so they live here, beside the answers they describe.
    confidence: Mapped[float | None] = mapped_column(Float)
    # The office server's user who asked (revision 0005); None for the desktop and the CLI.
    user: Mapped[str | None] = mapped_column(String(64), index=True)


class AuditRow(Base):
    """The routing audit log (routing.audit): one content-free, hash-chained row per decision.

    Columns are routing.audit.ROW_FIELDS; `seq` is unique so that two writers racing for
    the same place in the chain cannot both succeed (the loser retries on the new head)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    time: Mapped[str] = mapped_column(String(32), nullable=False)
    event: Mapped[str] = mapped_column(String(16), nullable=False)
    conversation_id: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(16), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    refused: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False)
    categories: Mapped[str] = mapped_column(Text, nullable=False)  # JSON {category: count}
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[str | None] = mapped_column(String(40))  # exact decimal text
    # The office server's user (revision 0005); MAC-covered only when set, so rows from
    # before it verify unchanged (routing.audit.OPTIONAL_FIELDS).
    user: Mapped[str | None] = mapped_column(String(64))
    # The local judge's verdict on cloud-bound text (revision 0007), JSON: model, verdict,
    # category, redacted reason, latency. NULL where no judge ran (MAC-covered only when set).
    judge: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class ServerUser(Base):
    """A person who may use the office server (`stillroom users add`; revision 0005).

    Only the SHA-256 of the key is stored: keys are 256 random bits, so a fast hash is as
    strong as a slow one (there is nothing to guess), and it lets a request find its user
    with one indexed lookup. Limits are None where the user has none."""

    __tablename__ = "server_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # Nullable in the database since revision 0005 made it so; always written (utcnow).
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 nullable=True)
    tokens_per_day: Mapped[int | None] = mapped_column(Integer)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer)
    budget_usd_month_nanos: Mapped[int | None] = mapped_column(BigInteger)
    routes: Mapped[str] = mapped_column(String(64), nullable=False)  # "local,onprem,cloud"
    models: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of fnmatch patterns
    admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class QuotaHold(Base):
    """Tokens set aside for an answer in flight (revision 0007), so that requests admitted
    at once, by one box or by several sharing a PostgreSQL, cannot together overspend a
    user's tokens per day: admission counts the ledger's tokens plus the live holds, and
    the hold is deleted once the answer's usage row is written. A box killed mid-answer
    leaves its holds; they stop counting at `expires_at`."""

    __tablename__ = "quota_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ServerRequest(Base):
    """One admitted request of the last minute (revision 0007), for requests per minute
    that hold across every box sharing the database; older rows are deleted as it counts."""

    __tablename__ = "server_requests"
    __table_args__ = (Index("ix_server_requests_user_at", "user", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)



class DocumentJob(Base):
    """A batch job (app/documents/jobs): one template run over every document of a folder.
    Counts are updated in the same transaction as each result, so they never disagree with
    the rows in `document_job_items`."""

    __tablename__ = "document_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    folder: Mapped[str] = mapped_column(Text, nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    model_id: Mapped[str] = mapped_column(String(200), nullable=False)
    route: Mapped[str] = mapped_column(String(64), nullable=False, default="local")
    # "running", "paused", "cancelled", "done". A runner killed mid-job leaves "running";
    # `runner_pid` tells a live runner from a dead one.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    # Set by another process ("pause" / "cancel"); the runner reads it between documents.
    control: Mapped[str | None] = mapped_column(String(16))
    runner_pid: Mapped[int | None] = mapped_column(Integer)
    # JSON: the sampling settings every document of the job is answered with.
    options: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    # Nullable in the database since revision 0006 made them so; always written (utcnow).
    # Not tightened by a migration: SQLite would rebuild the table, and dropping the old one
    # with foreign keys on would cascade into document_job_items.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class DocumentJobItem(Base):
    """One document of a job, keyed by its content (SHA-256): a document is processed once
    per job, and a changed file (new hash) is a new row that takes the old one's place."""

    __tablename__ = "document_job_items"
    __table_args__ = (UniqueConstraint("job_id", "sha256", name="uq_job_item_sha256"),
                      Index("ix_job_items_status", "job_id", "status", "seq"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("document_jobs.id", ondelete="CASCADE"), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    # The document's number in the job (folder order): its Bates-style id in exports. A
    # changed file keeps the number of the version it replaces.
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    # "pending", "running", "done", "failed", "replaced" (the file changed since).
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    reader_status: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    pages: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(String(32))
    route_target: Mapped[str | None] = mapped_column(String(16))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    prompt_tokens_reused: Mapped[int | None] = mapped_column(Integer)
    ttft_s: Mapped[float | None] = mapped_column(Float)
    decode_tps: Mapped[float | None] = mapped_column(Float)
    total_s: Mapped[float | None] = mapped_column(Float)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
