"""Import…: register, by reference, the models other apps already keep (the Hugging Face
cache, LM Studio, Ollama, GPT4All) or a file or folder the user picks — `models import` in
the window. Scanning reads headers and registering hashes each new file (about a second a
gigabyte), so it runs off the UI thread and says which file it is checking.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QPushButton, QWidget

from app.gui.background import run_in_background
from app.services import Services

if TYPE_CHECKING:
    from inference.models.importer import ImportReport


def summary(report: ImportReport) -> tuple[str, str]:
    """One sentence for the message line, and the details (what was skipped and why) for
    its tooltip."""
    imported = [item.model.id for item in report.imported if item.model is not None]
    parts = []
    if imported:
        parts.append(f"Imported {len(imported)} model{'s' if len(imported) != 1 else ''} "
                     f"({', '.join(imported)})")
    if report.present:
        parts.append(f"{len(report.present)} already in the library")
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped (hover for why)")
    searched = [str(place.path) for place in report.searched if place.exists]
    sentence = "; ".join(parts) + "." if parts else (
        "No models found in " + (", ".join(searched) if searched else
                                 "the usual places of the Hugging Face cache, LM Studio, "
                                 "Ollama and GPT4All") + ".")
    details = "\n".join(f"{item.path}: {item.reason}" for item in report.skipped)
    return sentence, details


class ImportButton(QPushButton):
    sig_imported = Signal()
    """Models were added to the library."""
    sig_message = Signal(str, str)
    """A sentence for the user and its details (tooltip)."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__("Import…", parent)
        self.services = services
        self.running = False
        self.setAccessibleName("Import models")
        self.setToolTip("Register models other apps already downloaded; nothing is copied")
        menu = QMenu(self)
        menu.addAction("From other apps (Hugging Face cache, LM Studio, Ollama, GPT4All)",
                       lambda: self.import_from(None))
        menu.addAction("From a file…", self._pick_file)
        menu.addAction("From a folder…", self._pick_folder)
        self.setMenu(menu)

    def _pick_file(self) -> None:
        chosen, _filter = QFileDialog.getOpenFileName(self, "Import a model file",
                                                      str(Path.home()), "GGUF (*.gguf)")
        if chosen:
            self.import_from(Path(chosen))

    def _pick_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Import the models in a folder",
                                                  str(Path.home()))
        if chosen:
            self.import_from(Path(chosen))

    def import_from(self, path: Path | None) -> None:
        """Scan `path`, or every known place when None, and register what is new."""
        if self.running:
            return
        self.running = True
        self.setEnabled(False)
        self.sig_message.emit("Looking for models…", "")
        library = self.services.library

        def work(report: Callable[[str], None]) -> ImportReport:
            from inference.models.importer import import_models

            return import_models(library, path=path, on_progress=lambda index, total, found:
                                 report(f"Checking {found.name} ({index} of {total})…"))

        run_in_background(self, work, self._done, self._failed,
                          on_progress=lambda text: self.sig_message.emit(text, ""),
                          name="models-import")

    def _finish(self) -> None:
        self.running = False
        self.setEnabled(True)

    def _done(self, report: ImportReport) -> None:
        self._finish()
        self.sig_message.emit(*summary(report))
        if any(item.model is not None for item in report.imported):
            self.sig_imported.emit()

    def _failed(self, message: str) -> None:
        self._finish()
        self.sig_message.emit(message, "")
