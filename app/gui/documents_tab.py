"""The Documents tab: ask about attached files (top), batch jobs over folders (bottom).

Files or folders dropped anywhere on the tab are attached; the composition is here, the
work is in documents_files (reading), documents_ask (a question, streamed) and
documents_jobs (the job ledger's jobs, driven and watched).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.gui.documents_ask import DocumentQuestion
from app.gui.documents_files import AttachedFiles
from app.gui.documents_jobs import JobsPanel
from app.gui.elided import titled_group
from app.services import Services


class DocumentsTab(QWidget):
    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.setAccessibleName("Documents")
        self.setAcceptDrops(True)
        self.files = AttachedFiles()
        self.question = DocumentQuestion(services, self.files.readable)
        self.jobs = JobsPanel(services)

        ask_area = QWidget()
        ask_row = QHBoxLayout(ask_area)
        ask_row.setContentsMargins(0, 0, 0, 0)
        ask_row.addWidget(self.files, 2)
        ask_row.addWidget(self.question, 3)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(titled_group("Ask about documents", ask_area))
        splitter.addWidget(titled_group("Batch jobs", self.jobs))
        splitter.setSizes([300, 400])

        self.message = QLabel()
        self.message.setAccessibleName("Documents status")
        self.message.setWordWrap(True)
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(splitter, 1)
        column.addWidget(self.message)
        # Scrolls rather than widening the window's minimum: the chat fits a small laptop
        # screen, and this tab must not make the window larger than that.
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        for source in (self.files, self.question, self.jobs):
            source.sig_message.connect(self.message.setText)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files.add_paths(paths)

    def shutdown(self) -> None:
        self.question.shutdown()
        self.jobs.shutdown()
