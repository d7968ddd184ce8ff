"""Render screenshots of the real main window into docs/screenshots/ for the README.

    .venv/bin/python packaging/render_screenshots.py

Runs the app offscreen (no display needed) on a throwaway data directory, asks the embedded
model a question, and saves the window once the answer is complete. Then the Models tab:
the Hub it searches and downloads from is the loopback fake Hub of the tests
(tests/inference/fake_hub.py) serving the embedded model under a few repository names, so
the picture needs no network and comes out the same every time.
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


def wait_until(condition, limit_s: float = 300) -> None:  # noqa: ANN001
    """Run the event loop until `condition()` holds (the limit only guards a hang)."""
    import time

    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("render_screenshots: gave up waiting")
        QCoreApplication.processEvents()
        time.sleep(0.02)


def render_models_tab(window) -> None:  # noqa: ANN001 (MainWindow)
    from tests.inference.fake_hub import FakeHub

    embedded = Path(window.services.library.list()[0].path)
    file = "SmolLM2-135M-Instruct-Q4_1.gguf"
    hub = FakeHub().__enter__()
    hub.add("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", {file: embedded}, downloads=48210,
            likes=61)
    hub.add("bartowski/SmolLM2-135M-Instruct-GGUF", {file: embedded}, downloads=15873,
            likes=12)
    hub.add("example-org/SmolLM2-135M-Private-GGUF", {file: embedded}, gated=True, downloads=3021,
            likes=40)
    os.environ["HF_ENDPOINT"] = hub.url
    tab = window.models_tab
    window.tabs.setCurrentWidget(tab)
    search, downloads = tab.search, tab.downloads
    wait_until(lambda: tab.installed.table.rowCount() > 0)
    search.query.setText("smollm2")
    search.search()
    wait_until(lambda: search.result_table.rowCount() == 3)

    # One finished download (it joins the installed list) and one paused half-way.
    search.select_repo("bartowski/SmolLM2-135M-Instruct-GGUF")
    wait_until(lambda: search.fit_of(file) is not None)
    search.download_selected()
    wait_until(lambda: downloads.state_of(file) == "done")
    wait_until(lambda: tab.installed.table.rowCount() == 2)
    search.select_repo("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF")
    wait_until(lambda: search.fit_of(file) is not None)
    hub.hold_after[file] = embedded.stat().st_size // 2
    hub.release.clear()
    search.download_selected()
    wait_until(lambda: len(downloads.jobs) == 2 and all(
        job.state == "running" and job.downloaded_bytes for job in downloads.jobs.values()
        if job.state != "done"))
    downloads.select(next(j.id for j in downloads.jobs.values() if j.state == "running"))
    downloads.command("pause")
    hub.release.set()
    wait_until(lambda: window.services.downloads.wait_idle(0)
               and "paused" in {job.state for job in downloads.jobs.values()})
    tab.installed.table.selectRow(1)
    search.message.clear()
    target = OUT / "models-tab.png"
    window.grab().save(str(target))
    print(f"wrote {target.relative_to(ROOT)}")
    hub.__exit__()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["STILLROOM_HOME"] = tempfile.mkdtemp(prefix="stillroom-shots-")
    # The Models tab's downloads land in a throwaway Hugging Face cache, with no token.
    os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="stillroom-shots-hf-")
    os.environ.pop("HF_HUB_CACHE", None)
    os.environ.pop("STILLROOM_KEY_HUGGINGFACE", None)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
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
    window.resize(1280, 800)
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
    render_models_tab(window)
    window.close()
    services.close()
    sys.stdout.flush()
    os._exit(0)  # PySide6 may crash tearing down at interpreter exit; the file is written


if __name__ == "__main__":
    sys.exit(main())
