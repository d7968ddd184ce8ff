"""The download queue: each job with a progress bar, speed and state, and Pause / Resume /
Cancel / Remove for the selected one.

The queue (inference.hub.downloads, owned by the composition root) tells its subscribers about
every change on its own notifier thread. The panel never touches a widget there: the
callback is a Relay's thread-safe `send`, which queues the job to the UI thread. The
panel keeps the latest DownloadJob per id from those events, so drawing never takes the
queue's lock; commands (pause, cancel: they save the state file, cancel deletes a partial
file) run off the UI thread as well. Closing the app stops and saves the queue
(Services.close), and the next start resumes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.cli.render import human_bytes
from app.gui.background import Relay, run_in_background
from app.gui.empty_hint import EmptyHint
from app.services import Services

if TYPE_CHECKING:
    from inference.hub.downloads import DownloadJob, DownloadQueue

COLUMNS = ("File", "Repository", "Progress", "Speed", "State")
STATE_WORDS = {"queued": "queued", "running": "downloading", "paused": "paused",
               "done": "done", "failed": "failed", "cancelled": "cancelled"}
PROGRESS_SCALE = 1000  # progress bars count in tenths of a percent


class DownloadPanel(QWidget):
    sig_model_added = Signal(str)
    """A download finished, was verified and registered under this model id."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        # Attached off the UI thread: opening the queue reads its state file.
        self.queue: DownloadQueue | None = None
        self.jobs: dict[str, DownloadJob] = {}  # job id -> latest DownloadJob, in arrival order
        self._pending: list[tuple] = []    # files asked for before the queue was ready
        self._removed: set[str] = set()    # late events of removed jobs are ignored
        self.unavailable: str | None = None  # why the queue could not be opened
        self.setAccessibleName("Downloads")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Download queue")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(False)  # one line per row; long text is elided
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(2, 220)
        for column in (1, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.empty_hint = EmptyHint(self.table, "No downloads yet. Search Hugging Face above, "
                                    "pick a file that fits and press Download; it resumes "
                                    "if you close Stillroom.")
        row = QHBoxLayout()
        self.pause_button = self._button("Pause", "Pause the selected download; it resumes "
                                         "where it stopped", "pause")
        self.resume_button = self._button("Resume", "Continue the selected download",
                                          "resume")
        self.cancel_button = self._button("Cancel", "Stop the selected download and delete "
                                          "its partial file", "cancel")
        self.remove_button = self._button("Remove", "Take the selected download off the "
                                          "list (a finished model stays installed)", "remove")
        for button in (self.pause_button, self.resume_button, self.cancel_button,
                       self.remove_button):
            row.addWidget(button)
        row.addStretch()
        layout.addLayout(row)
        self.message = QLabel()
        self.message.setAccessibleName("Downloads message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self._update_buttons()
        run_in_background(self, self._open_queue, self._attach, self._not_opened,
                          name="downloads-open")

    def _button(self, text: str, tip: str, command: str) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(f"{text} download")
        button.setToolTip(tip)
        button.clicked.connect(lambda: self.command(command))
        return button

    # -- the queue ---------------------------------------------------------------------------
    def _open_queue(self) -> tuple:
        queue = self.services.downloads
        return queue, queue.jobs()

    def _not_opened(self, message: str) -> None:
        self.unavailable = message
        self.message.setText(message)

    def _attach(self, opened: tuple) -> None:
        queue, jobs = opened
        self.queue = queue
        if queue.problems:  # a damaged downloads.json: set aside, named, the rest resumed
            more = len(queue.problems) - 1
            self.message.setText(f"⚠ {queue.problems[0]}" + (f" (+{more} more)" if more else ""))
        relay = Relay(self, self._on_job)
        # Subscribed before the snapshot is shown: a change in between arrives after it.
        queue.subscribe(relay.send)
        for job in jobs:
            self._on_job(job, announce=False)  # finished before: already in the library
        for files in self._pending:
            self.add(files)
        self._pending.clear()

    def add(self, files: tuple) -> None:
        """Queue the files of one model (one, or each shard of a split model)."""
        if self.unavailable is not None:
            self.message.setText(self.unavailable)  # e.g. an unreadable downloads.json
            return
        if self.queue is None:
            self._pending.append(files)
            return
        from app.gui.hub_tasks import check_online

        queue = self.queue

        def add() -> list[str]:
            check_online()
            return [queue.add(remote) for remote in files]

        run_in_background(self, add, lambda _ids: None, self.message.setText,
                          name="downloads-add")

    def command(self, name: str) -> None:
        job = self.selected()
        if job is None or self.queue is None:
            return
        action = getattr(self.queue, name)
        run_in_background(self, lambda: action(job.id), lambda _none: None,
                          self.message.setText, name=f"downloads-{name}")
        if name == "remove":
            self._removed.add(job.id)
            self._drop(job.id)

    # -- showing -----------------------------------------------------------------------------
    def _on_job(self, job: DownloadJob, announce: bool = True) -> None:
        if job.id in self._removed:
            return  # an event from before a Remove, arriving after it
        before = self.jobs.get(job.id)
        self.jobs[job.id] = job
        row = list(self.jobs).index(job.id)
        if row >= self.table.rowCount():
            self._add_row(row, job)
        self._show(row, job)
        if announce and job.state == "done" and job.model_id and (
                before is None or before.state != "done"):
            self.sig_model_added.emit(job.model_id)
        if job.state == "failed" and job.error and (before is None or before.state != "failed"):
            self.message.setText(f"{job.filename}: {job.error}")
        self._update_buttons()

    def _add_row(self, row: int, job: DownloadJob) -> None:
        self.table.insertRow(row)
        for column in range(len(COLUMNS)):
            self.table.setItem(row, column, QTableWidgetItem())
        self.table.item(row, 0).setText(job.filename)
        self.table.item(row, 1).setText(job.repo_id)
        bar = QProgressBar()
        bar.setRange(0, PROGRESS_SCALE)
        bar.setAccessibleName(f"Progress of {job.filename}")
        self.table.setCellWidget(row, 2, bar)
        if self.table.rowCount() == 1:
            self.table.selectRow(0)

    def _show(self, row: int, job: DownloadJob) -> None:
        bar: QProgressBar = self.table.cellWidget(row, 2)
        total = job.total_bytes
        if total:
            bar.setRange(0, PROGRESS_SCALE)
            bar.setValue(min(PROGRESS_SCALE, int(PROGRESS_SCALE * job.downloaded_bytes / total)))
            bar.setFormat(f"{human_bytes(job.downloaded_bytes)} of {human_bytes(total)}")
        else:
            bar.setRange(0, 0 if job.state == "running" else 1)
            bar.setFormat(human_bytes(job.downloaded_bytes))
        speed = f"{human_bytes(int(job.speed_bps))}/s" if job.speed_bps and \
            job.state == "running" else ""
        self.table.item(row, 3).setText(speed)
        state = self.table.item(row, 4)
        state.setText(STATE_WORDS.get(job.state, job.state))
        state.setToolTip(job.error or (f"installed as {job.model_id}" if job.model_id else ""))

    def _drop(self, job_id: str) -> None:
        if job_id not in self.jobs:
            return
        row = list(self.jobs).index(job_id)
        del self.jobs[job_id]
        self.table.removeRow(row)
        self._update_buttons()

    def selected(self) -> DownloadJob | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.jobs):
            return None
        return list(self.jobs.values())[rows[0].row()]

    def select(self, job_id: str) -> None:
        if job_id in self.jobs:
            self.table.selectRow(list(self.jobs).index(job_id))

    def state_of(self, filename: str) -> str | None:
        for job in self.jobs.values():
            if job.filename == filename:
                return job.state
        return None

    def _update_buttons(self) -> None:
        job = self.selected()
        state = job.state if job is not None else None
        self.pause_button.setEnabled(state in ("queued", "running"))
        self.resume_button.setEnabled(state in ("paused", "failed"))
        self.cancel_button.setEnabled(state in ("queued", "running", "paused", "failed"))
        self.remove_button.setEnabled(job is not None)
