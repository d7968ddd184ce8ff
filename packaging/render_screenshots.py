"""Render screenshots of the real main window into docs/screenshots/ for the README.

    .venv/bin/python packaging/render_screenshots.py

Runs the app offscreen (no display needed) on a throwaway data directory, asks the embedded
model a question, and saves the window once the answer is complete.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
QUESTION = "Write a Python function that reverses a string, with a short explanation."


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["STILLROOM_HOME"] = tempfile.mkdtemp(prefix="stillroom-shots-")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui.app import apply_theme
    from app.gui.window import MainWindow
    from app.services import Services

    app = QApplication([])
    apply_theme(app)
    services = Services.open()
    for title, text in (("Lease renewal checklist", "What should I check before renewing?"),
                        ("Trip to Lisbon", "Plan three days in Lisbon.")):
        conversation = services.store.create(model_id=None, system_prompt=None, title=title)
        services.store.add_user_message(conversation.id, text)
    window = MainWindow(services, QSettings(os.environ["STILLROOM_HOME"] + "/ui.ini",
                                            QSettings.Format.IniFormat))
    window.resize(1440, 900)
    window.show()
    window.temperature.setValue(0)
    window.max_tokens.setValue(220)
    window.composer.setPlainText(QUESTION)
    loop = QEventLoop()
    window.workers.worker.sig_turn_finished.connect(lambda *_: QTimer.singleShot(1500,
                                                                                 loop.quit))
    QTimer.singleShot(0, window.send)
    loop.exec()
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / "main-window.png"
    window.grab().save(str(target))
    print(f"wrote {target.relative_to(ROOT)}")
    window.close()
    services.close()
    sys.stdout.flush()
    os._exit(0)  # PySide6 may crash tearing down at interpreter exit; the file is written


if __name__ == "__main__":
    sys.exit(main())
