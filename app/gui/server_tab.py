"""The Server tab: start and stop the office server, its address, fingerprint and log, its
users and its live figures.

The server runs in the window's own process, on the window's Services, in a worker thread
(uvicorn's loop; never the UI thread): the desktop chat, the Documents tab and the office's
clients share one loaded model and one scheduler (a batched engine while the server runs:
`EngineManager.share`), and the desktop's turns are one more owner in its fairness. It is
built as `stillroom serve` builds it (app/server/hosting.py: the same checks, warnings and
one-line refusals, which reach the log below), so the users added here are the ones it
authenticates, and its answers land in the same ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Signal
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
from app.server.hosting import Hosted, ServeOptions, prepare
from app.services import Services
from app.store.server_users import UserStore
from inference.engines.manager import BatchShare

FIGURES_MS = 2000
STOP_GRACE_S = 10.0  # closing the window waits this long for open answers (uvicorn's 5 s)
MAX_WAITING = 16  # requests that may wait for a slot before 429, as `stillroom serve`
LOG_LINES = 400
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
        self.last_error = ""
        self.hosted: Hosted | None = None
        self.thread: threading.Thread | None = None
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

    def options(self) -> ServeOptions:
        return ServeOptions(host="0.0.0.0" if self.network.isChecked() else "127.0.0.1",
                            port=self.port.value(), slots=self.slots.value(),
                            max_waiting=MAX_WAITING,
                            tls="self-signed" if self.tls.isChecked() else None)

    def start(self) -> None:
        if self.running:
            return
        options = self.options()
        self.url = self.fingerprint = self.model_id = None
        self.last_error = ""
        self.hosted = None
        self.fingerprint_label.hide()
        shown = f"port {options.port or 'any free'}, {options.slots} slots" + (
            f", {options.host}" if options.host != "127.0.0.1" else "") + (
            ", TLS self-signed" if options.tls else "")
        self.log.appendPlainText(f"Starting the server in this window ({shown})")
        self._set_state("starting", "Starting: loading the model…")
        # While the server runs, the desktop's chat and jobs share its scheduler: one model
        # in memory, batched. The share ends with the server (in its thread, so it ends even
        # when the window went first).
        share = self.services.share_engines(options.slots, MAX_WAITING)
        self.thread = run_in_background(
            self, lambda report: self._serve(options, share, report), self._finished,
            self._finished, on_progress=self._on_report, name="office-server")

    def _serve(self, options: ServeOptions, share: BatchShare,
               report: Callable[[object], None]) -> None:
        """The server's thread: prepare (the model's load, the socket, TLS), then serve
        until stopped."""
        try:
            hosted = prepare(self.services, options, report)
            report(hosted)
            hosted.run()
        finally:
            share.release()

    def _on_report(self, value: object) -> None:
        if isinstance(value, Hosted):
            self.hosted = value
            if self.state == "stopping":  # stopped while it was starting
                value.stop()
                return
            self.model_id, self.url, self.fingerprint = value.model_id, value.url, \
                value.fingerprint
            self.log.appendPlainText(f"Serving {value.model_id} at {value.url}")
            if value.fingerprint:
                self.fingerprint_label.setText(f"TLS certificate SHA-256 fingerprint "
                                               f"(clients pin it): {value.fingerprint}")
                self.fingerprint_label.show()
            self._running()
            return
        line = str(value)
        self.log.appendPlainText(line)
        self.last_error = line

    def stop(self) -> None:
        if self.state in ("stopped", "stopping"):
            return
        self._set_state("stopping", "Stopping: open answers finish first…")
        if self.hosted is not None:
            self.hosted.stop()  # uvicorn finishes open answers (its graceful time), then ends

    def shutdown(self) -> None:
        """The window is closing: the server goes with it, open answers given their time."""
        self.figures_timer.stop()
        if self.hosted is not None:
            self.hosted.stop()
        if self.thread is not None:
            self.thread.join(STOP_GRACE_S)

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

    def _finished(self, failure: str | None) -> None:
        """The server's thread ended: stopped, or it could not start (the one line why)."""
        self.figures_timer.stop()
        self.thread = None
        self.hosted = None
        self.url = None
        self.copy_button.setEnabled(False)
        if failure:
            self.log.appendPlainText(failure)
            self._set_state("stopped", f"The server stopped: {failure}")
        elif self.state == "stopping":
            self._set_state("stopped", STOPPED)
        else:
            why = self.last_error or "it ended by itself"
            self._set_state("stopped", f"The server stopped: {why}")

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
