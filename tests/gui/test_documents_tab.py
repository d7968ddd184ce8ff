"""The Documents tab over the real services and the embedded model: files dropped on it are
read by the real readers, a question is answered and streamed, a batch job runs, pauses,
resumes and exports, and a job started from the CLI shows up."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from app.gui.documents_tab import DocumentsTab
from tests.documents import corpus
from tests.documents.jobs_helpers import FAST, docs
from tests.gui.conftest import ANSWER_TIMEOUT_MS


def drop(tab: DocumentsTab, paths: list[Path]) -> None:
    """A drag entering the tab, then the drop, as the window system delivers them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    args = (QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(*args)
    QApplication.sendEvent(tab, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(tab, QDropEvent(*args))


def text_folder(folder: Path, count: int) -> Path:
    folder.mkdir()
    for number in range(1, count + 1):
        (folder / f"memo-{number}.txt").write_text(
            f"Memo {number}. The delivery of crate {number} is due on Monday.\n",
            encoding="utf-8")
    return folder


def test_empty_tab_says_what_to_do(window) -> None:
    tab = window.documents_tab
    window.tabs.setCurrentWidget(tab)
    assert tab.files.stack.currentWidget() is tab.files.empty
    assert "Drop files or a folder" in tab.files.empty.text()
    assert tab.jobs.stack.currentWidget() is tab.jobs.empty
    assert "stillroom docs run" in tab.jobs.empty.text()
    assert "on this machine" in tab.jobs.route_badge.text()
    tab.question.ask()  # nothing attached: a sentence, not a crash
    assert "Attach a readable document" in tab.message.text() \
        or "Type a question" in tab.message.text()


def test_dropped_files_show_reader_statuses(qtbot, window, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    no_tools = tmp_path / "empty-bin"
    no_tools.mkdir()
    monkeypatch.setenv("PATH", str(no_tools))  # no tesseract: the scan "needs OCR"
    files = tmp_path / "files"
    files.mkdir()
    pdf = corpus.text_pdf(files / "lease.pdf", corpus.numbered_pages(2))
    expected = {"lease.pdf": ("PDF", "2", "ok"), "scan.pdf": ("PDF", None, "needs OCR"),
                "cut.pdf": (None, None, "corrupt"), "notes.docx": ("DOCX", None, "ok"),
                "mail.eml": ("EML", None, "ok"), "blank.txt": (None, None, "empty"),
                "data.xyz": (None, None, "unsupported")}
    corpus.scanned_pdf(files / "scan.pdf")
    corpus.truncated_pdf(files / "cut.pdf")
    corpus.docx_file(files / "notes.docx")
    corpus.eml_with_pdf(files / "mail.eml", pdf)
    (files / "blank.txt").write_bytes(b"")
    (files / "data.xyz").write_bytes(b"\x00\x01 not a document format")
    if corpus.qpdf_available():
        corpus.encrypted_pdf(files / "locked.pdf")
        expected["locked.pdf"] = ("PDF", None, "encrypted")
    tab = window.documents_tab
    window.tabs.setCurrentWidget(tab)

    drop(tab, [files])  # a folder stands for its documents
    qtbot.waitUntil(lambda: tab.files.table.rowCount() == len(expected),
                    timeout=ANSWER_TIMEOUT_MS)
    assert tab.files.stack.currentWidget() is tab.files.table
    table = tab.files.table
    rows = {table.item(r, 0).text(): tuple(table.item(r, c).text() for c in (1, 2, 3))
            for r in range(table.rowCount())}
    for name, (kind, pages, status) in expected.items():
        assert rows[name][2] == status, (name, rows[name])
        if kind is not None:
            assert rows[name][0] == kind
        if pages is not None:
            assert rows[name][1] == pages
    # The reason is the readers' own line, on the row.
    scan_row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "scan.pdf")
    assert "tesseract" in table.item(scan_row, 3).toolTip()
    qtbot.waitUntil(lambda: "cannot be asked about" in tab.message.text())
    assert {d.path.rsplit("/", 1)[-1] for d in tab.files.readable()} == {
        "lease.pdf", "notes.docx", "mail.eml"}

    drop(tab, [pdf])  # again: already attached, not listed twice
    assert tab.files.table.rowCount() == len(expected)


def test_question_streams_an_answer_that_ran_locally(qtbot, window, tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "lease.pdf", corpus.numbered_pages(2))
    tab = window.documents_tab
    window.tabs.setCurrentWidget(tab)
    tab.files.add_paths([pdf])
    qtbot.waitUntil(lambda: tab.files.table.rowCount() == 1, timeout=ANSWER_TIMEOUT_MS)
    seen: list[str] = []
    tab.question.answer.textChanged.connect(
        lambda: seen.append(tab.question.answer.toPlainText()))
    tab.question.max_tokens = 24
    tab.question.question.setText("What must the tenant keep in good repair?")
    tab.question.ask()
    assert tab.question.asking and not tab.question.ask_button.isEnabled()
    qtbot.waitUntil(lambda: not tab.question.asking, timeout=ANSWER_TIMEOUT_MS)
    answer = tab.question.answer.toPlainText()
    assert answer.strip()
    assert len(seen) >= 1 and seen[-1] == answer
    # The line the CLI prints under an answer: where it ran and why.
    assert tab.question.route.text().startswith("[local · ")
    assert "Cites" in tab.message.text()


def test_stop_ends_an_answer(qtbot, window, tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "lease.pdf", corpus.numbered_pages(1))
    tab = window.documents_tab
    tab.files.add_paths([pdf])
    qtbot.waitUntil(lambda: tab.files.table.rowCount() == 1, timeout=ANSWER_TIMEOUT_MS)
    tab.question.max_tokens = 1500  # far longer than the time it takes to press Stop
    tab.question.question.setText("Count from 1 to 500, one number per line.")
    tab.question.ask()
    qtbot.waitUntil(lambda: tab.question.answer.toPlainText().strip() != "",
                    timeout=ANSWER_TIMEOUT_MS)
    tab.question.stop()
    qtbot.waitUntil(lambda: not tab.question.asking, timeout=ANSWER_TIMEOUT_MS)
    assert tab.message.text() == "Stopped."
    assert tab.question.ask_button.isEnabled() and not tab.question.stop_button.isEnabled()


def test_batch_job_runs_pauses_resumes_and_exports(qtbot, window, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = text_folder(tmp_path / "memos", 6)
    panel = window.documents_tab.jobs
    window.tabs.setCurrentWidget(window.documents_tab)
    panel.folder.setText(str(folder))
    panel.template.setCurrentIndex(panel.template.findData("summary"))
    panel.max_tokens.setValue(6)

    # Pause with the button's own path as soon as the first document is in: the runner
    # stops after the one in flight. The runner's next look at the job's control waits for
    # that click (on a quiet machine it would otherwise finish all six before the GUI
    # thread handles the first progress signal).
    first_result, clicked = threading.Event(), threading.Event()
    record, control = panel.ledger.record, panel.ledger.control

    def record_first(item_id, outcome):
        record(item_id, outcome)
        first_result.set()

    def control_after_the_click(job_id):
        if first_result.is_set() and threading.current_thread() is not threading.main_thread():
            clicked.wait(timeout=600)  # only a guard against a hang, never a measure
        return control(job_id)

    monkeypatch.setattr(panel.ledger, "record", record_first)
    monkeypatch.setattr(panel.ledger, "control", control_after_the_click)

    def pause_once(_progress) -> None:
        panel.sig_progress.disconnect(pause_once)
        panel.control("pause")
        clicked.set()

    panel.sig_progress.connect(pause_once)
    panel.start_button.click()
    (job_id,) = [job.id for job in panel.ledger.list()]
    qtbot.waitUntil(lambda: job_id not in panel.runners, timeout=ANSWER_TIMEOUT_MS)
    paused = panel.ledger.get(job_id)
    assert paused.status == "paused", paused
    assert 1 <= paused.done < paused.total == 6
    qtbot.waitUntil(lambda: panel.describe().get(job_id, ("",))[0] == "paused")
    assert panel.resume_button.isEnabled() and not panel.pause_button.isEnabled()

    panel.resume_button.click()
    qtbot.waitUntil(lambda: job_id not in panel.runners, timeout=ANSWER_TIMEOUT_MS)
    done = panel.ledger.get(job_id)
    assert (done.status, done.done, done.failed, done.total) == ("done", 6, 0, 6)
    qtbot.waitUntil(lambda: panel.describe()[job_id] == ("done", 6, 6))
    assert panel.item_table.rowCount() == 6
    assert all(panel.item_table.item(r, 1).text() == "done" for r in range(6))
    assert panel.progress.value() == panel.progress.maximum() == 6

    out = tmp_path / "export" / "memos.csv"
    out.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(out), "CSV (*.csv)")))
    panel.export_format.setCurrentIndex(panel.export_format.findData("csv"))
    panel.export_button.click()
    with out.open(encoding="utf-8", newline="") as stream:
        records = list(csv.DictReader(stream))
    assert sorted(Path(r["source_path"]).name for r in records) == [
        f"memo-{n}.txt" for n in range(1, 7)]
    assert all(r["status"] == "done" and r["sha256"] for r in records)
    assert f"Exported job {job_id}" in window.documents_tab.message.text()


