"""The batch-job ledger: jobs and their documents, keyed by each file's SHA-256.

Every change that a crash could cut in half is one transaction: the folder scan (new rows,
replaced rows, the job's total), claiming a document, and its result together with the
job's counts. A runner killed between two of them leaves the ledger as it was after the
first, so `resume` redoes at most the document that was in flight and never records one
twice."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from app.store.schema import DocumentJob, DocumentJobItem, utcnow

# The statuses of a document row that count as finished.
FINISHED = ("done", "failed")
JOB_FINISHED = ("done", "cancelled")


class JobNotFoundError(ValueError):
    """A job id (or prefix) that matches no job, or several; worded for the user."""


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: str
    folder: str
    template: str
    model_id: str
    route: str
    status: str
    control: str | None
    runner_pid: int | None
    options: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None
    total: int
    done: int
    failed: int

    @property
    def runner_alive(self) -> bool:
        """A runner process is working on the job now (not one killed mid-job)."""
        if self.runner_pid is None:
            return False
        try:
            os.kill(self.runner_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    @property
    def shown_status(self) -> str:
        """What `docs jobs` says: a job left "running" by a dead runner is interrupted."""
        if self.status == "running" and not self.runner_alive:
            return "interrupted"
        return self.status


@dataclass(frozen=True, slots=True)
class JobItem:
    id: int
    job_id: str
    sha256: str
    path: str
    seq: int
    status: str
    reader_status: str | None
    result: Any
    pages: int | None
    error: str | None
    conversation_id: str | None
    route_target: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    prompt_tokens_reused: int | None
    ttft_s: float | None
    decode_tps: float | None
    total_s: float | None


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What the runner records for one document, in one transaction."""

    status: str  # "done" or "failed"
    reader_status: str | None = None
    result: Any = None
    pages: int | None = None
    error: str | None = None
    conversation_id: str | None = None
    route_target: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_reused: int | None = None
    ttft_s: float | None = None
    decode_tps: float | None = None
    total_s: float | None = None


def _job(row: DocumentJob) -> JobInfo:
    return JobInfo(id=row.id, folder=row.folder, template=row.template, model_id=row.model_id,
                   route=row.route, status=row.status, control=row.control,
                   runner_pid=row.runner_pid, options=json.loads(row.options or "{}"),
                   created_at=row.created_at, finished_at=row.finished_at, total=row.total,
                   done=row.done, failed=row.failed)


def _item(row: DocumentJobItem) -> JobItem:
    return JobItem(id=row.id, job_id=row.job_id, sha256=row.sha256, path=row.path, seq=row.seq,
                   status=row.status, reader_status=row.reader_status,
                   result=json.loads(row.result) if row.result is not None else None,
                   pages=row.pages, error=row.error, conversation_id=row.conversation_id,
                   route_target=row.route_target, prompt_tokens=row.prompt_tokens,
                   completion_tokens=row.completion_tokens,
                   prompt_tokens_reused=row.prompt_tokens_reused, ttft_s=row.ttft_s,
                   decode_tps=row.decode_tps, total_s=row.total_s)


