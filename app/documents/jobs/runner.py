"""Running a template over a folder: every document is one chat turn (the sensitivity gate,
the router, the meters, the usage ledger and the audit log see it like any question), its
result recorded in the job ledger in its own transaction.

The template's fixed prefix is the system message and the document comes after it, so the
rendered prompts of two documents share the prefix's tokens and llama.cpp keeps their KV
between calls: the prefix is evaluated once per job, not once per document.

A job is answered on this machine unless it asks for a route; a route off this machine is
checked against the policy before the first document (`check_route`), and the router still
keeps each sensitive document local (or refuses it) one by one.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.documents.document import Document
from app.documents.jobs.reading import read
from app.documents.templates import Template
from app.store.jobs import ItemOutcome, JobInfo, JobItem, JobLedger
from app.store.ledger import cloud_spend
from app.turn.chat_turn import ChatOptions, RouteRefusedError
from app.turn.service import ChatService
from inference.engines.types import EngineBusyError, EngineError
from inference.files import sha256_file
from routing.decision import RouteRequest, RouteState

LOCAL = "local"
BUSY_PAUSE_S = 1.0  # before asking again when the engine's wait queue is full of others'
# A document the engine could not take (its wait queue was full): claimed again later.
_BUSY = ItemOutcome("pending", error="the model's wait queue was full")


class JobRefusedError(ValueError):
    """The job cannot run as asked (a route the policy does not allow); one line."""


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: str
    done: int       # finished documents (done + failed) of the job
    failed: int
    total: int
    tokens_per_s: float | None  # generated tokens per second of generation, this run
    eta_s: float | None
    last_path: str | None = None
    last_status: str | None = None


def folder_files(folder: Path) -> list[Path]:
    """Every regular file under the folder, in a stable order; hidden files and folders
    (".git", ".DS_Store") are not documents."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or not path.is_file():
            continue
        found.append(path)
    return found


def scan(ledger: JobLedger, job: JobInfo) -> int:
    """Hash the folder's files and add what is new or changed to the job (one transaction)."""
    folder = Path(job.folder)
    if not folder.is_dir():
        raise JobRefusedError(f"{folder} is not a folder (it was moved or deleted); put it "
                              f"back or start a new job.")
    files = [(str(path), _content_key(path)) for path in folder_files(folder)]
    return ledger.sync_files(job.id, files)


def _content_key(path: Path) -> str:
    """The file's SHA-256; for a file that cannot be read now, a key made from its path,
    so it is listed (and fails with its reason) instead of silently missing. Once it can be
    read, its real hash is new content and replaces that row."""
    try:
        return sha256_file(path)
    except OSError:
        return "unreadable:" + hashlib.sha256(str(path).encode()).hexdigest()[:53]


def check_route(chat: ChatService, route: str, model_id: str) -> str | None:
    """None for a local job; for any other route, the line to show before the job starts.
    Raise JobRefusedError when the policy would not send a plain document there (offline
    mode, no such provider, a budget used up, a damaged policy file)."""
    word = route.strip().lower()
    if word == LOCAL:
        return None
    parts = chat.parts
    if word == "auto":
        raise JobRefusedError("--route auto is not for jobs: use local (the default), "
                              "cloud, onprem or a provider name, so where documents go is "
                              "decided before the job starts.")
    state = RouteState(offline=parts.settings.offline,
                       spend=cloud_spend(parts.store.engine, datetime.now(UTC)))
    decision = parts.router.decide(RouteRequest(text="", route=word), state,
                                   local_model=model_id)
    if decision.target == LOCAL:
        # The router words it for one message ("...; answered on this machine"); a job is
        # refused as a whole instead, before any document is read.
        why = decision.reason.removesuffix("; answered on this machine")
        raise JobRefusedError(f"refused: a job with --route {route}: {why}; run it with "
                              f"--route local, or change the policy.")
    where = f"{decision.provider} ({decision.model})" if decision.model else decision.provider
    return (f"This job sends each document that is not sensitive to {where}, off this "
            f"machine; sensitive documents stay here (the policy's sensitivity rule).")


def document_text(document: Document) -> str:
    """The document's text with its attachments, each under its own heading."""
    pieces = []
    for part in document.walk():
        if not part.ok:
            continue
        if part is not document:
            pieces.append(f"[Attachment {Path(part.path).name}]")
        pieces.append(part.text())
    return "\n\n".join(p for p in pieces if p)


def page_count(document: Document) -> int | None:
    pages = {part.page for part in document.parts if part.page is not None}
    return len(pages) or None


