"""Issue #13, section 1, in the real window: a broken policy or settings file opens the app
(local only, offline on) under a banner that names the file and opens it; after a failed
cloud attempt the route badge says Local, with the failed attempt in its tooltip.

Real parts: Services.open over real files, the embedded model, a loopback OpenAI-compatible
server for the cloud. Opening a file goes through Qt's own URL-handler hook
(QDesktopServices.setUrlHandler), which is where the desktop would take over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from app.gui.window import MainWindow
from routing.providers import ProviderStore, make_provider
from routing.router import PROVIDERS_FILE
from tests.gui.conftest import ask
from tests.routing.fake_openai_server import AuthFailed, FakeOpenAIServer

KEY = "sk-gui-failclosed-00112233445566"
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
CLOUD_DEFAULT = 'version = 1\n[defaults]\ntarget = "cloud"\n'


class OpenedUrls(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


class BadgeRecorder(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.seen: list[str] = []

    @Slot(int, str, dict)
    def record(self, _request_id: int, _text: str, _figures: dict) -> None:
        active = self.window.active
        if active is not None and active.get("widget") is not None:
            self.seen.append(active["widget"].badge.text())


@pytest.fixture
def opened_urls() -> Iterator[OpenedUrls]:
    handler = OpenedUrls()
    QDesktopServices.setUrlHandler("file", handler, "open")
    yield handler
    QDesktopServices.unsetUrlHandler("file")


@pytest.fixture
def cloud(stillroom_home: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[FakeOpenAIServer]:
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STILLROOM_KEY_FAKECLOUD", KEY)
    with FakeOpenAIServer() as server:
        stillroom_home.mkdir(parents=True, exist_ok=True)
        ProviderStore(stillroom_home / PROVIDERS_FILE).add(
            make_provider("fakecloud", base_url=server.base_url, models=["gpt-4o-mini"]))
        yield server


def test_a_broken_settings_file_opens_under_a_banner_that_opens_the_file(
        qtbot, stillroom_home: Path, windows, opened_urls: OpenedUrls) -> None:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    settings = stillroom_home / "settings.json"
    settings.write_text('{"offline": false, "max_tokens": 1', encoding="utf-8")
    window = windows.open()
    banner = window.problems_banner
    assert banner.isVisible() and window.services.settings.offline is True
    (label,) = banner.labels
    assert str(settings) in label.text() and "offline mode stays on" in label.text()
    (button,) = banner.buttons
    assert button.text() == "Open file"
    button.click()
    assert [url.toLocalFile() for url in opened_urls.urls] == [str(settings)]


def test_a_broken_policy_opens_local_only_and_the_editor_fixes_it(
        qtbot, stillroom_home: Path, cloud: FakeOpenAIServer, windows) -> None:
    policy = stillroom_home / "policy.toml"
    policy.write_text('version = 1\n[defaults]\ntarget = 5\n', encoding="utf-8")
    window = windows.open()  # a QMessageBox "cannot start" before: no window at all
    banner = window.problems_banner
    assert banner.isVisible()
    (label,) = banner.labels
    assert str(policy) in label.text() and "Only this machine answers" in label.text()
    ask(qtbot, window, "Say hi.", max_tokens=6)
    answer = window.chat_view.messages[-1]
    assert answer.badge.text().startswith("Local") and cloud.requests == []

    def fix_and_save() -> None:
        dialog = QApplication.activeModalWidget()
        dialog.editor.setPlainText(CLOUD_DEFAULT)
        dialog.save()

    QTimer.singleShot(0, fix_and_save)
    (button,) = banner.buttons
    assert button.text() == "Edit policy"
    button.click()  # the policy editor, modal, saved by fix_and_save
    assert not banner.isVisible() and window.services.router.closed_reason is None
    assert window.services.router.providers[0].name == "fakecloud"


def test_after_a_failed_cloud_attempt_the_badge_says_local(
        qtbot, stillroom_home: Path, cloud: FakeOpenAIServer, windows) -> None:
    (stillroom_home / "policy.toml").write_text(CLOUD_DEFAULT, encoding="utf-8")
    cloud.script(AuthFailed())
    window = windows.open()
    badges = BadgeRecorder(window)
    # A QObject on the UI thread: queued like the window's own slots, so it sees the badge
    # exactly as the user did when each piece of text arrived.
    window.workers.worker.sig_chunk.connect(badges.record)
    ask(qtbot, window, "Say hi.", max_tokens=8)
    assert len(cloud.requests) == 1  # one attempt: a refused key is not retried
    assert badges.seen and all(text.startswith("Local") for text in badges.seen), badges.seen
    answer = window.chat_view.messages[-1]
    assert answer.badge.text().startswith("Local")
    assert "Attempt failed: fakecloud refused the API key" in answer.badge.toolTip()