def test_job_started_from_the_cli_shows_up(qtbot, window, tmp_path: Path,
                                           stillroom_home: Path) -> None:
    folder = text_folder(tmp_path / "memos", 1)
    result = docs(stillroom_home, "run", str(folder), *FAST)
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip().splitlines()[-1]
    panel = window.documents_tab.jobs
    window.tabs.setCurrentWidget(window.documents_tab)
    qtbot.waitUntil(lambda: job_id in panel.describe(), timeout=10_000)
    assert panel.describe()[job_id] == ("done", 1, 1)


def test_docs_per_minute_counts_only_the_time_a_job_ran() -> None:
    from datetime import UTC, datetime

    from app.gui.documents_jobs import JobRates
    from app.store.jobs import JobInfo

    def job(status: str, done: int) -> JobInfo:
        # runner_pid: this process, so a "running" job reads as running (not interrupted)
        import os

        return JobInfo(id="j1", folder="/f", template="summary", model_id="m", route="local",
                       status=status, control=None, runner_pid=os.getpid(), options={},
                       created_at=datetime.now(UTC), finished_at=None, total=10, done=done,
                       failed=0)

    rates = JobRates()
    rates.observe(job("running", 0), now=0)
    assert rates.per_minute("j1") is None  # nothing finished yet
    rates.observe(job("running", 2), now=30)
    assert rates.per_minute("j1") == 4.0
    rates.observe(job("paused", 2), now=40)
    assert rates.per_minute("j1") == 4.0  # a paused job keeps the rate it ran at
    rates.observe(job("running", 2), now=600)  # resumed ten minutes later
    rates.observe(job("running", 3), now=615)
    assert rates.per_minute("j1") == 4.0  # 1 document in 15 s, the pause not counted
