"""Start the desktop app: QApplication, theme, the shared services, the main window."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

STYLE = """
#userMessage { border-radius: 8px; background: palette(alternate-base); }
#assistantMessage { border-radius: 8px; }
#routeBadge { border-radius: 8px; padding: 1px 8px; font-size: 11px;
              background: rgba(46, 139, 87, 40); }
#messageStatus, #meterSource, #codeLanguage { color: gray; font-size: 11px; }
#meterValue { font-weight: 600; }
#codeBlock { border-radius: 6px; }
#tour { border: 1px solid palette(mid); border-radius: 6px; }
#emptyState { color: gray; padding: 40px; }
"""


def apply_theme(app: QApplication) -> None:
    """Fusion with the OS light/dark choice, re-applied when the OS switches."""
    app.setStyle("Fusion")

    def follow() -> None:
        scheme = QGuiApplication.styleHints().colorScheme()
        palette = QPalette()
        if scheme == Qt.ColorScheme.Dark:
            for role, colour in ((QPalette.ColorRole.Window, "#202124"),
                                 (QPalette.ColorRole.WindowText, "#e8eaed"),
                                 (QPalette.ColorRole.Base, "#171717"),
                                 (QPalette.ColorRole.AlternateBase, "#2a2b2e"),
                                 (QPalette.ColorRole.Text, "#e8eaed"),
                                 (QPalette.ColorRole.Button, "#2a2b2e"),
                                 (QPalette.ColorRole.ButtonText, "#e8eaed"),
                                 (QPalette.ColorRole.Highlight, "#3b78e7"),
                                 (QPalette.ColorRole.HighlightedText, "#ffffff"),
                                 (QPalette.ColorRole.ToolTipBase, "#2a2b2e"),
                                 (QPalette.ColorRole.ToolTipText, "#e8eaed")):
                palette.setColor(role, QColor(colour))
        else:
            palette = app.style().standardPalette()
        app.setPalette(palette)

    follow()
    QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: follow())
    app.setStyleSheet(STYLE)


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
