"""The Models tab beside the chat: installed models, Hub search and the download queue.

It only composes the three panels and passes their events on; the main window listens to
`sig_chat_with` (switch the conversation's model) and `sig_library_changed` (refill its
model picker).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.gui.download_panel import DownloadPanel
from app.gui.elided import titled_group
from app.gui.installed_models import InstalledModels
from app.gui.models_search import HubSearch
from app.gui.quantize_dialog import QuantizeDialog
from app.services import Services
from inference.engines.types import ModelInfo


class ModelsTab(QWidget):
    sig_chat_with = Signal(str)
    sig_library_changed = Signal()
    sig_open_settings = Signal()

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.setAccessibleName("Models")
        self.quantize_dialog: QuantizeDialog | None = None
        layout = QVBoxLayout(self)
        self.installed = InstalledModels(services)
        self.installed.sig_chat_with.connect(self.sig_chat_with)
        self.installed.sig_quantize.connect(self.open_quantize)
        self.installed.sig_changed.connect(self.sig_library_changed)
        self.search = HubSearch(services)
        self.search.sig_open_settings.connect(self.sig_open_settings)
        self.downloads = DownloadPanel(services)
        self.search.sig_download.connect(self.downloads.add)
        self.downloads.sig_model_added.connect(self._registered)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(titled_group("Installed", self.installed))
        self.splitter.addWidget(titled_group("Search Hugging Face", self.search))
        self.splitter.addWidget(titled_group("Downloads", self.downloads))
        self.splitter.setSizes([200, 340, 200])
        # Scrolls rather than growing the window's minimum height: three panels of tables
        # and buttons would not fit a small laptop screen otherwise.
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab moves between the controls
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.splitter)
        layout.addWidget(scroll)

    def showEvent(self, event: QShowEvent) -> None:
        # Read the library and headers when the tab is opened, not at start-up (the first
        # paint should not share the disk with them), and each time again: a model pulled
        # in a terminal, or a new context length, shows up here.
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        self.installed.refresh()

    def open_quantize(self, model: ModelInfo) -> None:
        dialog = QuantizeDialog(self.services, model, self)
        dialog.sig_registered.connect(self._registered)
        self.quantize_dialog = dialog
        dialog.open()  # window-modal, not blocking: downloads keep updating behind it

    def _registered(self, model_id: str) -> None:
        self.installed.refresh(select=model_id)
        self.installed.show_message(f"Added {model_id} to the library.")
        self.sig_library_changed.emit()

    def shutdown(self) -> None:
        """The window is closing: stop a running quantization (its child would outlive us)."""
        if self.quantize_dialog is not None and self.quantize_dialog.running:
            self.quantize_dialog.stop_job()
