"""The window paints before the services open (issue 17): its module imports nothing heavy,
it takes typing while the services open on a worker thread, and a start that cannot open
says why in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from app.gui.app import open_services
from app.gui.window import MainWindow
from app.services import Services
from tests.conftest import REPO_ROOT
from tests.gui.conftest import wait_idle

# What costs seconds to import on two cores, and so must wait for the first paint.
HEAVY = ("app.services", "app.store.conversations", "sqlalchemy", "llama_cpp", "keyring",
         "pyqtgraph", "app.gui.documents_tab", "app.gui.server_tab", "app.gui.meters")


def test_the_window_module_leaves_the_services_for_after_the_first_paint() -> None:
    probe = ("import sys, app.gui.app, app.gui.window; "
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, text=True,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                            check=True)
    assert result.stdout.strip() == "[]"


def test_text_typed_while_opening_is_kept_and_sends_once_open(qtbot, stillroom_home: Path
                                                                ) -> None:
    state = QSettings(str(stillroom_home / "ui-state.ini"), QSettings.Format.IniFormat)
    window = MainWindow(None, state)
    qtbot.addWidget(window)
    window.show()
    assert window.opening is not None
    assert not window.opening.send_button.isEnabled()
    qtbot.keyClicks(window.opening.composer, "What is WAL mode?")

    services = open_services()
    assert isinstance(services, Services)
    try:
        window.attach(services)
        assert window.opening is None
        assert window.composer.toPlainText() == "What is WAL mode?"
        assert window.send_button.isEnabled()
        assert window.sidebar is not None and window.meters is not None
    finally:
        window.close()
        services.close()


def test_enter_pressed_while_opening_sends_once_open(qtbot, stillroom_home: Path) -> None:
    state = QSettings(str(stillroom_home / "ui-state.ini"), QSettings.Format.IniFormat)
    window = MainWindow(None, state)
    qtbot.addWidget(window)
    window.show()
    qtbot.keyClicks(window.opening.composer, "Hello")
    qtbot.keyClick(window.opening.composer, Qt.Key.Key_Return)
    assert window.opening.send_when_open

    services = open_services()
    assert isinstance(services, Services)
    try:
        window.attach(services)
        assert window.generating  # sent, not left in the box
        assert window.composer.toPlainText() == ""
        assert window.chat_view.messages[0].text() == "Hello"
        window.stop()
        wait_idle(qtbot, window)
    finally:
        window.close()
        services.close()


def test_a_window_closed_while_opening_saves_its_geometry(qtbot, stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    state = QSettings(str(stillroom_home / "ui-state.ini"), QSettings.Format.IniFormat)
    window = MainWindow(None, state)
    qtbot.addWidget(window)
    window.show()
    window.close()
    assert state.value("window/geometry") is not None


def test_a_data_directory_that_cannot_be_used_is_one_line(stillroom_home: Path,
                                                          monkeypatch) -> None:
    blocker = stillroom_home.parent / "a-file-not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("STILLROOM_HOME", str(blocker))
    message = open_services()
    assert isinstance(message, str)
    assert message and "\n" not in message


def test_the_app_paints_its_window_before_the_services_are_ready(stillroom_home: Path) -> None:
    environment = {**os.environ, "STILLROOM_HOME": str(stillroom_home),
                   "QT_QPA_PLATFORM": "offscreen", "STILLROOM_STARTED_AT": repr(time.time())}
    result = subprocess.run([sys.executable, "-m", "app.cli.main", "gui"], cwd=REPO_ROOT,
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    reported = [line.split()[0] for line in result.stdout.splitlines()]
    assert reported == ["window-paint-s", "ready-s", "cpu-s"], result.stdout