class JobLedger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, *, folder: str, template: str, model_id: str, route: str,
               options: dict[str, Any]) -> JobInfo:
        row = DocumentJob(id=secrets.token_hex(4), folder=folder, template=template,
                          model_id=model_id, route=route, status="running",
                          options=json.dumps(options, sort_keys=True), total=0, done=0,
                          failed=0)
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.add(row)
        return _job(row)

    def get(self, job_id: str) -> JobInfo:
        """By id or unique prefix."""
        wanted = job_id.strip().lower()
        with Session(self.engine) as session:
            rows = session.scalars(select(DocumentJob).where(
                DocumentJob.id.startswith(wanted, autoescape=True)).limit(2)).all() \
                if wanted else []
        if len(rows) != 1:
            why = "matches several jobs" if rows else "does not exist"
            raise JobNotFoundError(f"Job '{job_id}' {why}; `stillroom docs jobs` lists them.")
        return _job(rows[0])

    def list(self) -> list[JobInfo]:
        with Session(self.engine) as session:
            return [_job(r) for r in session.scalars(
                select(DocumentJob).order_by(DocumentJob.created_at.desc()))]

    def find_unfinished(self, *, folder: str, template: str, model_id: str, route: str
                        ) -> JobInfo | None:
        """The newest job over the same folder, template, model and route that is not done:
        `docs run` again after a crash continues it instead of starting over."""
        with Session(self.engine) as session:
            row = session.scalars(select(DocumentJob).where(
                DocumentJob.folder == folder, DocumentJob.template == template,
                DocumentJob.model_id == model_id, DocumentJob.route == route,
                DocumentJob.status.not_in(JOB_FINISHED))
                .order_by(DocumentJob.created_at.desc()).limit(1)).first()
        return _job(row) if row is not None else None

    def sync_files(self, job_id: str, files: Sequence[tuple[str, str]]) -> int:
        """Bring the job's rows in line with the folder: (path, sha256) in folder order.

        New content gets a pending row; a path whose content changed gets a new row with
        the old row's number, and the old row becomes "replaced". Content already in the
        job (even at another path) is not added again. One transaction; returns how many
        rows were added."""
        added = 0
        with Session(self.engine) as session, session.begin():
            rows = session.scalars(select(DocumentJobItem).where(
                DocumentJobItem.job_id == job_id)).all()
            by_sha = {r.sha256: r for r in rows}
            current = {r.path: r for r in rows if r.status != "replaced"}
            next_seq = max((r.seq for r in rows), default=0) + 1
            for path, sha in files:
                if sha in by_sha:
                    continue
                old = current.get(path)
                if old is not None:
                    old.status = "replaced"
                    seq = old.seq
                else:
                    seq, next_seq = next_seq, next_seq + 1
                row = DocumentJobItem(job_id=job_id, sha256=sha, path=path, seq=seq,
                                      status="pending")
                session.add(row)
                by_sha[sha] = current[path] = row
                added += 1
            session.flush()
            self._recount(session, job_id)
        return added

    def start_run(self, job_id: str) -> None:
        """A runner takes the job: documents a dead runner left "running" are pending again
        (their result was never recorded), and the job is running with this process."""
        with Session(self.engine) as session, session.begin():
            session.execute(update(DocumentJobItem).where(
                DocumentJobItem.job_id == job_id, DocumentJobItem.status == "running")
                .values(status="pending"))
            session.execute(update(DocumentJob).where(DocumentJob.id == job_id).values(
                status="running", control=None, runner_pid=os.getpid(), finished_at=None,
                updated_at=utcnow()))

    def claim_next(self, job_id: str) -> JobItem | None:
        """The next pending document, marked running; None when none is left."""
        with Session(self.engine) as session, session.begin():
            row = session.scalars(select(DocumentJobItem).where(
                DocumentJobItem.job_id == job_id, DocumentJobItem.status == "pending")
                .order_by(DocumentJobItem.seq).limit(1)).first()
            if row is None:
                return None
            row.status = "running"
            return _item(row)

    def record(self, item_id: int, outcome: ItemOutcome) -> None:
        """The document's result and the job's counts, in one transaction."""
        with Session(self.engine) as session, session.begin():
            row = session.get(DocumentJobItem, item_id)
            if row is None or row.status != "running":
                return  # replaced or reset meanwhile: never record a result twice
            row.status = outcome.status
            row.reader_status = outcome.reader_status
            row.result = json.dumps(outcome.result, ensure_ascii=False) \
                if outcome.result is not None else None
            for name in ("pages", "error", "conversation_id", "route_target", "prompt_tokens",
                         "completion_tokens", "prompt_tokens_reused", "ttft_s", "decode_tps",
                         "total_s"):
                setattr(row, name, getattr(outcome, name))
            row.finished_at = utcnow()
            session.flush()
            self._recount(session, row.job_id)

    def release(self, item_id: int) -> None:
        """Put a claimed document back (the run was paused or cancelled mid-document)."""
        with Session(self.engine) as session, session.begin():
            session.execute(update(DocumentJobItem).where(
                DocumentJobItem.id == item_id, DocumentJobItem.status == "running")
                .values(status="pending"))

    def control(self, job_id: str) -> str | None:
        with Session(self.engine) as session:
            return session.scalar(select(DocumentJob.control).where(DocumentJob.id == job_id))

    def request(self, job_id: str, control: str) -> JobInfo:
        """Ask the runner (in whatever process) to "pause" or "cancel" between documents.
        A job with no live runner changes at once."""
        job = self.get(job_id)
        with Session(self.engine) as session, session.begin():
            values: dict[str, Any] = {"control": control, "updated_at": utcnow()}
            if not job.runner_alive or job.status != "running":
                values.update(status="paused" if control == "pause" else "cancelled",
                              control=None, runner_pid=None)
                if control == "cancel":
                    values["finished_at"] = utcnow()
            session.execute(update(DocumentJob).where(DocumentJob.id == job.id).values(
                **values))
        return self.get(job.id)

    def finish_run(self, job_id: str, status: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(update(DocumentJob).where(DocumentJob.id == job_id).values(
                status=status, control=None, runner_pid=None, updated_at=utcnow(),
                finished_at=utcnow() if status in JOB_FINISHED else None))

    def items(self, job_id: str, *, current_only: bool = True) -> list[JobItem]:
        """The job's documents in folder order; without the replaced versions by default."""
        query = select(DocumentJobItem).where(DocumentJobItem.job_id == job_id)
        if current_only:
            query = query.where(DocumentJobItem.status != "replaced")
        with Session(self.engine) as session:
            return [_item(r) for r in session.scalars(
                query.order_by(DocumentJobItem.seq, DocumentJobItem.id))]

    @staticmethod
    def _recount(session: Session, job_id: str) -> None:
        counts = dict(session.execute(
            select(DocumentJobItem.status, func.count()).where(
                DocumentJobItem.job_id == job_id, DocumentJobItem.status != "replaced")
            .group_by(DocumentJobItem.status)).all())
        session.execute(update(DocumentJob).where(DocumentJob.id == job_id).values(
            total=sum(counts.values()), done=counts.get("done", 0),
            failed=counts.get("failed", 0), updated_at=utcnow()))
