"""Start the desktop app: QApplication, theme, the shared services, the main window."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from app.gui.theme import apply_theme

__all__ = ["apply_theme", "run_gui"]


def run_gui(argv: list[str] | None = None) -> int:
    started = float(os.environ.get("STILLROOM_STARTED_AT", "0")) or None
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Stillroom")
    app.setOrganizationName("Stillroom")
    apply_theme(app)

    from app.cli.errors import database_errors, describe_database_error, user_facing_errors
    from app.services import Services

    try:
        services = Services.open()
    except user_facing_errors() as exc:
        QMessageBox.critical(None, "Stillroom cannot start", str(exc))
        return 2
    except database_errors() as exc:  # a damaged page: checked and explained, no crash
        QMessageBox.critical(None, "Stillroom cannot start", describe_database_error(exc))
        return 2
    from app.gui.window import MainWindow

    ui_state = QSettings(str(services.data_dir / "ui-state.ini"), QSettings.Format.IniFormat)
    window = MainWindow(services, ui_state)  # its banner names any file it could not use
    for notice in services.notices:  # e.g. the store was just encrypted at rest
        window.statusBar().showMessage(notice, 15000)
    if started is not None:
        _report_first_paint(window, started)
    window.show()
    try:
        return app.exec()
    finally:
        services.close()


def _report_first_paint(window, started: float) -> None:  # noqa: ANN001
    """For bench/gui_startup.py: print the time to the first painted frame, then quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
                self.seen = True
                print(f"first-paint-s {time.time() - started:.4f}", flush=True)
                QTimer.singleShot(0, window.close)
            return False

    window._first_paint = FirstPaint(window)
    window.installEventFilter(window._first_paint)
