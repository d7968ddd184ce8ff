"""The download queue against a loopback Hub, with the real library registering the files:
pause, resume (in-process and after a restart), cancel, failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inference.engines.types import ModelInfo
from inference.files import sha256_file
from inference.hub.downloads import DownloadJob, DownloadQueue, library_registrar
from inference.hub.transfer import RemoteFile, cache_dir, choose_file, partial_path, repo_files
from inference.models.library import ModelLibrary
from tests.inference.fake_hub import FakeHub

REPO = "acme/Smol-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"
HELD = 5 * (1 << 20) + 123  # bytes the Hub sends before holding the transfer
# A guard against a hang, not a performance limit: every wait below ends far sooner.
HANG_GUARD_S = 120


class Watcher:
    """Collects the queue's updates; wait_for() blocks until one matches."""

    def __init__(self) -> None:
        self.updates: list[DownloadJob] = []
        self._changed = threading.Condition()

    def __call__(self, job: DownloadJob) -> None:
        with self._changed:
            self.updates.append(job)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[DownloadJob], bool]) -> DownloadJob:
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((j for j in self.updates if predicate(j)), None), HANG_GUARD_S)
        assert found, f"no update matched; saw {self.updates[-3:]}"
        return found


@pytest.fixture
def hub(fake_hub: FakeHub, model: ModelInfo) -> FakeHub:
    fake_hub.add(REPO, {FILE: Path(model.path), "README.md": b"# Smol\n"})
    return fake_hub


@pytest.fixture
def library(stillroom_home: Path) -> ModelLibrary:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    return ModelLibrary(stillroom_home)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "downloads.json"


@pytest.fixture
def open_queue(state_path: Path, library: ModelLibrary
               ) -> Iterator[Callable[[], tuple[DownloadQueue, Watcher]]]:
    opened: list[DownloadQueue] = []

    def make() -> tuple[DownloadQueue, Watcher]:
        watcher = Watcher()
        queue = DownloadQueue(state_path, library_registrar(library), lambda: None,
                              autostart=False)
        queue.subscribe(watcher)
        queue.start()
        opened.append(queue)
        return queue, watcher

    yield make
    for queue in opened:
        queue.close()


def _remote() -> RemoteFile:
    return choose_file(REPO, repo_files(REPO), FILE)


def _ranges(hub: FakeHub) -> list[str | None]:
    return [r.headers.get("range") for r in hub.requests
            if r.method == "GET" and "/resolve/" in r.path]


def test_a_queued_file_is_downloaded_verified_and_registered(
        hub: FakeHub, model: ModelInfo, library: ModelLibrary, open_queue) -> None:
    queue, watcher = open_queue()
    job_id = queue.add(_remote())
    done = watcher.wait_for(lambda j: j.state == "done")
    assert done.id == job_id and done.downloaded_bytes == done.total_bytes == model.size_bytes
    assert library.get(done.model_id).sha256 == model.sha256
    states = [j.state for j in watcher.updates]
    assert states[0] == "queued" and "running" in states and states[-1] == "done"


def test_pause_keeps_the_partial_and_resume_continues_it(
        hub: FakeHub, model: ModelInfo, open_queue) -> None:
    hub.hold_after[FILE] = HELD
    queue, watcher = open_queue()
    remote = _remote()
    job_id = queue.add(remote)
    watcher.wait_for(lambda j: j.state == "running" and j.downloaded_bytes >= 5 << 20)
    queue.pause(job_id)
    hub.release.set()  # the next block arrives; the transfer sees the pause and stops
    paused = watcher.wait_for(lambda j: j.state == "paused")
    assert paused.id == job_id
    queue_jobs = {j.id: j for j in queue.jobs()}
    assert queue_jobs[job_id].state == "paused"
    partial = partial_path(remote)
    # The transfer stops within a block: what arrived before the pause is kept.
    _wait_until_stopped(queue)
    kept = partial.stat().st_size
    assert 5 << 20 <= kept < model.size_bytes
    queue.resume(job_id)
    done = watcher.wait_for(lambda j: j.state == "done")
    assert _ranges(hub) == [None, f"bytes={kept}-"]
    assert sha256_file(cache_dir() / "models--acme--Smol-GGUF" / "blobs" / model.sha256) \
        == model.sha256
    assert done.model_id is not None and not partial.exists()


def _wait_until_stopped(queue: DownloadQueue) -> None:
    """Until the worker has really stopped (its partial file is final)."""
    assert queue.wait_idle(HANG_GUARD_S)


def test_a_new_queue_on_the_same_state_file_resumes_the_partial(
        hub: FakeHub, model: ModelInfo, state_path: Path, open_queue) -> None:
    hub.hold_after[FILE] = HELD
    first, watcher = open_queue()
    job_id = first.add(_remote())
    watcher.wait_for(lambda j: j.state == "running" and j.downloaded_bytes >= 5 << 20)
    hub.release.set()
    first.close()  # the app quits mid-transfer
    saved = json.loads(state_path.read_text())["jobs"]
    assert [(j["id"], j["state"]) for j in saved] == [(job_id, "running")]
    kept = partial_path(_remote()).stat().st_size
    assert 0 < kept < model.size_bytes
    _, watcher = open_queue()  # the next start: the job is queued and resumes
    done = watcher.wait_for(lambda j: j.state == "done")
    assert done.id == job_id and _ranges(hub)[-1] == f"bytes={kept}-"
    assert json.loads(state_path.read_text())["jobs"][0]["state"] == "done"


