"""A download queue for model files: one transfer at a time, pause, resume, cancel, and a
state file so that the queue survives the app's restart.

Each job is one RemoteFile fetched by hub.download() into the HF cache. Pause and cancel
set the job's stop event, which the transfer checks between blocks, so they take effect
within one block. Paused bytes stay in the cache's `.incomplete` blob and the next transfer
continues them with a Range request — in this process or after a restart. Cancel deletes
that partial. A file is registered (through the `register` callback, the model library)
only after its SHA-256 matched.

State file (`downloads.json`, written atomically on every state change): the jobs with
their RemoteFile and state. Jobs that were running when the process ended (a crash, or
close()) come back queued and resume; paused jobs stay paused.

Subscribers are called on the queue's own notifier thread, in the order of the changes,
never with the queue's lock held and never on the caller's thread: a GUI hands them to its
own thread (a Qt signal does), and may call the queue from them.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from inference.engines.types import EngineError
from inference.files import write_json_atomic
from inference.hub.remote_fit import shard_of
from inference.hub.transfer import (
    DownloadProgress,
    DownloadStopped,
    RemoteFile,
    download,
    partial_path,
)
from inference.models.created_files import CreatedFiles
from inference.models.library import ModelLibrary
from inference.user_files import MISSING, FileProblem, file_problem, read_json_file

JobState = Literal["queued", "running", "paused", "done", "failed", "cancelled"]
ACTIVE: frozenset[str] = frozenset({"queued", "running", "paused"})
_STATES = frozenset({*ACTIVE, "done", "failed", "cancelled"})
STATE_VERSION = 1
PROGRESS_INTERVAL_S = 0.1  # at most ~10 progress callbacks a second per job
_SPEED_WINDOW_S = 2.0

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DownloadJob:
    id: str
    repo_id: str
    filename: str
    state: JobState
    downloaded_bytes: int
    total_bytes: int | None
    error: str | None = None
    model_id: str | None = None
    speed_bps: float | None = None


@dataclass
class _Entry:
    """A job's mutable record, guarded by the queue's lock."""

    job: DownloadJob
    remote: RemoteFile
    stop: threading.Event = field(default_factory=threading.Event)
    last_emit: float = 0.0
    unsent: bool = False  # progress held back by the throttle, sent by the notifier
    samples: list[tuple[float, int]] = field(default_factory=list)  # for the speed


class DownloadQueueError(EngineError):
    pass


class DownloadQueue:
    def __init__(self, state_path: Path, register: Callable[[RemoteFile, Path], str],
                 token: Callable[[], str | None], *, autostart: bool = True,
                 created: CreatedFiles | None = None) -> None:
        self.state_path = state_path
        self._created = created  # the ledger that records the blobs this queue makes
        self._register = register
        self._token = token
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._entries: dict[str, _Entry] = {}
        self._subscribers: list[Callable[[DownloadJob], None]] = []
        self._closed = False
        self._worker: threading.Thread | None = None
        self._active: _Entry | None = None  # the job the worker is transferring
        self._events: queue.SimpleQueue[DownloadJob | None] = queue.SimpleQueue()
        self.problems: list[FileProblem] = []  # what of the state file could not be used
        self._load()  # before any thread is started
        self._notifier = threading.Thread(target=self._notify, name="downloads-events",
                                          daemon=True)
        self._notifier.start()
        if autostart:
            self.start()

    # -- public API --------------------------------------------------------------------
    def add(self, remote: RemoteFile) -> str:
        """Queue a file; returns the job id. The same file already queued, running or
        paused is not queued twice: its job id is returned."""
        if not remote.sha256:
            raise DownloadQueueError(f"The Hub publishes no SHA-256 for {remote.filename}, "
                                     f"so it cannot be verified; not queued.")
        if shard_of(remote.filename) is not None:
            # Each shard would be registered as a model of its own, and llama.cpp finds the
            # other shards by name, not by the HF cache's content-addressed blobs.
            raise DownloadQueueError(f"{remote.filename} is one part of a split model; "
                                     f"split models cannot be downloaded yet.")
        with self._lock:
            for entry in self._entries.values():
                if entry.remote.sha256 == remote.sha256 and entry.job.state in ACTIVE:
                    return entry.job.id
            job = DownloadJob(uuid.uuid4().hex[:12], remote.repo_id, remote.filename,
                              "queued", _partial_size(remote), remote.size_bytes)
            self._entries[job.id] = _Entry(job, remote)
            self._changed_locked(job.id)
            self._wake.notify_all()
        self.start()
        return job.id

    def pause(self, job_id: str) -> None:
        """Queued or running -> paused (the partial is kept). Anything else: no change."""
        with self._lock:
            entry = self._entry(job_id)
            if entry.job.state in ("queued", "running"):
                entry.stop.set()
                self._set_locked(job_id, state="paused", speed_bps=None)

    def resume(self, job_id: str) -> None:
        """Paused or failed -> queued (continues from the partial)."""
        with self._lock:
            entry = self._entry(job_id)
            if entry.job.state in ("paused", "failed"):
                entry.stop = threading.Event()
                self._set_locked(job_id, state="queued", error=None,
                                 downloaded_bytes=_partial_size(entry.remote))
                self._wake.notify_all()
        self.start()

    def cancel(self, job_id: str) -> None:
        """Stop the job and delete its partial file. A finished job is not undone."""
        with self._lock:
            entry = self._entry(job_id)
            state = entry.job.state
            if state not in ACTIVE and state != "failed":
                return
            entry.stop.set()
            self._set_locked(job_id, state="cancelled", speed_bps=None, downloaded_bytes=0)
            if state != "running":  # a running transfer deletes it once it has stopped
                _delete_partial(entry.remote)

    def remove(self, job_id: str) -> None:
        """Forget a job; an unfinished one is cancelled first (its partial deleted)."""
        self.cancel(job_id)
        with self._lock:
            if self._entries.pop(job_id, None) is not None:
                self._save_locked()

    def jobs(self) -> list[DownloadJob]:
        with self._lock:
            return [entry.job for entry in self._entries.values()]

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no transfer runs and none is queued (a paused or cancelled transfer
        has really stopped and its partial file is final). False on timeout."""
        with self._lock:
            return self._wake.wait_for(
                lambda: self._active is None and (self._closed or self._next_locked() is None),
                timeout)

    def subscribe(self, callback: Callable[[DownloadJob], None]) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the running transfer and save. Running and queued jobs are saved as they
        were, so the next start resumes them; the process may then exit. A transfer stuck
        in a stalled read sees the stop only when the read returns: after `timeout` seconds
        close() stops waiting for it (the worker is a daemon thread)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for entry in self._entries.values():
                if entry.job.state == "running":
                    entry.stop.set()
            self._save_locked()
            self._wake.notify_all()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
        self._events.put(None)  # after the last change: the notifier drains, then ends
        if self._notifier is not threading.current_thread():
            self._notifier.join(timeout)

    # -- the worker --------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker (the constructor does, unless autostart=False: subscribe first
        to see every update from the start). Subscribers added later should read jobs()
        after subscribing, for the state they missed."""
        with self._lock:
            if self._closed or (self._worker is not None and self._worker.is_alive()):
                return
            self._worker = threading.Thread(target=self._run, name="downloads", daemon=True)
            self._worker.start()

    def _next_locked(self) -> _Entry | None:
        for entry in self._entries.values():
            if entry.job.state == "queued":
                return entry
        return None

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._closed and (entry := self._next_locked()) is None:
                    self._wake.wait()
                if self._closed:
                    return
                assert entry is not None
                entry.stop = threading.Event()
                entry.samples.clear()
                self._active = entry
                self._set_locked(entry.job.id, state="running", error=None)
            try:
                self._transfer(entry)
            finally:
                with self._lock:
                    self._active = None
                    self._wake.notify_all()

    def _transfer(self, entry: _Entry) -> None:
        job_id, remote = entry.job.id, entry.remote
        try:
            token = self._token()
            path = download(remote, token=token, stop=entry.stop, created=self._created,
                            on_progress=lambda update: self._progress(entry, update))
        except DownloadStopped:
            with self._lock:
                if entry.job.state == "cancelled" or job_id not in self._entries:
                    _delete_partial(remote)
                elif entry.job.state == "paused":  # the partial is final: say how much
                    self._set_locked(job_id, downloaded_bytes=_partial_size(remote))
                # closed: "running" stays in the file, so the next start resumes it
            return
        except Exception as exc:  # HubError (user-facing) or anything unexpected
            with self._lock:
                if not entry.stop.is_set():
                    self._set_locked(job_id, state="failed", error=str(exc), speed_bps=None,
                                     downloaded_bytes=_partial_size(remote))
            return
        with self._lock:
            if entry.job.state == "cancelled" or job_id not in self._entries:
                return  # cancelled as the last block arrived: verified, cached, not registered
        try:
            model_id = self._register(remote, path)
        except Exception as exc:
            with self._lock:
                self._set_locked(job_id, state="failed", speed_bps=None,
                                 error=f"Downloaded and verified, but not registered: {exc}")
            return
        with self._lock:
            self._set_locked(job_id, state="done", model_id=model_id, speed_bps=None,
                             downloaded_bytes=remote.size_bytes or path.stat().st_size)

    def _progress(self, entry: _Entry, update: DownloadProgress) -> None:
        now = time.monotonic()
        with self._lock:
            if entry.job.state != "running":
                return
            entry.samples.append((now, update.downloaded_bytes))
            while len(entry.samples) > 2 and now - entry.samples[0][0] > _SPEED_WINDOW_S:
                entry.samples.pop(0)
            first_t, first_b = entry.samples[0]
            speed = (update.downloaded_bytes - first_b) / (now - first_t) \
                if now - first_t > 0.05 else None
            entry.job = replace(entry.job, downloaded_bytes=update.downloaded_bytes,
                                speed_bps=speed if speed is None or speed >= 0 else None)
            if now - entry.last_emit < PROGRESS_INTERVAL_S:
                entry.unsent = True  # sent soon by the notifier: a stalled transfer's
                return               # last figures must not wait for the next block
            entry.last_emit = now
            entry.unsent = False
            self._events.put(entry.job)

    # -- state -------------------------------------------------------------------------
    def _entry(self, job_id: str) -> _Entry:
        try:
            return self._entries[job_id]
        except KeyError:
            raise DownloadQueueError(f"No download {job_id}.") from None

    def _set_locked(self, job_id: str, **changes: object) -> None:
        entry = self._entries.get(job_id)
        if entry is None:
            return
        entry.job = replace(entry.job, **changes)  # type: ignore[arg-type]
        self._changed_locked(job_id)

    def _changed_locked(self, job_id: str) -> None:
        """A state change: saved, then told to subscribers (never throttled)."""
        entry = self._entries[job_id]
        entry.last_emit, entry.unsent = time.monotonic(), False
        self._save_locked()
        self._events.put(entry.job)

    def _notify(self) -> None:
        while True:
            try:
                job = self._events.get(timeout=PROGRESS_INTERVAL_S)
            except queue.Empty:
                job = None
            else:
                if job is None:  # close()
                    return
            if job is not None:
                self._deliver(job)
            for held in self._held_back_progress():
                self._deliver(held)

    def _held_back_progress(self) -> list[DownloadJob]:
        now = time.monotonic()
        with self._lock:
            due = [e for e in self._entries.values() if e.unsent and e.job.state == "running"
                   and now - e.last_emit >= PROGRESS_INTERVAL_S]
            for entry in due:
                entry.unsent, entry.last_emit = False, now
            return [entry.job for entry in due]

    def _deliver(self, job: DownloadJob) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(job)
            except Exception:  # a subscriber's bug must not stop the others' updates
                logger.exception("download subscriber failed")

    def _save_locked(self) -> None:
        jobs = []
        for entry in self._entries.values():
            job, remote = entry.job, entry.remote
            jobs.append({"id": job.id, "state": job.state, "error": job.error,
                         "model_id": job.model_id, "total_bytes": job.total_bytes,
                         "repo_id": remote.repo_id, "filename": remote.filename,
                         "size_bytes": remote.size_bytes, "sha256": remote.sha256,
                         "quantization": remote.quantization, "revision": remote.revision})
        write_json_atomic(self.state_path, {"version": STATE_VERSION, "jobs": jobs},
                          sort_keys=False)

    def _load(self) -> None:
        """Fail closed and keep going: a damaged file means no jobs (its copy kept aside;
        the next save replaces it), a damaged entry is skipped and the others load. Both are
        in ``problems``, one line each."""
        path = self.state_path
        data, problem = read_json_file(path, "The download list")
        if data is MISSING:
            return
        if problem is not None:
            self.problems.append(_no_jobs(problem))
            return
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION \
                or not isinstance(data.get("jobs", []), list):
            self.problems.append(_no_jobs(file_problem(
                path, f'The download list {path} has an unknown format (expected {{"version": '
                      f'{STATE_VERSION}, "jobs": [...]}})')))
            return
        for index, raw in enumerate(data.get("jobs", [])):
            why = _job_problem(raw)
            if why is not None:
                self.problems.append(file_problem(
                    path, f"The download list {path}: jobs[{index}] {why}; that download was "
                          f"skipped (start it again from the Models tab), the others load."))
                continue
            remote = RemoteFile(raw["repo_id"], raw["filename"], raw.get("size_bytes"),
                                raw.get("sha256"), raw.get("quantization"),
                                raw.get("revision"))
            state = raw["state"]
            job_id = str(raw["id"])
            if state not in _STATES:
                state = "failed"
            if state == "running":  # the process ended mid-transfer: resume it
                state = "queued"
            done = (remote.size_bytes or 0) if state == "done" else _partial_size(remote)
            total = raw.get("total_bytes", remote.size_bytes)
            job = DownloadJob(job_id, remote.repo_id, remote.filename, state, done,
                              total if _is_count(total) else remote.size_bytes,
                              raw.get("error") if isinstance(raw.get("error"), str) else None,
                              raw.get("model_id") if isinstance(raw.get("model_id"), str)
                              else None)
            self._entries[job.id] = _Entry(job, remote)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _is_count(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool)
                             and value >= 0)


def _job_problem(raw: object) -> str | None:
    """Why one downloads.json entry cannot be resumed, in words; None when it can."""
    if not isinstance(raw, dict):
        return f"is {type(raw).__name__}, not an object"
    if not isinstance(raw.get("id"), str | int) or isinstance(raw.get("id"), bool):
        return "has no usable 'id'"
    repo = raw.get("repo_id")
    if not isinstance(repo, str) or repo.count("/") != 1 or ".." in repo \
            or repo.startswith("/") or "\\" in repo:
        return "has no usable 'repo_id' (owner/name)"
    if not isinstance(raw.get("filename"), str) or not raw["filename"].strip():
        return "has no usable 'filename'"
    if not isinstance(raw.get("state"), str):
        return "has no usable 'state'"
    sha = raw.get("sha256")
    if sha is not None and not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        return "has a 'sha256' that is not 64 hexadecimal digits"
    if not _is_count(raw.get("size_bytes")):
        return "has a 'size_bytes' that is not a whole number"
    for key in ("quantization", "revision"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            return f"has a '{key}' that is not text"
    return None


def _no_jobs(problem: FileProblem) -> FileProblem:
    return replace(problem, message=f"{problem.message.rstrip('.')}; no downloads were resumed "
                                    f"(start them again from the Models tab).")


def _partial_size(remote: RemoteFile) -> int:
    path = partial_path(remote)
    try:
        return path.stat().st_size if path is not None else 0
    except FileNotFoundError:
        return 0


def _delete_partial(remote: RemoteFile) -> None:
    path = partial_path(remote)
    if path is not None:
        path.unlink(missing_ok=True)


def library_registrar(library: ModelLibrary) -> Callable[[RemoteFile, Path], str]:
    """The `register` callback for a model library: the file's SHA-256 (hashed as it
    streamed and checked against the Hub's by hub.download) is passed on, not recomputed,
    and the id comes from the file's name, not its blob name (a hash)."""
    def register(remote: RemoteFile, path: Path) -> str:
        stem = Path(remote.filename).stem
        return library.register(path, name=stem, sha256=remote.sha256, id_hint=stem,
                                source=f"hf:{remote.repo_id}/{remote.filename}"
                                       f"@{remote.revision}", hashed=True).id

    return register
