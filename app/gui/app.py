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
    # Something on screen at once; the services' imports and the window follow behind it.
    from app.gui.splash import make_splash

    splash = make_splash()
    if started is not None:
        _report_paint(splash, started, "first-paint-s")
    splash.show()
    app.processEvents()

    from app.cli.errors import database_errors, describe_database_error, user_facing_errors
    from app.services import Services

    try:
        services = Services.open()
    except user_facing_errors() as exc:
        splash.close()
        QMessageBox.critical(None, "Stillroom cannot start", str(exc))
        return 2
    except database_errors() as exc:  # a damaged page: checked and explained, no crash
        splash.close()
        QMessageBox.critical(None, "Stillroom cannot start", describe_database_error(exc))
        return 2
    from app.gui.window import MainWindow

    ui_state = QSettings(str(services.data_dir / "ui-state.ini"), QSettings.Format.IniFormat)
    window = MainWindow(services, ui_state)  # its banner names any file it could not use
    for notice in services.notices:  # e.g. the store was just encrypted at rest
        window.statusBar().showMessage(notice, 15000)
    if started is not None:
        _report_paint(window, started, "window-paint-s", quit_after=True)
    window.show()
    splash.finish(window)
    try:
        return app.exec()
    finally:
        services.close()


def _report_paint(widget, started: float, label: str, quit_after: bool = False) -> None:  # noqa: ANN001
    """For bench/gui_startup.py: print the time to `widget`'s first painted frame (the
    splash: the first pixels a user sees; the window: ready to use), then quit after the
    window's."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
                self.seen = True
                print(f"{label} {time.time() - started:.4f}", flush=True)
                if quit_after:
                    QTimer.singleShot(0, widget.close)
            return False

    widget._first_paint = FirstPaint(widget)
    widget.installEventFilter(widget._first_paint)
