"""The Server tab: start and stop the office server, its address, fingerprint and log, its
users and its live figures.

The server is `stillroom serve` in a child process, not a thread of the window: if it dies
(or is killed) the desktop keeps running, its port and model are freed with it, and it is
exactly the server the CLI runs (the same checks, warnings and one-line refusals, which
reach the log below). It opens the same data directory, so the users added here are the
ones it authenticates, and its answers land in the same ledger.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QProcess, QProcessEnvironment, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.gui.background import run_in_background
from app.gui.server_figures import Figures, ServerProbe
from app.gui.server_users_panel import UsersPanel
from app.services import Services
from app.store.server_users import UserStore

FIGURES_MS = 2000
STOP_GRACE_MS = 10_000  # uvicorn finishes open answers; after this the child is killed
LOG_LINES = 400
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # where `app` is importable from
STOPPED = ("Stopped. Start lets apps on this computer use the model through the OpenAI "
           "API; add users to let your office in.")
SNIPPET = '''from openai import OpenAI

client = OpenAI(base_url="{url}", api_key="{key}")
reply = client.chat.completions.create(
    model="{model}", messages=[{{"role": "user", "content": "Hello"}}])
print(reply.choices[0].message.content)'''


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


class ServerTab(QWidget):
    sig_state = Signal(str)  # "starting", "running", "stopping", "stopped"

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.setAccessibleName("Server")
        self.state = "stopped"
        self.url: str | None = None
        self.model_id: str | None = None
        self.fingerprint: str | None = None
        self.probe: ServerProbe | None = None
        self.figures: Figures | None = None
        self._reading = False
        self._stdout_tail = ""
        self._stderr_tail = ""
        self.last_error = ""
        self.process: QProcess | None = None
        self.users = UsersPanel(UserStore(services.store.engine))
        self._build()
        self.figures_timer = QTimer(self, interval=FIGURES_MS)
        self.figures_timer.timeout.connect(self.read_figures)

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        content = QWidget()
        layout = QVBoxLayout(content)
        # Scrolls rather than widening the window's minimum (as the Models tab does).
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        settings = QHBoxLayout()
        self.port = QSpinBox(minimum=0, maximum=65535)
        self.port.setValue(8080)
        self.port.setPrefix("port ")
        self.port.setSpecialValueText("port: any free")
        self.port.setAccessibleName("Port")
        self.slots = QSpinBox(minimum=1, maximum=64)
        self.slots.setValue(4)
        self.slots.setPrefix("slots ")
        self.slots.setAccessibleName("Requests decoded together")
        self.slots.setToolTip("Requests decoded together on one copy of the model")
        self.tls = QCheckBox("TLS (self-signed)")
        self.tls.setToolTip("HTTPS with a certificate made here; clients pin its fingerprint")
        self.network = QCheckBox("Office network")
        self.network.setToolTip("Listen on every address (0.0.0.0), not only this computer; "
                                "needs at least one user, and TLS is strongly advised")
        self.start_button = QPushButton("Start server")
        self.start_button.clicked.connect(self.toggle)
        for widget in (self.port, self.slots, self.tls, self.network):
            settings.addWidget(widget)
        settings.addStretch()
        settings.addWidget(self.start_button)
        layout.addLayout(settings)

        self.status = QLabel(STOPPED)
        self.status.setAccessibleName("Server status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy address")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.url or ""))
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.copy_button)
        layout.addLayout(status_row)
        self.fingerprint_label = QLabel()
        self.fingerprint_label.setWordWrap(True)
        self.fingerprint_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_label.hide()
        layout.addWidget(self.fingerprint_label)

        grid = QGridLayout()
        self.figure_labels: dict[str, QLabel] = {}
        for column, (key, title) in enumerate((("ready", "Model"), ("queue", "Queue"),
                                               ("rpm", "Requests/min"),
                                               ("tps", "Tokens/s"))):
            heading = QLabel(title)
            value = QLabel("–")
            value.setAccessibleName(title)
            value.setStyleSheet("font-size: 16pt;")
            grid.addWidget(heading, 0, column)
            grid.addWidget(value, 1, column)
            self.figure_labels[key] = value
        self.figures_source = QLabel()
        grid.addWidget(self.figures_source, 2, 0, 1, 4)
        figures_box = QGroupBox("Live")
        figures_box.setLayout(grid)
        layout.addWidget(figures_box)

        users_box = QGroupBox("Users (usage today)")
        QVBoxLayout(users_box).addWidget(self.users)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setAccessibleName("Server log")
        self.log.setPlaceholderText("The server's messages appear here.")
        self.snippet = QPlainTextEdit()
        self.snippet.setReadOnly(True)
        self.snippet.setAccessibleName("Client snippet")
        self.snippet.setPlaceholderText("Once the server runs, a Python snippet for the "
                                        "openai package appears here.")
        copy_snippet = QPushButton("Copy snippet")
        copy_snippet.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.snippet.toPlainText()))
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("Log"))
        right_layout.addWidget(self.log, 2)
        right_layout.addWidget(QLabel("Client"))
        right_layout.addWidget(self.snippet, 1)
        right_layout.addWidget(copy_snippet, 0, Qt.AlignmentFlag.AlignRight)
        splitter = QSplitter()
        splitter.addWidget(users_box)
        splitter.addWidget(right)
        splitter.setSizes([620, 380])
        layout.addWidget(splitter, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Server tab message")
        layout.addWidget(self.message)
        self.users.sig_message.connect(self.message.setText)

    # -- starting and stopping ---------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.state in ("starting", "running", "stopping")

    def toggle(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def arguments(self) -> list[str]:
        args = ["-m", "app.cli.main", "serve", "--port", str(self.port.value()),
                "--slots", str(self.slots.value())]
        if self.network.isChecked():
            args += ["--host", "0.0.0.0"]
        if self.tls.isChecked():
            args += ["--tls", "self-signed"]
        return args

    def start(self) -> None:
        if self.running:
            return
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        paths = [str(SOURCE_ROOT), environment.value("PYTHONPATH", "")]
        environment.insert("PYTHONPATH", os.pathsep.join(p for p in paths if p))
        environment.insert("STILLROOM_HOME", str(self.services.data_dir))
        environment.insert("PYTHONUNBUFFERED", "1")  # the log as it is written
        process.setProcessEnvironment(environment)
        process.setWorkingDirectory(str(SOURCE_ROOT))
        process.setProgram(sys.executable)
        process.setArguments(self.arguments())
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self.process = process
        self.url = self.fingerprint = self.model_id = None
        self.last_error = ""
        self._stdout_tail = self._stderr_tail = ""
        self.fingerprint_label.hide()
        self.log.appendPlainText(f"$ stillroom {' '.join(self.arguments()[2:])}")
        self._set_state("starting", "Starting: loading the model…")
        process.start()

    def stop(self) -> None:
        process = self.process
        if process is None or self.state == "stopping":
            return
        self._set_state("stopping", "Stopping: open answers finish first…")
        process.terminate()  # SIGTERM: uvicorn stops gracefully, Services close
        QTimer.singleShot(STOP_GRACE_MS, lambda: self._kill_if_running(process))

    def _kill_if_running(self, process: QProcess) -> None:
        if process is self.process and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()

    def shutdown(self) -> None:
        """The window is closing: the server goes with it."""
        self.figures_timer.stop()
        process = self.process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.terminate()
            if not process.waitForFinished(STOP_GRACE_MS):
                process.kill()
                process.waitForFinished(5000)

    # -- the child's output ------------------------------------------------------------
    def _lines(self, data: bytes, tail: str) -> tuple[list[str], str]:
        text = tail + data.decode("utf-8", "replace")
        *lines, rest = text.split("\n")
        return lines, rest

    def _read_stdout(self) -> None:
        lines, self._stdout_tail = self._lines(
            bytes(self.process.readAllStandardOutput()), self._stdout_tail)
        for line in lines:
            self.log.appendPlainText(line)
            if line.startswith("Serving ") and " at " in line:
                # "Serving MODEL at http://127.0.0.1:PORT/v1 (Ctrl+C stops)"
                head, _, rest = line.partition(" at ")
                self.model_id = head.removeprefix("Serving ").strip()
                self.url = rest.split()[0]
                self._running()

    def _read_stderr(self) -> None:
        lines, self._stderr_tail = self._lines(
            bytes(self.process.readAllStandardError()), self._stderr_tail)
        for line in lines:
            self.log.appendPlainText(line)
            if line.strip():
                self.last_error = line.strip()
            if "fingerprint:" in line:
                self.fingerprint = line.split("fingerprint:", 1)[1].split()[0]
                self.fingerprint_label.setText(
                    f"TLS certificate SHA-256 fingerprint (clients pin it): {self.fingerprint}")
                self.fingerprint_label.show()

    def _running(self) -> None:
        url = self.url or ""
        local_root = url.removesuffix("/v1").replace("0.0.0.0", "127.0.0.1")
        self.probe = ServerProbe(local_root, self.services.store.engine,
                                 fingerprint=self.fingerprint, started=datetime.now(UTC))
        shown = url
        if "0.0.0.0" in url:
            import socket

            shown = url.replace("0.0.0.0", socket.gethostname())
            self.url = shown
        self.copy_button.setEnabled(True)
        self._show_snippet()
        self._set_state("running", f"Serving {self.model_id} at {shown}")
        self.figures_timer.start()
        self.read_figures()

    def _show_snippet(self) -> None:
        # Without users the server asks no key; with users each teammate uses their own.
        key = "YOUR KEY" if self.users.listed else "none"
        text = SNIPPET.format(url=self.url, key=key, model=self.model_id)
        if self.snippet.toPlainText() != text:
            self.snippet.setPlainText(text)

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        expected = self.state == "stopping"
        self.figures_timer.stop()
        self.process = None
        self.url = None
        self.copy_button.setEnabled(False)
        if expected:
            self._set_state("stopped", STOPPED)
        else:
            why = self.last_error or f"it exited with status {code}"
            self._set_state("stopped", f"The server stopped: {why}")

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.process = None
            self._set_state("stopped", f"The server could not start: {sys.executable} "
                                       f"cannot be run.")

    def _set_state(self, state: str, text: str) -> None:
        self.state = state
        self.status.setText(text)
        self.start_button.setText("Stop server" if self.running else "Start server")
        for widget in (self.port, self.slots, self.tls, self.network):
            widget.setEnabled(not self.running)
        if state == "stopped":
            for label in self.figure_labels.values():
                label.setText("–")
            self.figures_source.clear()
        self.sig_state.emit(state)

    # -- figures -----------------------------------------------------------------------
    def read_figures(self) -> None:
        probe = self.probe
        if probe is None or self._reading or self.state != "running":
            return
        self._reading = True
        run_in_background(self, probe.read, self._show_figures, self._figures_failed,
                          name="server-figures")

    def _figures_failed(self, message: str) -> None:
        self._reading = False
        self.figures_source.setText(message)

    def _show_figures(self, figures: Figures) -> None:
        self._reading = False
        if self.state != "running":
            return
        self.figures = figures
        labels = self.figure_labels
        labels["ready"].setText("loaded" if figures.ready else "not loaded")
        labels["queue"].setText("–" if figures.queue_depth is None else str(figures.queue_depth))
        labels["rpm"].setText(_figure(figures.requests_per_min))
        labels["tps"].setText(_figure(figures.tokens_per_s))
        self.figures_source.setText(figures.problem or (
            "Rates over the last minute, from the server's /metrics." if figures.source ==
            "metrics" else "Rates over the last minute, from the ledger's rows of office "
                           "users (/metrics needs an admin key once users exist)."))
        self.users.refresh(figures.usage_today)
        self._show_snippet()
