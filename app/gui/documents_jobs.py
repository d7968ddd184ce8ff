"""Batch jobs in the Documents tab: pick a folder and a template, start; every job in the
store with its progress (done / total, documents per minute, errors); pause, resume,
cancel; export with a save dialog.

The job ledger (app/store/jobs.py) is the one truth: the list is re-read from the store
every second, so a job started with `stillroom docs run` in a terminal shows up here and
can be paused from here (pause and cancel are a flag in the job's row that the runner, in
whatever process, reads between documents). A job started here runs JobRunner on a daemon
thread: the runner is safe to kill at any point, so closing the window mid-job loses at
most the document in flight, which the next resume redoes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.documents.exports import FORMATS, export
from app.documents.jobs.eta import duration
from app.documents.jobs.runner import JobRunner, Progress, check_route
from app.documents.templates import TemplateCatalog, load_templates
from app.gui.background import run_in_background
from app.services import Services
from app.store.jobs import JobInfo, JobItem, JobLedger

REFRESH_MS = 1000
JOB_COLUMNS = ("Job", "Status", "Done", "Errors", "Docs/min", "Template", "Folder")
ITEM_COLUMNS = ("File", "Status", "Pages", "Route", "Result or reason")
NO_JOBS = ("<p><b>No batch jobs yet.</b></p><p>Choose a folder and a template above and "
           "press <i>Start</i>: every document in the folder is answered on this machine, "
           "and the job survives a crash. Jobs started with <code>stillroom docs run</code> "
           "appear here too.</p>")
LOCAL_BADGE = ("● Local — every document is read and answered by {model} on this machine; "
               "nothing leaves it.")


class JobRates:
    """Documents per minute, from how a job's finished count moved while we watched."""

    def __init__(self) -> None:
        self._first: dict[str, tuple[float, int]] = {}
        self._last: dict[str, tuple[float, int]] = {}
        self._running: set[str] = set()

    def observe(self, job: JobInfo, now: float | None = None) -> None:
        """A job that stops keeps the rate it ran at; one that starts again starts afresh
        (the time it spent paused is not time it spent working)."""
        now = time.monotonic() if now is None else now
        finished = job.done + job.failed
        if job.shown_status != "running":
            self._running.discard(job.id)
            return
        if job.id not in self._running:
            self._running.add(job.id)
            self._first.pop(job.id, None)
            self._last.pop(job.id, None)
        first = self._first.setdefault(job.id, (now, finished))
        if finished != first[1]:
            last = self._last.get(job.id)
            if last is None or last[1] != finished:
                self._last[job.id] = (now, finished)

    def per_minute(self, job_id: str) -> float | None:
        first, last = self._first.get(job_id), self._last.get(job_id)
        if first is None or last is None or last[0] <= first[0]:
            return None
        return (last[1] - first[1]) * 60 / (last[0] - first[0])


