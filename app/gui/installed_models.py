"""Installed models: the library as a table with a fit badge per model, and what to do
with one (chat with it, quantize it, remove it, copy its path).

The library files and the GGUF headers are read off the UI thread (app.gui.background);
the table shows "…" in the fit column until each estimate arrives.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.cli.render import human_bytes
from app.gui.background import run_in_background
from app.gui.empty_hint import EmptyHint
from app.gui.fit_badge import installed_fit, set_badge
from app.gui.import_button import ImportButton
from app.services import Services
from inference.engines.types import ModelInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from inference.models.removal import Removal

COLUMNS = ("Name", "Format", "Quantization", "Size", "Source", "Fit")
FIT_COLUMN = COLUMNS.index("Fit")


def source_of(model: ModelInfo) -> str:
    if model.builtin:
        return "embedded with Stillroom"
    return model.extra.get("source", "local file")


class InstalledModels(QWidget):
    sig_chat_with = Signal(str)
    """A model id the user wants the current conversation to use."""
    sig_quantize = Signal(object)
    """A ModelInfo to open the quantize dialog for."""
    sig_changed = Signal()
    """The library changed (a model was removed); other views re-read it."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.models: list[ModelInfo] = []
        self.fits: dict[str, tuple[str, str]] = {}  # model id -> (verdict, explanation)
        self._generation = 0  # answers from an older refresh are dropped
        self.confirm_box: QMessageBox | None = None
        self.setAccessibleName("Installed models")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Installed model list")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.table.setWordWrap(False)  # one line per row; long text is elided
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # The source (a Hub path, a folder) is the long one: it takes what is left and is
        # elided, so the fit badge stays in view without scrolling.
        header.setSectionResizeMode(COLUMNS.index("Source"), QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemActivated.connect(lambda _item: self.chat_with_selected())
        layout.addWidget(self.table, 1)
        self.empty_hint = EmptyHint(self.table, "No models installed. Search Hugging Face "
                                    "below, or Import… a GGUF file you already have.")

        row = QHBoxLayout()
        self.chat_button = self._button("Chat with it", "Use the selected model in the chat",
                                        self.chat_with_selected)
        self.quantize_button = self._button("Quantize…", "Make a smaller copy of the selected "
                                            "model with llama.cpp's quantizer",
                                            self.quantize_selected)
        self.remove_button = self._button("Remove", "Forget the selected model; its file "
                                          "stays on disk", self.remove_selected)
        self.copy_button = self._button("Copy path", "Copy the model file's path",
                                        self.copy_selected_path)
        for button in (self.chat_button, self.quantize_button, self.remove_button,
                       self.copy_button):
            row.addWidget(button)
        row.addStretch()
        self.import_button = ImportButton(services, self)
        self.import_button.sig_message.connect(self.show_message)
        self.import_button.sig_imported.connect(self._imported)
        row.addWidget(self.import_button)
        self.message = QLabel()
        self.message.setAccessibleName("Installed models message")
        self.message.setWordWrap(True)
        layout.addLayout(row)
        layout.addWidget(self.message)
        # Tab goes left to right as the row reads (creation order would put Import… first).
        chain = (self.table, self.chat_button, self.quantize_button, self.remove_button,
                 self.copy_button, self.import_button)
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)
        self._update_buttons()

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text.rstrip("…"))
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- reading ---------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Re-read the library, then estimate each model's fit, all off the UI thread;
        `select` names a model to select once it is listed (a new one)."""
        self._generation += 1
        generation = self._generation
        run_in_background(self, self.services.library.list,
                          lambda models: self._show(generation, models, select),
                          self.show_message, name="models-list")

    def _show(self, generation: int, models: list[ModelInfo], select: str | None) -> None:
        if generation != self._generation:
            return
        current = self.selected()
        selected = select or (current.id if current else None)
        self.models = models
        self.table.setRowCount(len(models))
        for row, model in enumerate(models):
            cells = (model.name, model.format.upper(), model.quantization or "?",
                     human_bytes(model.size_bytes), source_of(model), "")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, model.id)
                    item.setToolTip(model.path)
                elif column == COLUMNS.index("Source"):
                    item.setToolTip(text)
                self.table.setItem(row, column, item)
            # The last estimate shows until the new one (the context may have changed).
            fit = self.fits.get(model.id)
            set_badge(self.table.item(row, FIT_COLUMN), *(fit or (None,)))
        if models:
            ids = [m.id for m in models]
            self.table.selectRow(ids.index(selected) if selected in ids else 0)
        self._update_buttons()
        context = self.services.settings.context_length or 4096

        def estimate(report: Callable[[tuple[str, str, str]], None]) -> None:
            from inference.hardware import detect_gpus

            gpus = detect_gpus()  # once for the list, not once per model
            for model in models:
                report((model.id, *installed_fit(model, context, gpus)))

        run_in_background(self, estimate, lambda _none: None, self.show_message,
                          on_progress=lambda fit: self._show_fit(generation, *fit),
                          name="models-fit")

    def _show_fit(self, generation: int, model_id: str, verdict: str, why: str) -> None:
        self.fits[model_id] = (verdict, why)
        if generation != self._generation:
            return
        row = self._row_of(model_id)
        if row is not None:
            set_badge(self.table.item(row, FIT_COLUMN), verdict, why)

    def _row_of(self, model_id: str) -> int | None:
        for row, model in enumerate(self.models):
            if model.id == model_id:
                return row
        return None

    def fit_of(self, model_id: str) -> str | None:
        """The verdict shown for a model, None while it is being estimated."""
        row = self._row_of(model_id)
        if row is None:
            return None
        return self.table.item(row, FIT_COLUMN).data(Qt.ItemDataRole.UserRole)

    def selected(self) -> ModelInfo | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.models):
            return None
        return self.models[rows[0].row()]

    def select(self, model_id: str) -> None:
        row = self._row_of(model_id)
        if row is not None:
            self.table.selectRow(row)

    def _update_buttons(self) -> None:
        model = self.selected()
        for button in (self.chat_button, self.copy_button):
            button.setEnabled(model is not None)
        # llama.cpp's quantizer reads GGUF; an MLX folder is converted by its own tools.
        self.quantize_button.setEnabled(model is not None and model.format == "gguf")
        # The embedded model ships with the app; the library refuses to forget it.
        self.remove_button.setEnabled(model is not None and not model.builtin)

    def show_message(self, text: str, details: str = "") -> None:
        self.message.setText(text)
        self.message.setToolTip(details)

    def _imported(self) -> None:
        self.refresh()
        self.sig_changed.emit()

    # -- actions ---------------------------------------------------------------------------
    def chat_with_selected(self) -> None:
        model = self.selected()
        if model is not None:
            self.sig_chat_with.emit(model.id)

    def quantize_selected(self) -> None:
        model = self.selected()
        if model is not None:
            self.sig_quantize.emit(model)

    def copy_selected_path(self) -> None:
        model = self.selected()
        if model is not None:
            QGuiApplication.clipboard().setText(model.path)
            self.show_message(f"Copied {model.path}")

    def remove_selected(self) -> None:
        """Ask first. The file stays unless Stillroom made it (a quantize output, a Hub
        download) and the user ticks the box: models are registered by reference, and a
        file another app keeps must not vanish under it (inference.models.removal)."""
        from inference.models.created_files import CreatedFiles
        from inference.models.removal import created_by_stillroom

        model = self.selected()
        if model is None or model.builtin:
            return
        ours = created_by_stillroom(model, self.models_dir,
                                    CreatedFiles(self.services.data_dir))
        where = (f"Stillroom made its file, {model.path}." if ours else
                 f"Its file stays at {model.path}: it was registered by reference.")
        # Window-modal but not blocking (open, not exec): the app keeps running behind it.
        box = QMessageBox(QMessageBox.Icon.Question, "Remove model",
                          f"Remove {model.name} from the library? {where}",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        if ours:
            # Parented: PySide does not hand the checkbox's ownership to the box.
            delete = QCheckBox("Also delete the file", box)
            delete.setAccessibleName("Also delete the file")
            box.setCheckBox(delete)
        box.buttonClicked.connect(
            lambda button: box.standardButton(button) == QMessageBox.StandardButton.Yes
            and self._remove(model, ours and box.checkBox().isChecked()))
        box.finished.connect(lambda _result: setattr(self, "confirm_box", None))
        self.confirm_box = box
        box.open()

    @property
    def models_dir(self) -> Path:
        return self.services.data_dir / "models"

    def _remove(self, model: ModelInfo, delete_file: bool) -> None:
        from inference.models.created_files import CreatedFiles
        from inference.models.removal import remove_model

        def removed(removal: Removal) -> None:
            if removal.deleted:
                text = f"Removed {model.name} and deleted {model.path}."
            elif removal.left_because:
                text = f"Removed {model.name} from the library; its file was left in place " \
                       f"at {model.path}: {removal.left_because}."
            else:
                text = f"Removed {model.name} from the library; the file is still at " \
                       f"{model.path}."
            if self.services.settings.default_model in (model.id, model.name):
                text += " It was the default model: choose another in Settings."
            self.show_message(text)
            self.fits.pop(model.id, None)
            self.refresh()
            self.sig_changed.emit()

        run_in_background(self, lambda: remove_model(self.services.library, model.id,
                                                     delete_file=delete_file,
                                                     models_dir=self.models_dir,
                                                     created=CreatedFiles(
                                                         self.services.data_dir)),
                          removed, self.show_message, name="models-remove")
