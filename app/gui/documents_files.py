"""The files attached to the Documents tab: dropped or added, read off the UI thread, listed
with their type, pages and what the readers said (ok, needs OCR, encrypted, too big, ...).

The readers never raise for a bad file; their one-line reason is the row's tooltip and the
status bar's message, so the user sees why a file cannot be asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.documents.document import Document
from app.documents.jobs.runner import folder_files, page_count
from app.documents.readers import read_document
from app.gui.background import run_in_background

# The readers' statuses in the words the table shows.
STATUS_WORDS = {"read": "ok", "needs_ocr": "needs OCR", "encrypted": "encrypted",
                "corrupt": "corrupt", "empty": "empty", "too_large": "too big",
                "unsupported": "unsupported", "unreadable": "unreadable"}
COLUMNS = ("File", "Type", "Pages", "Status")
EMPTY_HINT = ("<p><b>No documents attached.</b></p><p>Drop files or a folder here, or use "
              "<i>Add files…</i> / <i>Add folder…</i>. PDF, DOCX, e-mail (.eml), text, "
              "Markdown, HTML and scans are read on this machine.</p>")


def status_word(document: Document) -> str:
    return STATUS_WORDS.get(document.status, document.status)


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder stands for every document in it (hidden ones left out)."""
    found: list[Path] = []
    for path in paths:
        found.extend(folder_files(path) if path.is_dir() else [path])
    return list(dict.fromkeys(found))


class AttachedFiles(QWidget):
    """The list of attached documents. `documents` holds what the readers returned."""

    sig_changed = Signal()
    sig_message = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, Document] = {}
        self.reading = 0  # files handed to a reader thread and not back yet
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.clicked.connect(self._pick_files)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.clicked.connect(self._pick_folder)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setAccessibleName("Remove all attached documents")
        self.clear_button.clicked.connect(self.clear)
        for button in (self.add_files_button, self.add_folder_button, self.clear_button):
            buttons.addWidget(button)
        buttons.addStretch()
        layout.addLayout(buttons)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Attached documents")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = QLabel(EMPTY_HINT)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setAccessibleName("No documents attached")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        layout.addLayout(self.stack, 1)

    # -- adding ------------------------------------------------------------------------
    def _pick_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Attach documents")
        self.add_paths([Path(name) for name in names])

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Attach every document in a folder")
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: Iterable[Path]) -> None:
        """Read the files on a background thread; each row appears as it is read."""
        wanted = [p for p in expand(paths) if str(p) not in self.documents]
        if not wanted:
            return
        self.reading += len(wanted)
        self.sig_message.emit(f"Reading {len(wanted)} document(s)…")

        def work(report) -> int:  # noqa: ANN001 (the relay's progress callback)
            for path in wanted:
                report(read_document(path))
            return len(wanted)

        run_in_background(self, work, self._all_read, self._read_failed,
                          on_progress=self._add_document, name="read-documents")

    def _add_document(self, document: Document) -> None:
        self.reading -= 1
        if document.path in self.documents:
            return
        self.documents[document.path] = document
        row = self.table.rowCount()
        self.table.insertRow(row)
        pages = page_count(document)
        values = (Path(document.path).name, document.kind.upper() if document.kind else "?",
                  str(pages) if pages else "–", status_word(document))
        for column, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setToolTip(document.reason or document.path)
            self.table.setItem(row, column, item)
        self.stack.setCurrentWidget(self.table)
        self.sig_changed.emit()

    def _all_read(self, count: int) -> None:
        problems = [d for d in self.documents.values() if not d.ok]
        if problems:
            self.sig_message.emit(f"{len(problems)} document(s) cannot be asked about: "
                                  f"{problems[0].reason}")
        else:
            self.sig_message.emit(f"Read {count} document(s).")

    def _read_failed(self, message: str) -> None:
        self.reading = 0
        self.sig_message.emit(message)

    def clear(self) -> None:
        self.documents.clear()
        self.table.setRowCount(0)
        self.stack.setCurrentWidget(self.empty)
        self.sig_changed.emit()

    # -- reading back ------------------------------------------------------------------
    def readable(self) -> list[Document]:
        return [document for document in self.documents.values() if document.ok]

    def status_of(self, name: str) -> str | None:
        """The status word shown for the file called `name` (tests, screenshots)."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == name:
                return self.table.item(row, 3).text()
        return None