def _cell(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if tip:
        item.setToolTip(tip)
    return item


def _result_text(item: JobItem) -> str:
    if item.error:
        return item.error
    result = item.result
    if isinstance(result, dict) and set(result) == {"text"}:
        return str(result["text"])
    return "" if result is None else str(result)


class JobsPanel(QWidget):
    sig_message = Signal(str)
    sig_progress = Signal(object)
    """A Progress from a runner in this window (after the UI has shown it)."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.ledger = JobLedger(services.store.engine)
        self.catalog: TemplateCatalog = load_templates(services.data_dir)
        self.runners: dict[str, JobRunner] = {}  # jobs running on our threads
        self.threads: dict[str, threading.Thread] = {}
        self.jobs: list[JobInfo] = []
        self.items: list[JobItem] = []
        self.rates = JobRates()
        self._refreshing = False
        self._selected: str | None = None
        self._build()
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        start_row = QHBoxLayout()
        self.folder = QLineEdit()
        self.folder.setAccessibleName("Folder of documents")
        self.folder.setPlaceholderText("Folder of documents")
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self._pick_folder)
        self.template = QComboBox()
        self.template.setAccessibleName("Template")
        for template in sorted(self.catalog.templates.values(), key=lambda t: t.name):
            self.template.addItem(template.name, template.name)
            self.template.setItemData(self.template.count() - 1, template.description,
                                      Qt.ItemDataRole.ToolTipRole)
        index = self.template.findData("summary")
        self.template.setCurrentIndex(max(0, index))
        self.max_tokens = QSpinBox(minimum=0, maximum=8192, singleStep=32)
        self.max_tokens.setSpecialValueText("template's")
        self.max_tokens.setPrefix("max ")
        self.max_tokens.setAccessibleName("Longest answer per document (tokens)")
        self.max_tokens.setToolTip("Longest answer per document; 'template's' keeps the "
                                   "template's own limit")
        self.start_button = QPushButton("Start")
        self.start_button.setAccessibleName("Start the batch job")
        self.start_button.clicked.connect(self.start)
        start_row.addWidget(self.folder, 1)
        start_row.addWidget(choose)
        start_row.addWidget(self.template)
        start_row.addWidget(self.max_tokens)
        start_row.addWidget(self.start_button)
        layout.addLayout(start_row)
        self.route_badge = QLabel(LOCAL_BADGE.format(model=self._model_name()))
        self.route_badge.setAccessibleName("Where the job's documents go")
        self.route_badge.setWordWrap(True)
        layout.addWidget(self.route_badge)
        if self.catalog.problems:
            problems = QLabel("⚠ " + " · ".join(self.catalog.problems))
            problems.setWordWrap(True)
            layout.addWidget(problems)

        self.table = QTableWidget(0, len(JOB_COLUMNS))
        self.table.setAccessibleName("Batch jobs")
        self.table.setHorizontalHeaderLabels(JOB_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(JOB_COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(JOB_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.empty = QLabel(NO_JOBS)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        jobs_box = QWidget()
        self.stack = QStackedLayout(jobs_box)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        controls = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Selected job's progress")
        self.progress.setFormat("%v / %m documents")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel job")
        self.pause_button.clicked.connect(lambda: self.control("pause"))
        self.cancel_button.clicked.connect(lambda: self.control("cancel"))
        self.resume_button.clicked.connect(self.resume)
        self.export_format = QComboBox()
        self.export_format.setAccessibleName("Export format")
        for fmt in FORMATS:
            self.export_format.addItem(fmt.upper(), fmt)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export_selected)
        controls.addWidget(self.progress, 1)
        for widget in (self.pause_button, self.resume_button, self.cancel_button,
                       self.export_format, self.export_button):
            controls.addWidget(widget)

        self.item_table = QTableWidget(0, len(ITEM_COLUMNS))
        self.item_table.setAccessibleName("Documents of the selected job")
        self.item_table.setHorizontalHeaderLabels(ITEM_COLUMNS)
        self.item_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.item_table.verticalHeader().hide()
        item_header = self.item_table.horizontalHeader()
        for column in range(len(ITEM_COLUMNS) - 1):
            item_header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        item_header.setSectionResizeMode(len(ITEM_COLUMNS) - 1,
                                         QHeaderView.ResizeMode.Stretch)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(controls)
        lower_layout.addWidget(self.item_table, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(jobs_box)
        splitter.addWidget(lower)
        splitter.setSizes([160, 240])
        layout.addWidget(splitter, 1)
        self._update_buttons()

    def _model_name(self) -> str:
        try:
            return self.services.chat().resolve_model(None).name
        except Exception:  # no model: the start will say so in its own words
            return "the default model"

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of documents for the job")
        if folder:
            self.folder.setText(folder)

    # -- starting and driving ----------------------------------------------------------
    def start(self) -> None:
        text = self.folder.text().strip()
        if not text:
            self.sig_message.emit("Choose the folder that holds the documents first.")
            return
        folder = Path(text).expanduser()
        if not folder.is_dir():
            self.sig_message.emit(f"{text} is not a folder; choose the folder that holds "
                                  f"the documents.")
            return
        name = self.template.currentData()
        try:
            self.catalog.get(name)
            chat = self.services.chat()
            model = chat.resolve_model(None)
            check_route(chat, "local", model.id)  # local: None; kept as the CLI's one check
        except ValueError as exc:
            self.sig_message.emit(str(exc))
            return
        where = str(folder.resolve())
        job = self.ledger.find_unfinished(folder=where, template=name, model_id=model.id,
                                          route="local")
        if job is not None and (job.runner_alive or job.id in self.runners):
            self.sig_message.emit(f"Job {job.id} over this folder is running already.")
            return
        if job is None:
            job = self.ledger.create(folder=where, template=name, model_id=model.id,
                                     route="local",
                                     options={"max_tokens": self.max_tokens.value() or None,
                                              "seed": 0, "temperature": 0.0})
            self.sig_message.emit(f"Job {job.id}: {name} over {where} with {model.id}.")
        else:
            self.sig_message.emit(f"Continuing job {job.id} ({job.done + job.failed}/"
                                  f"{job.total} done).")
        self._selected = job.id
        self._drive(job)

    def _drive(self, job: JobInfo) -> None:
        runner = JobRunner(self.services.chat(), self.ledger, self.catalog.get(job.template),
                           job)
        self.runners[job.id] = runner
        self.threads[job.id] = run_in_background(
            self, lambda report: self._run_shared(runner, report),
            lambda status: self._run_ended(job.id, status),
            lambda message: self._run_failed(job.id, message), on_progress=self._on_progress,
            name=f"job-{job.id}")
        self.refresh()

    def _run_shared(self, runner: JobRunner, report: Callable[[Progress], None]) -> str:
        # The job shares one scheduler with the chat (and the server, if it runs): its
        # documents go several at once and a chat turn is answered beside them.
        with self.services.share_engines():
            return runner.run(report)

    def _on_progress(self, progress: Progress) -> None:
        speed = f"{progress.tokens_per_s:.1f} tok/s" if progress.tokens_per_s else "– tok/s"
        eta = duration(progress.eta_s) if progress.eta_s is not None else "–"
        failed = f", {progress.failed} failed" if progress.failed else ""
        name = Path(progress.last_path).name if progress.last_path else ""
        self.sig_message.emit(f"Job {progress.job_id}: {progress.done}/{progress.total} done"
                              f"{failed} · {speed} · ETA {eta} · {name}: "
                              f"{progress.last_status}")
        self.refresh()
        self.sig_progress.emit(progress)

    def _run_ended(self, job_id: str, status: str) -> None:
        self.runners.pop(job_id, None)
        job = self.ledger.get(job_id)
        self.sig_message.emit(f"Job {job.id} {status}: {job.done} done, {job.failed} failed, "
                              f"of {job.total}.")
        self.refresh()

    def _run_failed(self, job_id: str, message: str) -> None:
        self.runners.pop(job_id, None)
        self.sig_message.emit(f"Job {job_id} stopped: {message}")
        self.refresh()

    def control(self, action: str) -> None:
        # The ledger's row, not the last refreshed list: a job started a moment ago may not
        # be in that list yet, and Pause must not silently do nothing.
        job = self.ledger.get(self._selected) if self._selected else None
        if job is None:
            return
        if job.status in ("done", "cancelled"):
            self.sig_message.emit(f"Job {job.id} is {job.status}; there is nothing to "
                                  f"{action}.")
            return
        after = self.ledger.request(job.id, action)
        if after.status == "running":
            self.sig_message.emit(f"Job {job.id} will {action} after the document in "
                                  f"progress.")
        else:
            self.sig_message.emit(f"Job {job.id} is {after.status}.")
        self.refresh()

    def resume(self) -> None:
        job = self.selected_job()
        if job is None:
            return
        if job.status == "cancelled":
            self.sig_message.emit(f"Job {job.id} was cancelled; start a new one.")
            return
        if job.id in self.runners or job.runner_alive:
            self.sig_message.emit(f"Job {job.id} is running already.")
            return
        self._drive(job)

    # -- exporting ---------------------------------------------------------------------
    def export_selected(self) -> None:
        job = self.selected_job()
        if job is None:
            self.sig_message.emit("Select a job to export.")
            return
        fmt = self.export_format.currentData()
        suggested = str(Path.home() / f"{job.id}-{job.template}.{fmt}")
        name, _ = QFileDialog.getSaveFileName(self, f"Export job {job.id}", suggested,
                                              f"{fmt.upper()} (*.{fmt})")
        if name:
            self.export_to(job.id, fmt, Path(name))

    def export_to(self, job_id: str, fmt: str, out: Path) -> None:
        job = self.ledger.get(job_id)
        try:
            template = self.catalog.get(job.template)
            export(job, template, self.ledger.items(job.id), fmt, out)
        except OSError as exc:
            self.sig_message.emit(f"Cannot write {out}: {exc.strerror or exc}; the results "
                                  f"are kept, export them elsewhere.")
            return
        except ValueError as exc:
            self.sig_message.emit(str(exc))
            return
        self.sig_message.emit(f"Exported job {job.id} to {out}.")

    # -- reading the store -------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Re-read the jobs (and the selected job's documents) off the UI thread."""
        if self._refreshing or (not self.isVisible() and not self.runners):
            return
        self._refreshing = True
        selected = self._selected

        def work() -> tuple[list[JobInfo], list[JobItem], str | None]:
            jobs = self.ledger.list()
            items = self.ledger.items(selected) if selected else []
            return jobs, items, selected

        run_in_background(self, work, self._show, self._refresh_failed, name="jobs-refresh")

    def _refresh_failed(self, message: str) -> None:
        self._refreshing = False
        self.sig_message.emit(message)

    def _show(self, loaded: tuple[list[JobInfo], list[JobItem], str | None]) -> None:
        self._refreshing = False
        jobs, items, selected = loaded
        self.jobs = jobs
        for job in jobs:
            self.rates.observe(job)
        self.table.blockSignals(True)
        self.table.setRowCount(len(jobs))
        for row, job in enumerate(jobs):
            rate = self.rates.per_minute(job.id)
            values = (job.id, job.shown_status, f"{job.done + job.failed}/{job.total}",
                      str(job.failed), f"{rate:.1f}" if rate is not None else "–",
                      job.template, job.folder)
            for column, value in enumerate(values):
                self.table.setItem(row, column, _cell(value, job.folder))
            if job.id == self._selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self.stack.setCurrentWidget(self.table if jobs else self.empty)
        if selected == self._selected:
            self.items = items
            self._show_items(items)
        self._update_buttons()

    def _show_items(self, items: list[JobItem]) -> None:
        self.item_table.setRowCount(len(items))
        for row, item in enumerate(items):
            text = _result_text(item)
            values = (Path(item.path).name, item.status,
                      str(item.pages) if item.pages else "–", item.route_target or "–",
                      text.replace("\n", " "))
            for column, value in enumerate(values):
                self.item_table.setItem(row, column, _cell(value, text or item.path))

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._selected = self.jobs[rows[0].row()].id if rows and rows[0].row() < len(
            self.jobs) else None
        self.item_table.setRowCount(0)
        self._update_buttons()
        self.refresh()

    def select_job(self, job_id: str) -> None:
        self._selected = job_id
        self.refresh()

    def selected_job(self) -> JobInfo | None:
        return next((job for job in self.jobs if job.id == self._selected), None)

    def job(self, job_id: str) -> JobInfo | None:
        return next((job for job in self.jobs if job.id == job_id), None)

    def _update_buttons(self) -> None:
        job = self.selected_job()
        status = job.shown_status if job else None
        self.pause_button.setEnabled(status == "running")
        self.cancel_button.setEnabled(status in ("running", "paused", "interrupted"))
        self.resume_button.setEnabled(
            job is not None and status in ("paused", "interrupted", "done")
            and job.id not in self.runners)
        self.export_button.setEnabled(job is not None)
        if job is None:
            self.progress.setFormat("Select a job to see its documents")
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        else:
            self.progress.setFormat("%v / %m documents")
            self.progress.setRange(0, max(1, job.total))
            self.progress.setValue(job.done + job.failed)

    def shutdown(self) -> None:
        """The window is closing: our runners pause after the document in progress, and
        the window waits for that (the model and the store close after it)."""
        self.timer.stop()
        for job_id in list(self.runners):
            self.ledger.request(job_id, "pause")
        for thread in self.threads.values():
            thread.join()
        self.threads.clear()

    def describe(self) -> dict[str, Any]:
        """What the panel shows, for tests: {job id: (status, done/total)}."""
        return {job.id: (job.shown_status, job.done + job.failed, job.total)
                for job in self.jobs}