def test_paused_jobs_stay_paused_after_a_restart(hub: FakeHub, open_queue) -> None:
    hub.hold_after[FILE] = HELD
    first, watcher = open_queue()
    job_id = first.add(_remote())
    watcher.wait_for(lambda j: j.state == "running" and j.downloaded_bytes >= 5 << 20)
    first.pause(job_id)
    hub.release.set()
    first.close()
    second, _ = open_queue()
    (job,) = second.jobs()
    assert (job.id, job.state) == (job_id, "paused") and job.downloaded_bytes >= 5 << 20


def test_cancel_deletes_the_partial(hub: FakeHub, model: ModelInfo, library: ModelLibrary,
                                    open_queue) -> None:
    hub.hold_after[FILE] = HELD
    queue, watcher = open_queue()
    remote = _remote()
    job_id = queue.add(remote)
    watcher.wait_for(lambda j: j.state == "running" and j.downloaded_bytes >= 5 << 20)
    queue.cancel(job_id)
    hub.release.set()
    watcher.wait_for(lambda j: j.state == "cancelled")
    _wait_until_stopped(queue)
    assert not partial_path(remote).exists()
    assert [m.id for m in library.list()] == [model.id]
    queue.remove(job_id)
    assert queue.jobs() == []


def test_corrupt_bytes_fail_the_job_and_are_never_registered(
        hub: FakeHub, model: ModelInfo, library: ModelLibrary, open_queue) -> None:
    hub.corrupt.add(FILE)
    queue, watcher = open_queue()
    queue.add(_remote())
    failed = watcher.wait_for(lambda j: j.state == "failed")
    assert "is corrupt" in failed.error and failed.model_id is None
    assert [m.id for m in library.list()] == [model.id]
    assert not any((cache_dir() / "models--acme--Smol-GGUF").rglob(model.sha256 + "*"))


def test_a_dropped_connection_resumes_within_the_job(hub: FakeHub, model: ModelInfo,
                                                     open_queue) -> None:
    hub.cut_after[FILE] = 20_000_000
    queue, watcher = open_queue()
    queue.add(_remote())
    assert watcher.wait_for(lambda j: j.state == "done").model_id
    assert _ranges(hub) == [None, "bytes=20000000-"]


def test_not_enough_disk_fails_before_any_transfer(hub: FakeHub, open_queue,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    queue, watcher = open_queue()
    queue.add(_remote())
    failed = watcher.wait_for(lambda j: j.state == "failed")
    assert "Not enough disk space" in failed.error
    assert _ranges(hub) == []


def test_the_same_file_is_not_queued_twice(hub: FakeHub, open_queue) -> None:
    hub.hold_after[FILE] = HELD
    queue, watcher = open_queue()
    first = queue.add(_remote())
    assert queue.add(_remote()) == first
    hub.release.set()
    watcher.wait_for(lambda j: j.state == "done")
    assert len(queue.jobs()) == 1


def test_progress_updates_are_throttled(hub: FakeHub, model: ModelInfo, open_queue) -> None:
    queue, watcher = open_queue()
    queue.add(_remote())
    watcher.wait_for(lambda j: j.state == "done")
    running = [j for j in watcher.updates if j.state == "running"]
    # 94 one-MiB blocks, at most one update per 0.1 s: far fewer updates than blocks
    # unless the transfer took over 9 s (then the throttle allowed them all).
    assert len(running) <= model.size_bytes // (1 << 20)


def test_a_crash_mid_transfer_is_resumed_from_the_partial(
        hub: FakeHub, model: ModelInfo, state_path: Path, open_queue) -> None:
    """What `kill -9` leaves: the state file says running, the partial is on disk."""
    remote = _remote()
    partial = partial_path(remote)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(Path(model.path).read_bytes()[:7_654_321])
    state_path.write_text(json.dumps({"version": 1, "jobs": [{
        "id": "j1", "state": "running", "error": None, "model_id": None,
        "total_bytes": remote.size_bytes, "repo_id": remote.repo_id,
        "filename": remote.filename, "size_bytes": remote.size_bytes,
        "sha256": remote.sha256, "quantization": remote.quantization,
        "revision": remote.revision}]}))
    _, watcher = open_queue()
    done = watcher.wait_for(lambda j: j.state == "done")
    assert done.id == "j1" and _ranges(hub) == ["bytes=7654321-"]


def test_a_broken_state_file_is_one_clear_line_and_no_jobs(state_path: Path,
                                                            library: ModelLibrary) -> None:
    state_path.write_text("{not json")
    queue = DownloadQueue(state_path, library_registrar(library), lambda: None)
    try:
        assert queue.jobs() == []
        (problem,) = queue.problems
        assert "not valid JSON" in str(problem) and "no downloads were resumed" in str(problem)
    finally:
        queue.close()


def test_split_models_are_refused_with_a_reason(open_queue) -> None:
    from inference.hub.downloads import DownloadQueueError

    queue, _ = open_queue()
    shard = RemoteFile("acme/Big-GGUF", "Big-Q8_0-00001-of-00002.gguf", 10, "ab" * 32,
                       "Q8_0", "c0ffee")
    with pytest.raises(DownloadQueueError, match="split model"):
        queue.add(shard)
    assert queue.jobs() == []


def test_a_verified_download_is_not_hashed_a_second_time(
        hub: FakeHub, model: ModelInfo, library: ModelLibrary, open_queue,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream was hashed as it was written; registering must not read the file again
    (a second pass over a multi-GB file)."""
    import inference.models.library

    def no_second_pass(path: object) -> str:
        raise AssertionError(f"{path} hashed again")

    monkeypatch.setattr(inference.models.library, "sha256_file", no_second_pass)
    queue, watcher = open_queue()
    queue.add(_remote())
    done = watcher.wait_for(lambda j: j.state in ("done", "failed"))
    assert done.state == "done", done.error
    assert library.get(done.model_id).sha256 == model.sha256
