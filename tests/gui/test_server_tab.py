"""The Server tab over the real services: the office server started from the tab in the
window's own process on a free loopback port (one model and one scheduler for the desktop's
chat and the server's clients), users added and keys issued there, the official `openai`
SDK as the client, the live figures moving, and the server stopped again."""

from __future__ import annotations

import openai
import pytest

from inference.engines.batching import BatchedLlamaEngine
from tests.gui.conftest import ANSWER_TIMEOUT_MS
from tests.gui.conftest import ask as ask_in_window
from tests.server.conftest import MODEL, PROXIES


def ask(url: str, key: str) -> openai.types.chat.ChatCompletion:
    client = openai.OpenAI(base_url=url, api_key=key, max_retries=0)
    return client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello."}], max_tokens=6,
        temperature=0)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXIES:  # loopback only: a proxy from the environment must not be used
        monkeypatch.delenv(name, raising=False)


def test_empty_server_tab_says_what_to_do(window) -> None:
    tab = window.server_tab
    window.tabs.setCurrentWidget(tab)
    assert tab.state == "stopped" and "Start" in tab.status.text()
    assert tab.users.stack.currentWidget() is tab.users.empty
    assert "Add user" in tab.users.empty.text()
    assert not tab.users.issue_button.isEnabled()


def test_serve_from_the_tab_with_a_user_and_a_key(qtbot, window) -> None:
    tab = window.server_tab
    window.tabs.setCurrentWidget(tab)
    tab.port.setValue(0)  # any free port
    tab.slots.setValue(2)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.state in ("running", "stopped"), timeout=ANSWER_TIMEOUT_MS)
    assert tab.state == "running", tab.log.toPlainText()
    assert tab.url.startswith("http://127.0.0.1:") and tab.url.endswith("/v1")
    assert f"Serving {MODEL} at {tab.url}" in tab.log.toPlainText()
    assert tab.url in tab.snippet.toPlainText() and 'api_key="none"' in tab.snippet.toPlainText()
    assert "Starting the server in this window (port any free, 2 slots)" in \
        tab.log.toPlainText()
    assert not tab.port.isEnabled()  # settings are fixed while it runs

    # No users yet: this computer may call it without a key, and /metrics is open. A
    # first reading, then an answer: the next reading's counters have moved.
    qtbot.waitUntil(lambda: tab.figures is not None, timeout=30_000)
    assert tab.figures.source == "metrics" and not tab.figures.requests_per_min
    assert ask(tab.url, "none").choices[0].message.content is not None
    qtbot.waitUntil(lambda: (tab.figures.requests_per_min or 0) > 0, timeout=30_000)
    assert tab.figure_labels["ready"].text() == "loaded"
    assert float(tab.figure_labels["tps"].text()) > 0

    dialog = tab.users.open_add_dialog()
    dialog.name.setText("anna")
    dialog.tokens_per_day.setValue(50_000)
    dialog.accept()
    key = tab.users.key_dialog.key
    assert key.startswith("sr-") and tab.users.key_dialog.field.text() == key
    assert tab.users.selected_name() == "anna"
    tab.users.key_dialog.copy()
    from PySide6.QtGui import QGuiApplication
    assert QGuiApplication.clipboard().text() == key

    with pytest.raises(openai.AuthenticationError):
        ask(tab.url, "none")  # a user exists: no key, no answer
    reply = ask(tab.url, key)
    used = reply.usage.total_tokens
    # /metrics now needs an admin key; the figures come from the ledger's user rows.
    qtbot.waitUntil(lambda: tab.figures is not None and tab.figures.source == "ledger"
                    and "anna" in tab.figures.usage_today
                    and tab.figures.usage_today["anna"].requests == 1, timeout=30_000)
    assert tab.figures.usage_today["anna"].tokens == used
    assert (tab.figures.requests_per_min or 0) > 0
    row = next(r for r in range(tab.users.table.rowCount())
               if tab.users.table.item(r, 0).text() == "anna")
    assert tab.users.table.item(row, 1).text() == "1"  # requests today
    assert tab.users.table.item(row, 2).text() == str(used)  # tokens today
    assert tab.users.table.item(row, 3).text() == "50000"  # the quota
    assert 'api_key="YOUR KEY"' in tab.snippet.toPlainText()

    tab.users.revoke_key()
    with pytest.raises(openai.AuthenticationError):
        ask(tab.url, key)
    tab.users.issue_key()
    fresh = tab.users.key_dialog.key
    assert fresh != key and ask(tab.url, fresh).usage.total_tokens > 0

    tab.start_button.click()  # Stop
    qtbot.waitUntil(lambda: tab.state == "stopped", timeout=ANSWER_TIMEOUT_MS)
    assert tab.hosted is None and tab.status.text().startswith("Stopped")
    assert tab.port.isEnabled()
    with pytest.raises(openai.APIConnectionError):
        ask(f"http://127.0.0.1:{_port(tab.log.toPlainText())}/v1", fresh)


def test_the_desktop_chat_and_the_server_share_one_model(qtbot, window) -> None:
    tab = window.server_tab
    tab.port.setValue(0)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.state in ("running", "stopped"), timeout=ANSWER_TIMEOUT_MS)
    assert tab.state == "running", tab.log.toPlainText()
    ask_in_window(qtbot, window, "Hello there.", max_tokens=6)  # the desktop's own turn
    assert ask(tab.url, "none").choices[0].message.content is not None
    engines = window.services.engines
    assert [m.id for m in engines.loaded()] == [MODEL]
    assert isinstance(engines.engine_for(engines.loaded()[0]), BatchedLlamaEngine)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.state == "stopped", timeout=ANSWER_TIMEOUT_MS)
    assert engines.batching is None  # alone again: one stream at a time from the next turn


def test_a_port_in_use_is_one_line_in_the_tab(qtbot, window) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        tab = window.server_tab
        tab.port.setValue(taken.getsockname()[1])
        tab.start_button.click()
        qtbot.waitUntil(lambda: tab.state == "stopped", timeout=ANSWER_TIMEOUT_MS)
        assert "cannot listen there" in tab.status.text() and "\n" not in tab.status.text()
        assert window.services.engines.batching is None  # the share ended with the start
    finally:
        taken.close()


def test_a_refusal_of_the_server_reaches_the_tab(qtbot, window) -> None:
    """The CLI's own one-line refusal (no users, yet the office network) is what the tab
    says when the server does not start."""
    tab = window.server_tab
    tab.port.setValue(0)
    tab.network.setChecked(True)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.state == "stopped", timeout=ANSWER_TIMEOUT_MS)
    assert "add a user first" in tab.status.text()


def _port(log: str) -> str:
    line = next(line for line in log.splitlines() if line.startswith("Serving "))
    return line.split(" at ", 1)[1].split()[0].rsplit(":", 1)[1].split("/")[0]
