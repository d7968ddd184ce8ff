"""The main window: conversations on the left, the chat in the middle, meters on the right."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.cli.render import human_bytes
from app.gui.background import run_in_background
from app.gui.chat_file_drop import ChatFileDrop
from app.gui.chat_view import ChatView, MessageWidget
from app.gui.elided import ElidingComboBox
from app.gui.icons import icon
from app.gui.theme import SPACE_L, SPACE_M, SPACE_S

if TYPE_CHECKING:
    from app.gui.models_tab import ModelsTab
    from app.services import Services
    from app.turn.chat_turn import ChatOptions

# The window paints before the services open (app.py): what follows the first paint, the
# store, the tabs, the meters and the worker (seconds of imports on 2 cores), is imported
# where it is used, and app.py loads it on a worker thread meanwhile (AFTER_FIRST_PAINT).
AFTER_FIRST_PAINT = ("app.gui.sidebar", "app.gui.meters", "app.gui.documents_tab",
                     "app.gui.server_tab", "app.gui.models_tab", "app.gui.worker",
                     "app.gui.dialogs", "app.gui.problems_banner", "app.gui.fit_badge",
                     "app.metering.energy_meter")
REPAINT_MS = 33  # ~30 frames a second: smooth text without a repaint per token
METERS_EVERY = 15  # repaints between meter refreshes (~2 a second): readable, and cheap
DEFAULT_REFERENCE_MODEL = "gpt-4o-mini"
MODELS_TAB_AFTER_SHOW_MS = 300
MODELS_TIP = "Models: installed, Hugging Face search, downloads (Ctrl+2)"
OPENING_TEXT = ("<h2>Opening your conversations…</h2><p>You can start typing; the message "
                "is sent once Stillroom is ready.</p>")
EMPTY_STATE = ("<h2>Private chat, on this machine</h2><p>{model} is ready. Type a question "
               "below and press Enter; nothing you type leaves this computer.</p>"
               "<p>To try another model, open the Models tab (Ctrl+2).</p>"
               "<p><small>Enter sends · Shift+Enter adds a line · Esc stops · Ctrl+N new "
               "chat · Ctrl+F search</small></p>")


def tip(widget: QWidget, text: str, keys: str | None = None) -> None:
    """A tooltip that names the keyboard shortcut too, the way the menus show it."""
    shortcut = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) \
        if keys else ""
    widget.setToolTip(f"{text} ({shortcut})" if shortcut else text)


class Composer(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line."""

    sig_submit = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.sig_submit.emit()
            return
        super().keyPressEvent(event)


