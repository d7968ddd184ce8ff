"""The job ledger on a real SQLite file: one row per content hash, a changed file replaces
its row, results and counts in one transaction, and a runner's leftovers are taken back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.store.db import open_engine
from app.store.jobs import ItemOutcome, JobLedger, JobNotFoundError


@pytest.fixture
def ledger(tmp_path: Path) -> JobLedger:
    return JobLedger(open_engine(f"sqlite:///{tmp_path / 'jobs.db'}"))


def new_job(ledger: JobLedger):
    return ledger.create(folder="/docs", template="summary", model_id="m", route="local",
                         options={"seed": 0})


def test_each_content_is_one_row_and_a_changed_file_takes_the_old_number(
        ledger: JobLedger) -> None:
    job = new_job(ledger)
    assert ledger.sync_files(job.id, [("/docs/a", "a1"), ("/docs/b", "b1"),
                                      ("/docs/copy-of-a", "a1")]) == 2
    assert ledger.sync_files(job.id, [("/docs/a", "a1"), ("/docs/b", "b1")]) == 0
    assert ledger.sync_files(job.id, [("/docs/a", "a2"), ("/docs/b", "b1")]) == 1
    current = [(i.path, i.sha256, i.seq, i.status) for i in ledger.items(job.id)]
    assert current == [("/docs/a", "a2", 1, "pending"), ("/docs/b", "b1", 2, "pending")]
    every = [(i.sha256, i.status) for i in ledger.items(job.id, current_only=False)]
    assert ("a1", "replaced") in every
    assert ledger.get(job.id).total == 2


def test_a_result_is_recorded_once_with_the_counts(ledger: JobLedger) -> None:
    job = new_job(ledger)
    ledger.sync_files(job.id, [("/docs/a", "a1"), ("/docs/b", "b1")])
    ledger.start_run(job.id)
    first = ledger.claim_next(job.id)
    assert first is not None and first.path == "/docs/a"
    ledger.record(first.id, ItemOutcome("done", result={"text": "one"}, prompt_tokens=5))
    ledger.record(first.id, ItemOutcome("done", result={"text": "again"}))  # ignored
    second = ledger.claim_next(job.id)
    ledger.record(second.id, ItemOutcome("failed", error="b cannot be read."))
    assert ledger.claim_next(job.id) is None
    job = ledger.get(job.id)
    assert (job.total, job.done, job.failed) == (2, 1, 1)
    items = ledger.items(job.id)
    assert [i.result for i in items] == [{"text": "one"}, None]
    assert items[1].error == "b cannot be read."


def test_a_document_a_dead_runner_left_running_is_done_again_not_lost(
        ledger: JobLedger) -> None:
    job = new_job(ledger)
    ledger.sync_files(job.id, [("/docs/a", "a1")])
    ledger.start_run(job.id)
    claimed = ledger.claim_next(job.id)  # ... and the process dies here
    assert claimed is not None and ledger.claim_next(job.id) is None
    ledger.start_run(job.id)
    again = ledger.claim_next(job.id)
    assert again is not None and again.id == claimed.id


def test_pause_and_cancel_of_a_job_with_no_live_runner_apply_at_once(
        ledger: JobLedger) -> None:
    job = new_job(ledger)
    with ledger.engine.begin() as connection:  # a runner that was killed
        connection.execute(text("UPDATE document_jobs SET runner_pid = 999999999"))
    assert ledger.get(job.id).shown_status == "interrupted"
    assert ledger.request(job.id, "pause").status == "paused"
    assert ledger.request(job.id, "cancel").status == "cancelled"
    assert ledger.find_unfinished(folder="/docs", template="summary", model_id="m",
                                  route="local") is None


def test_an_unknown_job_is_one_line(ledger: JobLedger) -> None:
    with pytest.raises(JobNotFoundError) as raised:
        ledger.get("zzz")
    assert str(raised.value) == "Job 'zzz' does not exist; `stillroom docs jobs` lists them."


def test_export_lists_failed_documents_and_an_unwritable_file_is_one_line(
        stillroom_home: Path, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    stillroom_home.mkdir(parents=True)
    ledger = JobLedger(open_engine(f"sqlite:///{stillroom_home / 'stillroom.db'}"))
    job = ledger.create(folder="/docs", template="summary", model_id="m", route="local",
                        options={})
    ledger.sync_files(job.id, [("/docs/a.txt", "a1"), ("/docs/b.tiff", "b1")])
    ledger.start_run(job.id)
    ledger.record(ledger.claim_next(job.id).id, ItemOutcome("done", result={"text": "A."}))
    ledger.record(ledger.claim_next(job.id).id, ItemOutcome(
        "failed", reader_status="unsupported", error="b.tiff: this build reads .txt only."))
    ledger.finish_run(job.id, "done")
    out = tmp_path / "r.csv"
    exported = run_cli("docs", "export", job.id, "--format", "csv", "--out", str(out),
                       home=stillroom_home)
    assert exported.returncode == 0, exported.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines == ["doc_id,text,status,error,source_path,pages,sha256",
                     "DOC-000001,A.,done,,/docs/a.txt,,a1",
                     "DOC-000002,,failed,b.tiff: this build reads .txt only.,/docs/b.tiff,,b1"]
    refused = run_cli("docs", "export", job.id, "--format", "xlsx", "--out",
                      "/proc/no-such-dir/r.xlsx", home=stillroom_home)
    assert refused.returncode == 2
    assert refused.stderr.startswith("stillroom: cannot write /proc/no-such-dir/r.xlsx: ")
    assert len(refused.stderr.strip().splitlines()) == 1
