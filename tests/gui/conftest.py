"""The desktop window under pytest-qt, offscreen, over the real services and model."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.gui.window import MainWindow
from app.services import Services

ANSWER_TIMEOUT_MS = 180_000  # a hang guard for a loaded CI machine, not a speed target
ESSAY = "Write a 2000-word essay on the history of the Roman Empire, with many sections."


class WindowFactory:
    def __init__(self, qtbot, home: Path) -> None:
        self.qtbot = qtbot
        self.home = home
        self.opened: list[tuple[MainWindow, Services]] = []

    def open(self) -> MainWindow:
        services = Services.open()
        state = QSettings(str(self.home / "ui-state.ini"), QSettings.Format.IniFormat)
        window = MainWindow(services, state)
        self.qtbot.addWidget(window)
        window.show()
        self.opened.append((window, services))
        return window

    def close(self, window: MainWindow) -> None:
        for index, (opened, services) in enumerate(self.opened):
            if opened is window:
                window.close()
                services.close()
                del self.opened[index]
                return


@pytest.fixture
def windows(qtbot, stillroom_home: Path):
    factory = WindowFactory(qtbot, stillroom_home)
    yield factory
    for window, _services in list(factory.opened):
        factory.close(window)


@pytest.fixture
def window(windows: WindowFactory) -> MainWindow:
    return windows.open()


def wait_idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.generating, timeout=ANSWER_TIMEOUT_MS)


def ask(qtbot, window: MainWindow, text: str, max_tokens: int = 24) -> None:
    window.temperature.setValue(0)
    window.max_tokens.setValue(max_tokens)
    window.composer.setPlainText(text)
    window.send()
    assert window.generating
    wait_idle(qtbot, window)
