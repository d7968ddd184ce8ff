"""Render the Documents and Server tabs at 1280x800 into docs/screenshots/.

    .venv/bin/python packaging/render_tab_screenshots.py

Offscreen, on a throwaway data directory, with the embedded model: documents built by the
test corpus (tests/documents/corpus.py) are attached and asked about, a batch job runs to
the end over a folder of memos; then `stillroom serve` is started from the Server tab on a
free loopback port, two users are added, and one of them asks through the `openai` SDK.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 800)


def wait_until(condition, limit_s: float = 600) -> None:  # noqa: ANN001
    """Run the event loop until `condition()` holds (the limit only guards a hang)."""
    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("render_tab_screenshots: gave up waiting")
        QCoreApplication.processEvents()
        time.sleep(0.02)


def settle(seconds: float) -> None:
    start = time.monotonic()
    wait_until(lambda: time.monotonic() - start > seconds)


def save(window, name: str) -> None:  # noqa: ANN001 (MainWindow)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / name
    window.grab().save(str(target))
    print(f"wrote {target.relative_to(ROOT)}")


def render_documents(window, work: Path) -> None:  # noqa: ANN001
    from tests.documents import corpus

    tab = window.documents_tab
    window.tabs.setCurrentWidget(tab)
    files = work / "matter-1182"
    files.mkdir()
    lease = corpus.text_pdf(files / "lease.pdf", corpus.numbered_pages(3))
    corpus.docx_file(files / "board-minutes.docx")
    corpus.eml_with_pdf(files / "counsel-email.eml", lease)
    corpus.scanned_pdf(files / "invoice-scan.pdf")
    corpus.truncated_pdf(files / "damaged.pdf")
    tab.files.add_paths([files])
    wait_until(lambda: tab.files.table.rowCount() == 5)
    tab.question.max_tokens = 60
    tab.question.question.setText("What must the tenant keep in good repair?")
    tab.question.ask()
    wait_until(lambda: not tab.question.asking)

    memos = work / "memos"
    memos.mkdir()
    for number, subject in enumerate(("Delivery schedule for crate 12",
                                      "Advice on the supply contract dispute",
                                      "Minutes of the project call", "Invoice query",
                                      "Settlement draft comments"), start=1):
        (memos / f"memo-{number}.txt").write_text(
            f"{subject}. From: Dana Reyes (counsel). To: Sam Ortiz.\n"
            f"This memo concerns {subject.lower()} and asks for a reply by Friday.\n",
            encoding="utf-8")
    jobs = tab.jobs
    jobs.folder.setText(str(memos))
    jobs.template.setCurrentIndex(jobs.template.findData("summary"))
    jobs.max_tokens.setValue(30)
    jobs.start()
    wait_until(lambda: not jobs.runners)
    jobs.refresh()
    settle(1.5)
    save(window, "documents-tab.png")


def render_server(window) -> None:  # noqa: ANN001
    import openai

    from app.store.server_users import UserLimits

    tab = window.server_tab
    window.tabs.setCurrentWidget(tab)
    tab.port.setValue(0)
    tab.start()
    wait_until(lambda: tab.state in ("running", "stopped"))
    if tab.state != "running":
        raise SystemExit(f"render_tab_screenshots: the server did not start:\n"
                         f"{tab.log.toPlainText()}")
    tab.users.add("dana", UserLimits(tokens_per_day=200_000, requests_per_minute=30))
    key = tab.users.key_dialog.key
    tab.users.key_dialog.close()
    tab.users.add("sam", UserLimits(tokens_per_day=50_000, routes=("local",)))
    tab.users.key_dialog.close()
    client = openai.OpenAI(base_url=tab.url, api_key=key, max_retries=0)
    client.chat.completions.create(model=tab.model_id, max_tokens=40, temperature=0,
                                   messages=[{"role": "user", "content": "Say hello."}])
    wait_until(lambda: tab.figures is not None and tab.figures.usage_today.get("dana")
               and tab.figures.usage_today["dana"].requests == 1)
    settle(1)
    tab.message.clear()
    save(window, "server-tab.png")
    tab.shutdown()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["STILLROOM_HOME"] = tempfile.mkdtemp(prefix="stillroom-shots-")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        os.environ.pop(name, None)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.gui.app import apply_theme
    from app.gui.window import MainWindow
    from app.services import Services

    app = QApplication([])
    apply_theme(app)
    services = Services.open()
    window = MainWindow(services, QSettings(os.environ["STILLROOM_HOME"] + "/ui.ini",
                                            QSettings.Format.IniFormat))
    window.resize(*SIZE)
    window.show()
    render_documents(window, Path(tempfile.mkdtemp(prefix="stillroom-shots-docs-")))
    render_server(window)
    window.close()
    services.close()
    sys.stdout.flush()
    os._exit(0)  # PySide6 may crash tearing down at interpreter exit; the files are written


if __name__ == "__main__":
    sys.exit(main())
