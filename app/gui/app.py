"""Start the desktop app: the main window first, then the services open behind it.

The window paints within a few hundred milliseconds of Qt's own import: its chat layout
and a message box the user can type in. The store, the router, the engines and the GUI
modules that need them (seconds of imports on two busy cores) open on a worker thread
meanwhile; `MainWindow.attach` then fills the window in on the UI thread.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from app.gui.background import run_in_background
from app.gui.theme import apply_theme

if TYPE_CHECKING:
    from app.services import Services

__all__ = ["apply_theme", "open_services", "run_gui"]


def open_services() -> Services | str:
    """Services.open and the window's own modules, for a worker thread: the services, or
    one sentence for the user saying why Stillroom cannot start."""
    from app.cli.errors import database_errors, describe_database_error, user_facing_errors
    from app.services import Services

    try:
        services = Services.open()
    except user_facing_errors() as exc:
        return str(exc)
    except database_errors() as exc:  # a damaged page: checked and explained, no crash
        return describe_database_error(exc)
    from app.gui.window import AFTER_FIRST_PAINT

    for module in AFTER_FIRST_PAINT:  # imported here, so attach() on the UI thread is short
        importlib.import_module(module)
    return services


def run_gui(argv: list[str] | None = None) -> int:
    started = float(os.environ.get("STILLROOM_STARTED_AT", "0")) or None
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Stillroom")
    app.setOrganizationName("Stillroom")
    apply_theme(app)
    from app.config import data_dir
    from app.gui.window import MainWindow

    ui_state = QSettings(str(data_dir() / "ui-state.ini"), QSettings.Format.IniFormat)
    window = MainWindow(None, ui_state)
    if started is not None:
        _report_paint(window, started, "window-paint-s")
    window.show()
    opened: list[Services] = []
    exit_code = [0]

    def on_opened(result: Services | str) -> None:
        if isinstance(result, str):
            QMessageBox.critical(window, "Stillroom cannot start", result)
            exit_code[0] = 2
            window.close()
            return
        opened.append(result)
        window.attach(result)  # its banner names any file it could not use
        for notice in result.notices:  # e.g. the store was just encrypted at rest
            window.statusBar().showMessage(notice, 15000)
        if started is not None:  # bench/gui_startup.py: the figures, then quit
            print(f"ready-s {time.time() - started:.4f}", flush=True)
            _report_cpu()
            window.close()

    def on_failed(message: str) -> None:  # a bug, not a user's problem: still one line
        on_opened(message)

    run_in_background(window, open_services, on_opened, on_failed, name="open-services")
    try:
        code = app.exec()
        return exit_code[0] or code
    finally:
        for services in opened:
            services.close()


def _report_cpu() -> None:
    """For bench/gui_startup.py: this process's CPU seconds so far (a shared machine's
    wall clock says as much about the neighbours as about us)."""
    times = os.times()
    print(f"cpu-s {times.user + times.system:.4f}", flush=True)


def _report_paint(widget, started: float, label: str) -> None:  # noqa: ANN001
    """For bench/gui_startup.py: print the time to `widget`'s first painted frame."""
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
                self.seen = True
                print(f"{label} {time.time() - started:.4f}", flush=True)
            return False

    widget._first_paint = FirstPaint(widget)
    widget.installEventFilter(widget._first_paint)