class OpeningView(QWidget):
    """What the window shows in the moment before the conversations open: the layout of
    the chat, a message box that already takes typing, Send saying why it waits."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("chatColumn")
        column = QVBoxLayout(self)
        column.setContentsMargins(SPACE_L, SPACE_L, SPACE_L, SPACE_M)
        column.setSpacing(SPACE_S)
        self.message = QLabel(OPENING_TEXT)
        self.message.setObjectName("emptyState")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.message, 1)
        row = QHBoxLayout()
        row.setSpacing(SPACE_S)
        self.composer = Composer()
        self.composer.setObjectName("composer")
        self.composer.setAccessibleName("Message")
        self.composer.setPlaceholderText("Ask anything — it stays on this machine")
        self.composer.setMaximumHeight(110)
        row.addWidget(self.composer, 1)
        self.send_button = QPushButton("Opening…")
        self.send_button.setEnabled(False)
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send works once your conversations are open")
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignTop)
        column.addLayout(row)
        self.send_when_open = False
        self.composer.sig_submit.connect(self._queue_send)
        self.composer.setFocus()

    def _queue_send(self) -> None:
        """Enter before the services are open: the message goes as soon as they are."""
        if self.composer.toPlainText().strip():
            self.send_when_open = True
            self.send_button.setText("Sends when open")


class MainWindow(QMainWindow):
    sig_run_turn = Signal(object)
    sig_load_model = Signal(str)
    sig_unload_model = Signal(str)

    def __init__(self, services: Services | None, ui_state: QSettings) -> None:
        """With services None the window shows at once with its opening view (a message
        box the user may already type in); `attach(services)` then fills it in."""
        super().__init__()
        self.services: Services | None = None
        self.ui_state = ui_state
        self.setWindowTitle("Stillroom")
        self.conversation_id: str | None = None
        self.pending_system_prompt: str | None = None
        self._request_ids = itertools.count(1)
        self.active: dict | None = None  # the turn being generated, if any
        self._deleted_banner: str | None = None
        self._models_tab: ModelsTab | None = None
        self.opening: OpeningView | None = None
        geometry = ui_state.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        if services is None:
            self.opening = OpeningView()
            self.setCentralWidget(self.opening)
        else:
            self.attach(services)

    def attach(self, services: Services) -> None:
        """Build the window over the opened services; text typed meanwhile is kept."""
        from app.gui.worker import WorkerThread

        self.services = services
        self.workers = WorkerThread(services)
        worker = self.workers.worker
        self.sig_run_turn.connect(worker.run_turn)
        self.sig_load_model.connect(worker.load_model)
        self.sig_unload_model.connect(worker.unload_model)
        worker.sig_model_loading.connect(self._on_model_loading)
        worker.sig_model_ready.connect(self._on_model_ready)
        worker.sig_turn_started.connect(self._on_turn_started)
        worker.sig_chunk.connect(self._on_chunk)
        worker.sig_route_changed.connect(self._on_route_changed)
        worker.sig_escalation_started.connect(self._on_escalation_started)
        worker.sig_turn_finished.connect(self._on_turn_finished)
        worker.sig_turn_failed.connect(self._on_turn_failed)
        worker.sig_unloaded.connect(self._on_unloaded)

        typed = self.opening.composer.toPlainText() if self.opening is not None else ""
        send_now = self.opening is not None and self.opening.send_when_open
        self._build()
        self._build_menus()
        self.repaint_timer = QTimer(self, interval=REPAINT_MS)
        self.repaint_timer.timeout.connect(self._repaint_stream)
        self.sidebar.refresh()
        self.new_chat()
        if typed:
            self.composer.setPlainText(typed)
            self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
        state = self.ui_state.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.opening = None  # _build's setCentralWidget deletes it
        if self.isVisible():
            self._build_models_tab_soon()
        if send_now:
            self.send()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        from app.gui.documents_tab import DocumentsTab
        from app.gui.meters import MetersPanel
        from app.gui.problems_banner import ProblemsBanner
        from app.gui.server_tab import ServerTab
        from app.gui.sidebar import ConversationSidebar
        from app.metering.energy_meter import power_config

        self.sidebar = ConversationSidebar(self.services.store)
        self.sidebar.sig_selected.connect(self.open_conversation)
        self.sidebar.sig_new_chat.connect(self.new_chat)
        self.sidebar.sig_deleted.connect(self._on_deleted)

        centre = QWidget()
        centre.setObjectName("chatColumn")
        column = QVBoxLayout(centre)
        column.setContentsMargins(SPACE_M, SPACE_M, SPACE_L, SPACE_M)
        column.setSpacing(SPACE_S)
        toolbar = QHBoxLayout()
        toolbar.setSpacing(SPACE_S)
        # Model names can be long (a Hub file name, a quantization, a size, the fit word):
        # the picker cuts them to its width and lists them in full when opened.
        self.model_picker = ElidingComboBox(min_chars=6, hug_text=False)
        self.model_picker.setAccessibleName("Model")
        toolbar.addWidget(self.model_picker, 1)
        # Icon buttons, named for screen readers, their shortcut in the tooltip: the row
        # must leave the picker room on a small screen.
        self.load_button = QPushButton()
        self.load_button.setIcon(icon("load"))
        self.load_button.setAccessibleName("Load model")
        tip(self.load_button, "Load the model now instead of at the first message",
            "Ctrl+Shift+L")
        self.load_button.clicked.connect(self.load_model)
        self.unload_button = QPushButton()
        self.unload_button.setIcon(icon("unload"))
        self.unload_button.setAccessibleName("Unload model")
        tip(self.unload_button, "Free the memory the model uses", "Ctrl+Shift+U")
        self.unload_button.clicked.connect(self.unload_model)
        toolbar.addWidget(self.load_button)
        toolbar.addWidget(self.unload_button)
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=2.0, singleStep=0.1)
        self.temperature.setPrefix("temp ")
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setToolTip("Temperature: 0 answers the same way every time")
        self.max_tokens = QSpinBox(minimum=16, maximum=32768, singleStep=64)
        self.max_tokens.setPrefix("max ")
        self.max_tokens.setSuffix(" tok")
        self.max_tokens.setAccessibleName("Maximum answer tokens")
        self.max_tokens.setToolTip("The longest answer, in tokens")
        self.context = QSpinBox(minimum=256, maximum=131072, singleStep=1024)
        self.context.setPrefix("ctx ")
        self.context.setAccessibleName("Context length")
        self.context.setToolTip("Context length: applies when the model is next loaded")
        self.context.setValue(self.services.settings.context_length or 4096)
        self.context.editingFinished.connect(self._context_changed)
        self.system_button = QPushButton("System…")
        self.system_button.setIcon(icon("system"))
        tip(self.system_button, "System prompt and saved presets", "Ctrl+Shift+S")
        self.system_button.setAccessibleName("System prompt and presets")
        self.system_button.clicked.connect(self.edit_system_prompt)
        self.problems_banner = ProblemsBanner(self.edit_policy)
        self.problems_banner.set_problems(self.services.warnings)
        column.addWidget(self.problems_banner)
        column.addLayout(toolbar)
        # Long provider names must not widen the window past a small laptop screen: the
        # pin is cut to its width, the list shows each route in full.
        self.route_pin = ElidingComboBox(min_chars=6)
        self.route_pin.setAccessibleName("Where this conversation may run")
        self.route_pin.activated.connect(self._route_pin_changed)
        self.route_pin.currentTextChanged.connect(lambda text: self.route_pin.setToolTip(
            f"{text}. Pin this conversation to a route; sensitive text stays on this "
            f"machine whatever you choose"))
        self.pending_route_pin: str | None = None
        self._fill_route_pins()
        parameters = QHBoxLayout()
        parameters.setSpacing(SPACE_S)
        toolbar.addWidget(self.route_pin)
        toolbar.addWidget(self.system_button)
        for widget in (self.temperature, self.max_tokens, self.context):
            parameters.addWidget(widget)
        parameters.addStretch()
        column.addLayout(parameters)

        self.chat_view = ChatView()
        column.addWidget(self.chat_view, 1)
        composer_row = QHBoxLayout()
        composer_row.setSpacing(SPACE_S)
        self.composer = Composer()
        self.composer.setObjectName("composer")
        self.composer.setAccessibleName("Message")
        self.composer.setPlaceholderText("Ask anything — it stays on this machine")
        self.composer.setMaximumHeight(110)
        self.composer.sig_submit.connect(self.send)
        composer_row.addWidget(self.composer, 1)
        buttons = QVBoxLayout()
        self.send_button = QPushButton("Send")
        self.send_button.setIcon(icon("send", on_accent=True))
        self.send_button.setProperty("primary", True)
        self.send_button.setAccessibleName("Send")
        tip(self.send_button, "Send the message", "Return")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setIcon(icon("stop"))
        self.stop_button.setAccessibleName("Stop answer")
        tip(self.stop_button, "Stop the answer; what was written so far is kept", "Esc")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        composer_row.addLayout(buttons)
        column.addLayout(composer_row)

        splitter = QSplitter()
        splitter.setHandleWidth(1)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(centre)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 900])
        self.splitter = splitter
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(splitter, icon("system"), "Chat")
        # The Models tab (three panels, the download queue) is built just after the first
        # paint, or at once when asked for: a placeholder holds its place until then.
        self._models_placeholder = QWidget()
        self.tabs.addTab(self._models_placeholder, icon("model"), "Models")
        self.tabs.setTabToolTip(0, "Chat (Ctrl+1)")
        self.tabs.setTabToolTip(1, MODELS_TIP)
        self.tabs.currentChanged.connect(
            lambda index: self.models_tab if self.tabs.widget(index)
            is self._models_placeholder else None)
        self.documents_tab = DocumentsTab(self.services)
        self.tabs.addTab(self.documents_tab, icon("folder"), "Documents")
        self.tabs.setTabToolTip(2, "Documents: ask about files, batch jobs over folders "
                                   "(Ctrl+3)")
        self.file_drop = ChatFileDrop(self.ask_about_files, self)
        self.file_drop.watch(self.chat_view, self.chat_view.viewport(), self.composer,
                             self.composer.viewport(), self.sidebar)
        self.server_tab = ServerTab(self.services)
        self.tabs.addTab(self.server_tab, icon("settings"), "Server")
        self.tabs.setTabToolTip(3, "Office server: the OpenAI API for your office (Ctrl+4)")
        self.setCentralWidget(self.tabs)

        reference = getattr(self.services.settings, "reference_cloud_model", None) \
            or DEFAULT_REFERENCE_MODEL
        self.meters = MetersPanel(reference, show_tour=not self.ui_state.value(
            "tour/dismissed", False, type=bool),
            power_config=power_config(self.services.settings))
        self.meters.sig_tour_dismissed.connect(
            lambda: self.ui_state.setValue("tour/dismissed", True))
        dock = QDockWidget("Meters")
        dock.setObjectName("metersDock")
        dock.setAccessibleName("Meters")
        self.meters_dock = dock
        dock.setWidget(self.meters)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

        status = self.statusBar()
        self.model_status = QLabel()
        self.model_status.setAccessibleName("Model status")
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 0)  # busy: llama.cpp reports no load fraction
        self.load_progress.setMaximumWidth(120)
        self.load_progress.hide()
        self.offline_status = QLabel()
        self.offline_status.setAccessibleName("Network status")
        self.undo_button = QPushButton("Undo delete")
        tip(self.undo_button, "Bring the deleted conversation back", "Ctrl+Z")
        self.undo_button.hide()
        self.undo_button.clicked.connect(self._undo_delete)
        status.addPermanentWidget(self.undo_button)
        status.addPermanentWidget(self.load_progress)
        status.addPermanentWidget(self.model_status)
        status.addPermanentWidget(self.offline_status)
        self._refresh_offline_status()
        self._populate_models()

    def ask_about_files(self, paths: list[Path]) -> None:
        """Files dropped on the chat: read in the Documents tab, its question box ready."""
        self.documents_tab.files.add_paths(paths)
        self.tabs.setCurrentWidget(self.documents_tab)
        self.documents_tab.question.question.setFocus()
        self.statusBar().showMessage(
            f"{len(paths)} file(s) added to Documents: ask about them there (Ctrl+3).", 6000)

    def _build_menus(self) -> None:
        def action(menu, text: str, keys, slot) -> QAction:  # noqa: ANN001
            item = QAction(text, self)
            item.setShortcut(keys)
            item.triggered.connect(slot)
            menu.addAction(item)
            return item

        file_menu = self.menuBar().addMenu("&File")
        action(file_menu, "New chat", QKeySequence.StandardKey.New, self.new_chat)
        action(file_menu, "Settings…", QKeySequence("Ctrl+,"), self.open_settings)
        action(file_menu, "Costs and savings…", QKeySequence("Ctrl+Shift+C"),
               self.open_costs)
        action(file_menu, "Routing policy…", QKeySequence("Ctrl+Shift+P"), self.edit_policy)
        action(file_menu, "Audit trail…", QKeySequence("Ctrl+Shift+A"), self.open_audit)
        file_menu.addSeparator()
        action(file_menu, "Quit", QKeySequence.StandardKey.Quit, self.close)
        chat_menu = self.menuBar().addMenu("&Chat")
        action(chat_menu, "Send", QKeySequence("Ctrl+Return"), self.send)
        action(chat_menu, "Stop", QKeySequence(Qt.Key.Key_Escape), self.stop)
        action(chat_menu, "Regenerate", QKeySequence("Ctrl+R"), self.regenerate_last)
        action(chat_menu, "Undo delete", QKeySequence.StandardKey.Undo, self._undo_delete)
        chat_menu.addSeparator()
        action(chat_menu, "System prompt…", QKeySequence("Ctrl+Shift+S"),
               self.edit_system_prompt)
        action(chat_menu, "Load model", QKeySequence("Ctrl+Shift+L"), self.load_model)
        action(chat_menu, "Unload model", QKeySequence("Ctrl+Shift+U"), self.unload_model)
        chat_menu.addSeparator()
        action(chat_menu, "Search conversations", QKeySequence.StandardKey.Find,
               lambda: self.sidebar.search.setFocus())
        action(chat_menu, "Focus message", QKeySequence("Ctrl+L"),
               lambda: self.composer.setFocus())
        view_menu = self.menuBar().addMenu("&View")
        action(view_menu, "Chat", QKeySequence("Ctrl+1"), lambda: self.tabs.setCurrentIndex(0))
        action(view_menu, "Models", QKeySequence("Ctrl+2"),
               lambda: self.tabs.setCurrentWidget(self.models_tab))
        action(view_menu, "Documents", QKeySequence("Ctrl+3"),
               lambda: self.tabs.setCurrentWidget(self.documents_tab))
        action(view_menu, "Office server", QKeySequence("Ctrl+4"),
               lambda: self.tabs.setCurrentWidget(self.server_tab))
        meters = self.meters_dock.toggleViewAction()
        meters.setText("Meters")
        meters.setShortcut(QKeySequence("Ctrl+Shift+M"))
        view_menu.addAction(meters)

    @property
    def models_tab(self) -> ModelsTab:
        if self._models_tab is None:
            from app.gui.models_tab import ModelsTab

            tab = ModelsTab(self.services)
            tab.sig_chat_with.connect(self.chat_with_model)
            tab.sig_library_changed.connect(self._populate_models)
            tab.sig_open_settings.connect(self.open_settings)
            self._models_tab = tab  # before the swap: currentChanged asks for it again
            index = self.tabs.indexOf(self._models_placeholder)
            showing = self.tabs.currentIndex() == index
            self.tabs.blockSignals(True)
            self.tabs.insertTab(index, tab, icon("model"), "Models")
            self.tabs.removeTab(index + 1)
            self.tabs.setTabToolTip(index, MODELS_TIP)
            if showing:
                self.tabs.setCurrentIndex(index)
            self.tabs.blockSignals(False)
            self._models_placeholder.deleteLater()
        return self._models_tab

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.services is not None:
            self._build_models_tab_soon()

    def _build_models_tab_soon(self) -> None:
        if self._models_tab is None:  # after the first paint: the downloads resume then
            # With self as the context, Qt drops the timer if the window is destroyed first
            # (a window closed within the delay: its tab widget is gone by then).
            QTimer.singleShot(MODELS_TAB_AFTER_SHOW_MS, self, lambda: self.models_tab)

    def load_model(self) -> None:
        self.sig_load_model.emit(self.model_picker.currentData())

    def unload_model(self) -> None:
        self.sig_unload_model.emit(self.model_picker.currentData())

    # -- models ------------------------------------------------------------------------
    def _populate_models(self) -> None:
        current = self.model_picker.currentData()  # kept across a refill
        self.model_picker.clear()
        for model in self.services.library.list():
            label = f"{model.name} · {model.quantization or '?'} · {human_bytes(model.size_bytes)}"
            self.model_picker.addItem(label, model.id)
        default = current or self.services.settings.default_model
        if default:
            self.model_picker.setCurrentIndex(max(0, self.model_picker.findData(default)))
        self.model_status.setText(f"Model: {self.model_picker.currentText().split(' · ')[0]}"
                                  f" (loads on first message)")
        # Headers are read off the UI thread; the picker labels each model when its answer
        # arrives (an answer after the window closed is dropped with the relay).
        models, context = self.services.library.list(), self.services.settings.context_length
        from app.gui.fit_badge import installed_fit

        def estimate(report) -> None:  # noqa: ANN001
            from inference.hardware import detect_gpus

            gpus = detect_gpus()  # once for the list, not once per model
            for model in models:
                report((model.id, *installed_fit(model, context or 4096, gpus)))

        run_in_background(self, estimate, lambda _none: None,
                          on_progress=lambda fit: self._show_fit(*fit), name="fit-estimates")

    def _show_fit(self, model_id: str, verdict: str, why: str) -> None:
        from app.gui.fit_badge import badge_text

        index = self.model_picker.findData(model_id)
        if index < 0:
            return
        text = self.model_picker.itemText(index).split(" · ")[:3]
        self.model_picker.setItemText(index, " · ".join([*text, badge_text(verdict)]))
        self.model_picker.setItemData(index, why, Qt.ItemDataRole.ToolTipRole)

    def chat_with_model(self, model_id: str) -> None:
        """From the Models tab: this conversation's next answers come from `model_id`."""
        if self.model_picker.findData(model_id) < 0:
            self._populate_models()
        self.model_picker.setCurrentIndex(max(0, self.model_picker.findData(model_id)))
        if self.conversation_id:
            self.services.store.update(self.conversation_id, model_id=model_id)
        self.model_status.setText(f"Model: {self.model_picker.currentText().split(' · ')[0]}"
                                  f" (loads on the next message)")
        self.tabs.setCurrentIndex(0)
        self.composer.setFocus()

    def _on_model_loading(self, model_id: str) -> None:
        self.load_progress.show()
        self.model_status.setText(f"Loading {model_id}…")

    def _on_model_ready(self, model_id: str, seconds: float) -> None:
        self.load_progress.hide()
        model = self.services.library.get(model_id)
        self.model_status.setText(f"Model: {model.name} · loaded"
                                  + (f" in {seconds:.1f} s" if seconds else ""))

    def _on_unloaded(self, model_id: str) -> None:
        self.model_status.setText(f"Model: {model_id} · unloaded")

    def _context_changed(self) -> None:
        from app.config import save_settings

        value = self.context.value()
        if value == (self.services.settings.context_length or 4096):
            return
        self.services.settings.context_length = value
        self.services.engines.settings = replace(self.services.engines.settings,
                                                 context_length=value)
        save_settings(self.services.settings_path, self.services.settings)
        self.sig_unload_model.emit(self.model_picker.currentData())
        self.statusBar().showMessage(f"Context {value} tokens: the model reloads on the next "
                                     f"message.", 5000)

    # -- routes ------------------------------------------------------------------------
    def _fill_route_pins(self) -> None:
        self.route_pin.clear()
        for label, value in (("route: auto (policy)", None), ("route: this machine", "local"),
                             ("route: on-premises", "onprem"), ("route: cloud", "cloud")):
            self.route_pin.addItem(label, value)
        for provider in self.services.router.providers:
            self.route_pin.addItem(f"route: {provider.name} ({provider.tier})", provider.name)

    def _show_route_pin(self, pin: str | None) -> None:
        index = self.route_pin.findData(pin)
        self.route_pin.setCurrentIndex(index if index >= 0 else 0)

    def _route_pin_changed(self, _index: int) -> None:
        pin = self.route_pin.currentData()
        if self.conversation_id:
            self.services.store.set_route_pin(self.conversation_id, pin)
        else:
            self.pending_route_pin = pin

    def edit_policy(self) -> None:
        from app.gui.dialogs import PolicyDialog
        from routing.router import POLICY_FILE

        dialog = PolicyDialog(self.services.data_dir / POLICY_FILE, self)
        if dialog.exec():
            self._reload_router("Routing policy saved.")

    def _reload_router(self, message: str) -> None:
        problems = self.services.reload_router()  # local-only while a file is broken
        self.problems_banner.set_problems(self.services.warnings)
        self._fill_route_pins()
        self._show_route_pin(self.services.store.get(self.conversation_id).route_pin
                             if self.conversation_id else self.pending_route_pin)
        if problems:
            self.statusBar().showMessage(str(problems[0]), 10000)
            return
        self.statusBar().showMessage(message, 4000)

    # -- conversations -----------------------------------------------------------------
    def new_chat(self) -> None:
        self.conversation_id = None
        self.pending_system_prompt = None
        self.pending_route_pin = None
        self._show_route_pin(None)
        self.chat_view.clear()
        self.chat_view.set_empty_text(EMPTY_STATE.format(
            model=self.model_picker.currentText().split(" · ")[0] or "The embedded model"))
        self.sidebar.list.clearSelection()
        self._load_parameters(None)
        self.composer.setFocus()

    def open_conversation(self, conversation_id: str) -> None:
        if conversation_id == self.conversation_id:
            return
        self._save_parameters()
        conversation = self.services.store.get(conversation_id)
        self.conversation_id = conversation.id
        self._show_messages()
        if conversation.model_id:
            index = self.model_picker.findData(conversation.model_id)
            if index >= 0:
                self.model_picker.setCurrentIndex(index)
        self._load_parameters(conversation.id)
        self._show_route_pin(conversation.route_pin)

    def _show_messages(self) -> None:
        self.chat_view.clear()
        if self.conversation_id is None:
            return
        streaming_here = self.active and self.active["conversation_id"] == self.conversation_id
        for message in self.services.store.messages(self.conversation_id):
            widget = self._message_widget(message.role, message.content, message.id,
                                          message.status, message.model_id)
            if message.role == "assistant":
                widget.set_route({"target": message.route_target, "rule": message.route_rule,
                                  "reason": message.route_reason,
                                  "model": self._model_name(message.model_id)})
                if message.error:
                    widget.set_text(f"{message.content}\n\n> ⚠ {message.error}")
            if streaming_here and message.status == "streaming":
                self.active["widget"] = widget
                widget.set_text(self.active["text"], final=False)

    def _sync_last_turn(self) -> None:
        """Give the widgets of the turn that just ended their stored ids, statuses and
        routes, in place: rebuilding the whole conversation after every answer re-laid out
        every message, which grows with the conversation. Falls back to a rebuild when the
        view and the store disagree."""
        stored = self.services.store.messages(self.conversation_id)
        shown = self.chat_view.messages
        if len(stored) != len(shown):
            self._show_messages()
            return
        for widget, message in zip(reversed(shown), reversed(stored), strict=True):
            if widget.role != message.role:
                self._show_messages()
                return
            if widget.message_id == message.id and message.status == "complete":
                break  # older messages were synced when their own turn ended
            widget.message_id = message.id
            widget.set_status(message.status)
            if message.role == "assistant":
                widget.set_route({"target": message.route_target, "rule": message.route_rule,
                                  "reason": message.route_reason,
                                  "model": self._model_name(message.model_id)})
                if message.error:
                    widget.set_text(f"{message.content}\n\n> ⚠ {message.error}")
                elif widget.text() != message.content:
                    widget.set_text(message.content)

    def _model_name(self, model_id: str | None) -> str:
        try:
            return self.services.library.get(model_id).name if model_id else ""
        except Exception:  # a removed model still labels its old answers by id
            return model_id or ""

    def _message_widget(self, role: str, text: str, message_id: int | None = None,
                        status: str = "complete", model_id: str | None = None) -> MessageWidget:
        title = "You" if role == "user" else (self._model_name(model_id) or "Assistant")
        widget = MessageWidget(role, text, message_id=message_id, title=title, status=status)
        if role == "user":
            widget.sig_edit_requested.connect(self._on_edit)
        else:
            widget.sig_regenerate_requested.connect(lambda _w: self.regenerate_last())
        return self.chat_view.add(widget)

    def _parameter_key(self, conversation_id: str | None, name: str) -> str:
        return f"conversation/{conversation_id or 'default'}/{name}"

    def _load_parameters(self, conversation_id: str | None) -> None:
        settings = self.services.settings
        self.temperature.setValue(float(self.ui_state.value(
            self._parameter_key(conversation_id, "temperature"), settings.temperature)))
        self.max_tokens.setValue(int(self.ui_state.value(
            self._parameter_key(conversation_id, "max_tokens"), settings.max_tokens)))

    def _save_parameters(self) -> None:
        if self.conversation_id:
            self.ui_state.setValue(self._parameter_key(self.conversation_id, "temperature"),
                                   self.temperature.value())
            self.ui_state.setValue(self._parameter_key(self.conversation_id, "max_tokens"),
                                   self.max_tokens.value())

    def edit_system_prompt(self) -> None:
        current = self.services.store.get(self.conversation_id).system_prompt \
            if self.conversation_id else (self.pending_system_prompt
                                          or self.services.settings.system_prompt)
        from app.gui.dialogs import SystemPromptDialog

        dialog = SystemPromptDialog(current, self.ui_state, self)
        if dialog.exec():
            if self.conversation_id:
                self.services.store.update(self.conversation_id, system_prompt=dialog.text())
            else:
                self.pending_system_prompt = dialog.text()

    # -- sending -----------------------------------------------------------------------
    @property
    def generating(self) -> bool:
        return self.active is not None

    def _options(self) -> ChatOptions:
        from app.turn.chat_turn import ChatOptions

        system = None if self.conversation_id else (self.pending_system_prompt
                                                    or self.services.settings.system_prompt)
        # A new conversation's pin rides on its first message; the store keeps it after.
        route = (self.pending_route_pin or "auto") if not self.conversation_id else "auto"
        return ChatOptions(model=self.model_picker.currentData(), system_prompt=system,
                           temperature=self.temperature.value(),
                           max_tokens=self.max_tokens.value(), route=route)

    def send(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text:
            return
        if self._start_turn(text):
            self.composer.clear()

    def _start_turn(self, text: str, truncate_from: int | None = None) -> bool:
        if self.generating:
            self.statusBar().showMessage("Wait for the current answer, or stop it (Esc).", 4000)
            return False
        self._message_widget("user", text)
        answer = self._message_widget("assistant", "", status="streaming",
                                      model_id=self.model_picker.currentData())
        from app.gui.worker import TurnRequest

        request = TurnRequest(next(self._request_ids), text, self.conversation_id,
                              self._options(), truncate_from)
        self.active = {"request_id": request.request_id, "widget": answer, "text": "",
                       "dirty": False, "figures": None,
                       "conversation_id": self.conversation_id}
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.repaint_timer.start()
        self.sig_run_turn.emit(request)
        return True

    def stop(self) -> None:
        if self.active is not None:
            self.workers.worker.cancel(self.active["request_id"])
            self.statusBar().showMessage("Stopping…", 2000)

    def regenerate_last(self) -> None:
        messages = self.chat_view.messages
        if self.generating or len(messages) < 2 or messages[-1].role != "assistant":
            return
        question = messages[-2]
        if question.message_id is None:
            return
        self.chat_view.remove_from(question)
        self._start_turn(question.text(), truncate_from=question.message_id)

    def _on_edit(self, payload: tuple) -> None:
        widget, new_text = payload
        if self.generating or widget.message_id is None:
            self.statusBar().showMessage("Wait for the current answer before editing.", 4000)
            return
        self.chat_view.remove_from(widget)
        self._start_turn(new_text, truncate_from=widget.message_id)

    # -- streaming ---------------------------------------------------------------------
    def _is_active(self, request_id: int) -> bool:
        return self.active is not None and self.active["request_id"] == request_id

    def _on_turn_started(self, request_id: int, conversation_id: str, details: dict) -> None:
        if not self._is_active(request_id):
            return
        if self.active["conversation_id"] is None:
            self.active["conversation_id"] = conversation_id
            if self.conversation_id is None:
                self.conversation_id = conversation_id
                self._save_parameters()
                if self.pending_route_pin:
                    self.services.store.set_route_pin(conversation_id, self.pending_route_pin)
                    self.pending_route_pin = None
            self.sidebar.refresh(select=self.conversation_id)
        widget = self.active.get("widget")
        if widget is not None and self.conversation_id == conversation_id:
            widget.set_route({**details, "model": details.get("model")})

    def _on_route_changed(self, request_id: int, details: dict) -> None:
        """A remote attempt failed and the answer goes on elsewhere (failover): the badge
        shows where the text now comes from, never the provider that failed."""
        if not self._is_active(request_id):
            return
        widget = self.active.get("widget")
        if widget is not None and self.conversation_id == self.active["conversation_id"]:
            widget.set_route(details)

    def _on_escalation_started(self, request_id: int, details: dict) -> None:
        """The local answer was unsure: it stays, marked so, and a second answer from where
        the policy escalates to streams below it, its badge saying why."""
        if not self._is_active(request_id):
            return
        self._repaint_stream(final=True)
        self.meters.show_turn(details.get("local") or {}, final=True)
        local = self.active.get("widget")
        confidence = details.get("confidence") or {}
        if local is not None and self.conversation_id == self.active["conversation_id"]:
            local.set_status("unsure")
            local.setToolTip(confidence.get("reason") or "")
            second = self._message_widget("assistant", "", status="streaming")
            second.set_route({**details, "model": details.get("model")})
            self.active["widget"] = second
        self.active.update(text="", dirty=False, figures=None)
        self.statusBar().showMessage(f"Escalated: {details.get('reason')}", 8000)

    def _on_chunk(self, request_id: int, text: str, figures: dict) -> None:
        if not self._is_active(request_id):
            return
        if text:
            self.active["text"] += text
            self.active["dirty"] = True
        if figures:
            self.active["figures"] = figures

    def _repaint_stream(self, *, final: bool = False) -> None:
        """One frame: the text that arrived since the last one, in one render. `final`:
        the answer (or this part of it) is complete; its last paragraph becomes markdown."""
        active = self.active
        if active is None:
            return
        if (active["dirty"] or final) and self.conversation_id == active["conversation_id"]:
            widget = active.get("widget")
            if widget is not None:
                widget.set_text(active["text"], final=final)
            active["dirty"] = False
        active["frames"] = active.get("frames", 0) + 1
        if active["figures"] is not None and active["frames"] % METERS_EVERY == 0:
            self.meters.show_turn(active["figures"])
            active["figures"] = None

    def _finish(self) -> dict | None:
        self._repaint_stream(final=True)
        finished, self.active = self.active, None
        self.repaint_timer.stop()
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        return finished

    def _on_turn_finished(self, request_id: int, figures: dict) -> None:
        if not self._is_active(request_id):
            return
        finished = self._finish()
        self.meters.show_turn(figures, final=True)
        if figures.get("finish_reason") == "length":
            self.statusBar().showMessage("The answer reached its token limit.", 4000)
        if self.conversation_id == finished["conversation_id"]:
            self._sync_last_turn()  # ids, statuses and routes as stored
        self.sidebar.refresh(select=self.conversation_id)

    def _on_turn_failed(self, request_id: int, message: str) -> None:
        if request_id == -1 or not self._is_active(request_id):
            self.load_progress.hide()
            self.statusBar().showMessage(message, 10000)
            return
        finished = self._finish()
        self.load_progress.hide()
        self.statusBar().showMessage(message, 10000)
        widget = finished.get("widget")
        if widget is not None and self.conversation_id == finished["conversation_id"]:
            widget.set_status("error")
            widget.set_text(f"{finished['text']}\n\n> ⚠ {message}".strip())
        self.sidebar.refresh(select=self.conversation_id)

    # -- deleting ----------------------------------------------------------------------
    def _on_deleted(self, conversation_id: str, title: str) -> None:
        self._deleted_banner = conversation_id
        if conversation_id == self.conversation_id:
            self.new_chat()
        self.undo_button.show()
        self.statusBar().showMessage(f"Deleted “{title}”.", 10000)
        QTimer.singleShot(10000, self.undo_button.hide)

    def _undo_delete(self) -> None:
        if self._deleted_banner:
            self.sidebar.undo_delete(self._deleted_banner)
            self.open_conversation(self._deleted_banner)
            self._deleted_banner = None
        self.undo_button.hide()
        self.statusBar().clearMessage()

    # -- settings and shutdown ---------------------------------------------------------
    def open_settings(self) -> None:
        from app.config import save_settings
        from app.gui.dialogs import SettingsDialog
        from app.metering.energy_meter import power_config
        from routing.keys import KeyStore

        dialog = SettingsDialog(self.services.settings, self.services.library.list(),
                                str(self.services.data_dir),
                                KeyStore(self.services.data_dir / "keys-index.json"), self,
                                at_rest=self.services.at_rest.line())
        if dialog.exec():
            dialog.apply_to(self.services.settings)
            save_settings(self.services.settings_path, self.services.settings)
            # Live, no restart: offline mode, the power sensors (a new TDP), the pricer.
            self.services.apply_settings()
            self.meters.set_power_config(power_config(self.services.settings))
            self._refresh_offline_status()
            if dialog.providers_changed:
                self._reload_router("Settings and providers saved.")
            else:
                self.statusBar().showMessage("Settings saved.", 3000)

    def open_costs(self) -> None:
        from app.gui.cost_dialog import open_cost_dialog

        self.cost_dialog = open_cost_dialog(self.services, self)

    def open_audit(self) -> None:
        from app.gui.audit_dialog import open_audit_dialog

        self.audit_dialog = open_audit_dialog(self.services, self)

    def _refresh_offline_status(self) -> None:
        offline = self.services.settings.offline
        self.offline_status.setText("● Offline" if offline else "○ Network allowed")
        self.offline_status.setToolTip("Offline mode: nothing leaves this machine"
                                       if offline else "Local chat never uses the network; "
                                       "offline mode also blocks everything else")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.ui_state.setValue("window/geometry", self.saveGeometry())
        if self.services is None:  # closed while opening: nothing else was started
            self.ui_state.sync()
            super().closeEvent(event)
            return
        self._save_parameters()
        self.ui_state.setValue("window/state", self.saveState())
        self.ui_state.sync()
        if self.active is not None:
            self.workers.worker.cancel(self.active["request_id"])
        self.workers.stop()
        self.sidebar.flush_deletes()
        if self._models_tab is not None:
            self._models_tab.shutdown()
        self.documents_tab.shutdown()
        self.server_tab.shutdown()
        self.meters.close_sensors()
        super().closeEvent(event)
