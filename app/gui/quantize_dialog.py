"""The Quantize dialog: pick a type and an output file (and an importance matrix for the
very-low-bit types), see the equivalent `stillroom models quantize` command, watch it run,
cancel it, and get the result registered in the library.

inference.convert.quantize runs llama.cpp's quantizer in a child process; progress is what can be
seen from outside (time elapsed, bytes written), shown against the expected output size.
The job, the registration (which hashes the new file) and even listing the types (they
come from the llama.cpp bindings) run off the UI thread.
"""

from __future__ import annotations

import shlex
import threading
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.cli.render import human_bytes
from app.gui.background import run_in_background
from app.services import Services
from inference.engines.types import ModelInfo
from inference.models.created_files import CreatedFiles

if TYPE_CHECKING:
    from collections.abc import Callable

    from inference.convert.quantize import QuantizeResult

DEFAULT_TYPE = "Q4_K_M"
# Offered first, in this order: the usual quality/size trade-offs.
COMMON_TYPES = ("Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "Q4_K_S", "Q4_0", "Q3_K_M", "Q2_K", "F16")


class QuantizeDialog(QDialog):
    sig_registered = Signal(str)
    """The id of the model the finished quantization was registered as."""

    def __init__(self, services: Services, model: ModelInfo, parent: QWidget) -> None:
        super().__init__(parent)
        from inference.convert.quantize import FULL_PRECISION_TYPES

        self.services = services
        self.model = model
        self.setWindowTitle(f"Quantize {model.name}")
        self.setMinimumWidth(560)
        self._lock = threading.Lock()  # guards _job between the UI and the worker thread
        self._job = None
        self._cancel_requested = threading.Event()
        self.running = False
        self.result_model_id: str | None = None
        self.expected_bytes: int | None = None
        self._output_edited = False
        # (types without an importance matrix, types with one), read off the UI thread.
        self._offered: tuple[list[str], list[str]] | None = None

        layout = QVBoxLayout(self)
        form = QFormLayout()
        source = QLabel(f"{model.name} · {model.quantization or '?'} · "
                        f"{human_bytes(model.size_bytes)}")
        source.setToolTip(model.path)
        form.addRow("Source", source)
        self.type_box = QComboBox()
        self.type_box.setAccessibleName("Quantization type")
        self.type_box.addItem("reading the types llama.cpp offers…")
        self.type_box.setEnabled(False)
        self.type_box.currentIndexChanged.connect(self._type_changed)
        form.addRow("Type", self.type_box)
        output_row = QHBoxLayout()
        self.output = QLineEdit()
        self.output.setAccessibleName("Output file")
        self.output.textEdited.connect(lambda _text: setattr(self, "_output_edited", True))
        self.browse = QPushButton("Browse…")
        self.browse.setAccessibleName("Choose the output file")
        self.browse.clicked.connect(self._browse)
        output_row.addWidget(self.output, 1)
        output_row.addWidget(self.browse)
        form.addRow("Output", output_row)
        imatrix_row = QHBoxLayout()
        self.imatrix = QLineEdit()
        self.imatrix.setAccessibleName("Importance matrix file")
        self.imatrix.setPlaceholderText("optional: a .gguf or .dat file from llama-imatrix")
        self.imatrix.setToolTip("An importance matrix improves every type and is needed by "
                                "the 1- to 2-bit ones (IQ1, IQ2, IQ3_XXS, Q2_K_S), which "
                                "are listed once you give one.")
        self.imatrix.textChanged.connect(self._imatrix_changed)
        self.browse_imatrix = QPushButton("Browse…")
        self.browse_imatrix.setAccessibleName("Choose the importance matrix file")
        self.browse_imatrix.clicked.connect(self._browse_imatrix)
        imatrix_row.addWidget(self.imatrix, 1)
        imatrix_row.addWidget(self.browse_imatrix)
        form.addRow("Importance matrix", imatrix_row)
        self.requantize = QCheckBox(f"Re-quantize this {model.quantization or 'quantized'} "
                                    f"model anyway")
        self.requantize.setAccessibleName("Allow re-quantizing")
        self.requantize.setToolTip("Quantizing an already quantized model loses more quality "
                                   "than quantizing its F16/BF16/F32 original; use that if "
                                   "you have it.")
        # Only offered when it matters: a full-precision source needs no permission.
        self.requantize.setVisible((model.quantization or "") not in FULL_PRECISION_TYPES)
        form.addRow("", self.requantize)
        self.requantize.toggled.connect(self._show_command)
        self.output.textChanged.connect(self._show_command)
        layout.addLayout(form)
        # The same job from a terminal, to copy into a script.
        self.command = QLabel()
        self.command.setObjectName("cliCommand")
        self.command.setAccessibleName("The same quantization as a command")
        self.command.setWordWrap(True)
        self.command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.command)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Quantization progress")
        self.progress.setTextVisible(False)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = QLabel()
        self.status.setAccessibleName("Quantization status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Quantize",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setAccessibleName("Start quantizing")
        self.start_button.setEnabled(False)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel quantizing")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.buttons)
        run_in_background(self, self._types, self._show_types, self._fail, name="quant-types")

    # -- set-up ----------------------------------------------------------------------------
    @staticmethod
    def _types() -> tuple[list[str], list[str]]:
        from inference.convert.quantize import quantization_types

        def ordered(offered: dict[str, int]) -> list[str]:
            return [t for t in COMMON_TYPES if t in offered] + sorted(
                t for t in offered if t not in COMMON_TYPES)

        return (ordered(quantization_types()),
                ordered(quantization_types(with_imatrix=True)))

    def _show_types(self, offered: tuple[list[str], list[str]]) -> None:
        from inference.convert.quant_types import BITS_PER_WEIGHT
        from inference.convert.quantize import estimated_output_bytes

        self._offered = offered
        chosen = self.type_name() or DEFAULT_TYPE
        with_imatrix = bool(self.imatrix.text().strip())
        self.type_box.blockSignals(True)
        self.type_box.clear()
        for name in offered[1 if with_imatrix else 0]:
            # Sized from the type's bits per weight (llama.cpp's figures), not guessed.
            size = estimated_output_bytes(self.model.parameters or 0, name)
            about = f"about {human_bytes(size)}, " if size else ""
            self.type_box.addItem(f"{name}  ({about}{BITS_PER_WEIGHT[name]:g} bits/weight)",
                                  name)
        found = self.type_box.findData(chosen)
        self.type_box.setCurrentIndex(found if found >= 0 else
                                      max(0, self.type_box.findData(DEFAULT_TYPE)))
        self.type_box.blockSignals(False)
        self.type_box.setEnabled(not self.running)
        self.start_button.setEnabled(not self.running)
        self._type_changed()

    def _imatrix_changed(self) -> None:
        if self._offered is not None:
            self._show_types(self._offered)  # the types that need one come and go with it
        self._show_command()

    def _browse_imatrix(self) -> None:
        chosen, _filter = QFileDialog.getOpenFileName(
            self, "Choose an importance matrix", self.imatrix.text(),
            "Importance matrix (*.gguf *.dat);;All files (*)")
        if chosen:
            self.imatrix.setText(chosen)

    def cli_command(self) -> str:
        """`stillroom models quantize ...` doing what the dialog would do now."""
        parts = ["stillroom", "models", "quantize", self.model.path, "--type",
                 self.type_name() or DEFAULT_TYPE]
        if self.output.text().strip():
            parts += ["--output", self.output.text().strip()]
        if self.imatrix.text().strip():
            parts += ["--imatrix", self.imatrix.text().strip()]
        if self.requantize.isVisibleTo(self) and self.requantize.isChecked():
            parts.append("--allow-requantize")
        return shlex.join(parts)

    def _show_command(self) -> None:
        self.command.setText(f"Same from a terminal: <code>{escape(self.cli_command())}</code>")

    def type_name(self) -> str | None:
        return self.type_box.currentData()

    def _type_changed(self) -> None:
        from inference.convert.quantize import default_output_path

        name = self.type_name()
        if name is not None and not self._output_edited:  # the user's own path stays
            folder = self.services.data_dir / "models"
            self.output.setText(str(default_output_path(Path(self.model.path), name, folder)))
        self._show_command()

    def _browse(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(self, "Save the quantized model as",
                                                      self.output.text(), "GGUF (*.gguf)")
        if chosen:
            self.output.setText(chosen)
            self._output_edited = True

    # -- running ---------------------------------------------------------------------------
    def start(self) -> None:
        name, output = self.type_name(), self.output.text().strip()
        if self.running or name is None:
            return
        if not output:
            self._fail("Choose an output file.")
            return
        self.running = True
        self._cancel_requested.clear()
        self.start_button.setEnabled(False)
        for widget in (self.type_box, self.output, self.browse, self.requantize,
                       self.imatrix, self.browse_imatrix):
            widget.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first size is known
        self.progress.show()
        self.status.setText(f"Starting llama.cpp's quantizer ({name})…")
        allow = self.requantize.isChecked()
        imatrix = self.imatrix.text().strip() or None
        run_in_background(self, lambda report: self._run(name, output, allow, imatrix, report),
                          self._finished, self._fail, on_progress=self._show_progress,
                          name="quantize-wait")

    def _run(self, name: str, output: str, allow: bool, imatrix: str | None,
             report: Callable[[object], None]) -> tuple[QuantizeResult, ModelInfo]:
        """On a worker thread: check, run and wait for the job, then register its file."""
        from inference.convert.quantize import (
            QuantizeCancelled,
            QuantizeJob,
            estimated_output_bytes,
        )

        job = QuantizeJob(self.model.path, output, name, allow_requantize=allow,
                          imatrix=imatrix, on_progress=report)
        expected = estimated_output_bytes(self.model.parameters or 0, job.type_name) or None
        report(("expected", expected))
        # Under the lock a Cancel either lands before the child starts (and nothing runs)
        # or after, when job.cancel() can terminate it.
        with self._lock:
            if self._cancel_requested.is_set():
                raise QuantizeCancelled("Quantization cancelled; nothing was kept.")
            self._job = job
            job.start()
        result = job.wait()
        # Ours: removal may delete it (inference.models.created_files).
        CreatedFiles(self.services.data_dir).record(result.path)
        source_name = Path(self.model.path).name
        model = self.services.library.register(
            result.path, source=f"quantized from {source_name} ({result.type})")
        return result, model

    def _show_progress(self, update: object) -> None:
        if isinstance(update, tuple):  # ("expected", bytes or None)
            self.expected_bytes = update[1]
            return
        expected = self.expected_bytes
        written = update.output_bytes
        if expected:
            # The estimate is rough: hold at 99% until llama.cpp says it is done.
            self.progress.setRange(0, 1000)
            self.progress.setValue(min(999, int(1000 * written / expected)))
        about = f" of about {human_bytes(expected)}" if expected else ""
        self.status.setText(f"{update.elapsed_s:.0f} s · {human_bytes(written)} "
                            f"written{about}")

    def _finished(self, outcome: tuple) -> None:
        result, model = outcome
        self.running = False
        self.result_model_id = model.id
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText(f"Done: {human_bytes(result.size_bytes)} {result.type} in "
                            f"{result.elapsed_s:.1f} s, added to the library as {model.id}.")
        self.cancel_button.setText("Close")
        self.cancel_button.setAccessibleName("Close")
        self.sig_registered.emit(model.id)

    def _fail(self, message: str) -> None:
        self.running = False
        with self._lock:
            self._job = None
        self.progress.hide()
        self.status.setText(message)
        self.start_button.setEnabled(self.type_name() is not None)
        self.type_box.setEnabled(self.type_box.count() > 0 and self.type_name() is not None)
        for widget in (self.output, self.browse, self.requantize, self.imatrix,
                       self.browse_imatrix):
            widget.setEnabled(True)

    def cancel(self) -> None:
        """Stops a running quantization (nothing is kept), else closes the dialog."""
        if not self.running:
            self.reject()
            return
        self.stop_job()
        self.status.setText("Cancelling…")

    def stop_job(self) -> None:
        """Thread-safe enough for the UI thread: terminates the child if one runs."""
        self._cancel_requested.set()
        with self._lock:
            job = self._job
        if job is not None:
            job.cancel()

    def reject(self) -> None:
        # Esc or the window's close button while running: stop the child, never orphan it.
        if self.running:
            self.stop_job()
        super().reject()
