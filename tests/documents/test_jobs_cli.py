"""`stillroom docs` end to end with the embedded model: a job over a folder, killed with
SIGKILL at several points and resumed, a changed file, pause and cancel from another
process. Real subprocesses, the real SQLite ledger, the real model (greedy, seeded)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.documents.jobs_helpers import (
    FAST,
    docs,
    only_job,
    results,
    rows,
    start_job,
    wait_for_done,
)
from tests.documents.text_corpus import DOCUMENTS, make_corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "matter-1187")


@pytest.fixture(scope="module")
def uninterrupted(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One job over the folder from start to end: the reference for the resumed runs."""
    home = tmp_path_factory.mktemp("uninterrupted") / "home"
    result = docs(home, "run", str(corpus), *FAST)
    assert result.returncode == 0, result.stderr
    return home


def test_a_job_over_a_folder_stores_every_result_and_audits_every_document(
        uninterrupted: Path) -> None:
    home = uninterrupted
    job = only_job(home)
    ((status, total, done, failed),) = rows(
        home, "SELECT status, total, done, failed FROM document_jobs")
    assert (status, total, done, failed) == ("done", len(DOCUMENTS), len(DOCUMENTS), 0)
    stored = results(home)
    assert set(stored) == set(DOCUMENTS)
    assert all(json.loads(r)["text"] for r in stored.values())
    # Each document was one turn: its question, its answer, a usage row and an audit row.
    assert rows(home, "SELECT count(*) FROM messages WHERE role = 'user'") == [(len(DOCUMENTS),)]
    assert rows(home, "SELECT count(*) FROM usage") == [(len(DOCUMENTS),)]
    audit = rows(home, "SELECT target, event FROM audit")
    assert audit == [("local", "route")] * len(DOCUMENTS)
    # The template's prefix was evaluated once: later documents reused its KV.
    reused = [r for (r,) in rows(home, "SELECT prompt_tokens_reused FROM document_job_items "
                                       "ORDER BY seq")]
    assert reused[0] == 0 and all(r > 20 for r in reused[1:])
    status_json = json.loads(docs(home, "status", job[:4], "--json").stdout)
    assert status_json["status"] == "done" and len(status_json["documents"]) == len(DOCUMENTS)
    listed = docs(home, "jobs")
    assert listed.returncode == 0 and job in listed.stdout and "done" in listed.stdout


@pytest.mark.parametrize(("kill_after", "parallel"), [(1, 1), (4, 1), (9, 1), (4, 3)])
def test_a_job_killed_with_sigkill_resumes_to_the_same_results_without_duplicates(
        corpus: Path, uninterrupted: Path, stillroom_home: Path, kill_after: int,
        parallel: int) -> None:
    home = stillroom_home
    runner = start_job(home, corpus, *FAST, "--parallel", str(parallel))
    wait_for_done(home, runner, kill_after)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    kept = dict(rows(home, "SELECT sha256, result FROM document_job_items "
                           "WHERE status = 'done'"))
    assert len(kept) >= kill_after
    assert rows(home, "PRAGMA integrity_check") == [("ok",)]
    job = only_job(home)
    assert f"{job}  interrupted" in docs(home, "jobs").stdout

    # The same command continues the job (several at once or not: the same results).
    resumed = docs(home, "run", str(corpus), *FAST, "--parallel", str(parallel))
    assert resumed.returncode == 0, resumed.stderr
    assert f"Continuing job {job}" in resumed.stderr
    assert results(home) == results(uninterrupted)
    # No result lost or rewritten, no document twice: only those in flight at the kill
    # (if any: at most `parallel`) were asked again.
    now = dict(rows(home, "SELECT sha256, result FROM document_job_items"))
    assert {sha: now[sha] for sha in kept} == kept
    assert rows(home, "SELECT count(*), count(DISTINCT sha256) FROM document_job_items") == [
        (len(DOCUMENTS), len(DOCUMENTS))]
    (asked,) = rows(home, "SELECT count(*) FROM messages WHERE role = 'user'")[0]
    assert len(DOCUMENTS) <= asked <= len(DOCUMENTS) + parallel
    assert rows(home, "SELECT status, done FROM document_jobs") == [("done", len(DOCUMENTS))]


def test_a_changed_file_is_done_again_and_nothing_else(tmp_path: Path,
                                                       stillroom_home: Path) -> None:
    home = stillroom_home
    folder = make_corpus(tmp_path / "docs", ["01-lease-memo.txt", "07-invoice.txt",
                                             "10-letter.txt"])
    assert docs(home, "run", str(folder), *FAST).returncode == 0
    job = only_job(home)
    before = results(home)
    (folder / "07-invoice.txt").write_text("Invoice 1188 from Northwind Supply, USD 99.",
                                           encoding="utf-8")
    again = docs(home, "resume", job)
    assert again.returncode == 0, again.stderr
    after = results(home)
    assert {k: v for k, v in after.items() if k != "07-invoice.txt"} == {
        k: v for k, v in before.items() if k != "07-invoice.txt"}
    assert rows(home, "SELECT count(*) FROM messages WHERE role = 'user'") == [(4,)]
    assert rows(home, "SELECT status, count(*) FROM document_job_items GROUP BY status "
                      "ORDER BY status") == [("done", 3), ("replaced", 1)]
    # The new version keeps the document's number; the export lists it once.
    exported = docs(home, "export", job, "--format", "jsonl", "--out", str(tmp_path / "r.jsonl"))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [x["doc_id"] for x in lines] == ["DOC-000001", "DOC-000002", "DOC-000003"]


@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_pause_and_cancel_from_another_process(corpus: Path, stillroom_home: Path,
                                               action: str) -> None:
    home = stillroom_home
    runner = start_job(home, corpus, *FAST)
    wait_for_done(home, runner, 1)
    job = only_job(home)
    asked = docs(home, action, job)
    assert asked.returncode == 0, asked.stderr
    _out, err = runner.communicate()
    assert runner.returncode == 0, err
    expected = "paused" if action == "pause" else "cancelled"
    assert f"Job {job} {expected}" in err
    ((status, done, total),) = rows(home, "SELECT status, done, total FROM document_jobs")
    assert status == expected and 1 <= done < total
    resumed = docs(home, "resume", job)
    if action == "pause":
        assert resumed.returncode == 0, resumed.stderr
        assert rows(home, "SELECT status, done FROM document_jobs") == [("done", total)]
    else:
        assert resumed.returncode == 2
        assert resumed.stderr.strip() == (f"stillroom: job {job} was cancelled; start a new "
                                          f"one with `stillroom docs run`.")
        assert rows(home, "SELECT status, done FROM document_jobs") == [("cancelled", done)]