class JobRunner:
    def __init__(self, chat: ChatService, ledger: JobLedger, template: Template,
                 job: JobInfo, *, reader: Callable[..., Document] = read) -> None:
        self.chat = chat
        self.ledger = ledger
        self.template = template
        self.job = job
        self._read = reader
        self._tokens = 0
        self._gen_s = 0.0
        self._run_started = time.perf_counter()
        self._processed = 0
        self._cancel = threading.Event()

    def options(self) -> ChatOptions:
        saved = self.job.options
        return ChatOptions(model=self.job.model_id, system_prompt=self.template.prefix,
                           max_tokens=saved.get("max_tokens") or self.template.max_tokens,
                           temperature=saved.get("temperature", 0.0), seed=saved.get("seed", 0),
                           route=self.job.route, json_schema=self.template.schema,
                           queue_owner=f"job:{self.job.id}")

    def parallelism(self) -> int:
        """Documents answered at once when the caller names no number: what the engine's
        scheduler lets one owner run (one while it answers one stream at a time)."""
        batch = self.chat.parts.engines.batching
        if batch is None:
            return 1
        return batch.max_running_per_owner or batch.slots

    def run(self, on_progress: Callable[[Progress], None] | None = None,
            parallel: int | None = None) -> str:
        """Process every pending document, `parallel` at once (default: `parallelism()`);
        return the job's status at the end ("done", "paused" or "cancelled"). Safe to kill
        at any point: `resume` continues.

        Documents are claimed and their results recorded on this thread, each in its own
        transaction; only the turns run on worker threads. A document is claimed only when
        a worker is free, so a pause or a kill leaves at most `parallel` documents to redo.
        """
        ledger, job_id = self.ledger, self.job.id
        width = max(1, parallel or self.parallelism())
        scan(ledger, self.job)
        ledger.start_run(job_id)
        in_flight: dict[Future[ItemOutcome], JobItem] = {}
        self._run_started = time.perf_counter()
        busy_retry: list[JobItem] = []  # put back: the engine's wait queue was full
        pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix=f"job-{job_id}")
        try:
            while True:
                while len(in_flight) < width and ledger.control(job_id) is None:
                    item = busy_retry.pop() if busy_retry else ledger.claim_next(job_id)
                    if item is None:
                        break
                    in_flight[pool.submit(self._process, item)] = item
                if not in_flight:
                    break
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = in_flight.pop(future)
                    outcome = future.result()
                    if outcome is _BUSY:
                        busy_retry.append(item)
                        width = max(1, len(in_flight))  # others hold the engine: ask less
                        continue
                    ledger.record(item.id, outcome)
                    self._tokens += outcome.completion_tokens or 0
                    self._gen_s += outcome.total_s or 0.0
                    self._processed += 1
                    if on_progress is not None:
                        on_progress(self._progress(item.path, outcome.status))
                if busy_retry and not in_flight:
                    time.sleep(BUSY_PAUSE_S)  # the engine is full of other owners' requests
        except BaseException as exc:  # Ctrl+C, or a failure of the ledger or a reader
            self._cancel.set()  # the turns in flight end at their next token
            pool.shutdown(wait=True)
            for item in [*busy_retry, *in_flight.values()]:
                ledger.release(item.id)
            if isinstance(exc, KeyboardInterrupt):
                ledger.finish_run(job_id, "paused")
            raise
        pool.shutdown(wait=True)
        for item in busy_retry:  # paused or cancelled while it waited to be retried
            ledger.release(item.id)
        control = ledger.control(job_id)
        status = {"pause": "paused", "cancel": "cancelled"}.get(control or "", "done")
        ledger.finish_run(job_id, status)
        return status

    def _process(self, item: JobItem) -> ItemOutcome:
        path = Path(item.path)
        try:
            document = self._read(path)
        except OSError as exc:
            return ItemOutcome("failed", reader_status="unreadable",
                               error=f"{path.name} cannot be read: {exc.strerror or exc}.")
        if document.sha256 != item.sha256:
            return ItemOutcome("failed", reader_status=document.status,
                               error=f"{path.name} changed while the job ran; resume the job "
                                     f"to do the new version.")
        if not document.ok:
            return ItemOutcome("failed", reader_status=document.status, error=document.reason)
        prompt = self.template.prompt_for(path.name, document_text(document),
                                          document.fields)
        pages = page_count(document)
        try:
            turn = self.chat.start(prompt, options=self.options(), cancel=self._cancel)
            for _chunk in turn:
                pass
        except EngineBusyError:
            return _BUSY
        except (RouteRefusedError, EngineError) as exc:
            return ItemOutcome("failed", reader_status=document.status, pages=pages,
                               error=str(exc))
        answered = turn.decisions[-1].target if turn.decisions else None
        result = turn.result
        figures: dict[str, Any] = {"conversation_id": turn.conversation_id,
                                   "route_target": answered, "pages": pages,
                                   "reader_status": document.status}
        if result is not None:
            timings = result.timings
            figures.update(prompt_tokens=result.prompt_tokens,
                           completion_tokens=result.completion_tokens,
                           prompt_tokens_reused=timings.prompt_tokens_reused,
                           ttft_s=timings.ttft_s, decode_tps=timings.decode_tps,
                           total_s=timings.total_s)
        parsed, error = self._result(turn.text, result.finish_reason if result else "error")
        if error is not None:
            return ItemOutcome("failed", error=error, **figures)
        return ItemOutcome("done", result=parsed, **figures)

    def _result(self, text: str, finish: str) -> tuple[Any, str | None]:
        template = self.template
        if template.output == "text":
            return {"text": text.strip()}, None
        if finish in ("length", "context"):
            return None, (f"the answer was cut at {self.options().max_tokens} tokens before "
                          f"its JSON closed; raise max_tokens in the template "
                          f"({template.source}) or --max-tokens.")
        try:
            parsed = json.loads(text)
            template.validate(parsed)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return None, f"the answer does not follow the template's schema: {exc}"
        return parsed, None

    def _progress(self, path: str, status: str) -> Progress:
        job = self.ledger.get(self.job.id)
        finished = job.done + job.failed
        # Wall time per document: with several at once, each takes longer but they overlap.
        elapsed = time.perf_counter() - self._run_started
        per_doc = elapsed / self._processed if self._processed else None
        remaining = max(0, job.total - finished)
        return Progress(job_id=job.id, done=finished, failed=job.failed, total=job.total,
                        tokens_per_s=self._tokens / self._gen_s if self._gen_s > 0 else None,
                        eta_s=per_doc * remaining if per_doc is not None else None,
                        last_path=path, last_status=status)
