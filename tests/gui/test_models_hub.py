"""The Models tab's Hub search and download queue, against the loopback fake Hub (via
HF_ENDPOINT) serving the embedded model, with the real queue and library behind them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.cli.render import human_bytes
from inference.engines.types import ModelInfo
from inference.hub.transfer import partial_path
from tests.inference.fake_hub import FakeHub

REPO = "acme/Smol-GGUF"
GATED = "acme/Locked-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"
HELD = 5 * (1 << 20) + 123  # bytes the Hub sends before holding a transfer
TASK_TIMEOUT_MS = 120_000  # a hang guard for a loaded CI machine, not a speed target


@pytest.fixture
def hub(fake_hub: FakeHub, model: ModelInfo, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    # No token anywhere: not in the environment, and no keyring to find one in.
    monkeypatch.delenv("STILLROOM_KEY_HUGGINGFACE", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    fake_hub.add(REPO, {FILE: Path(model.path), "README.md": b"# Smol\n"}, downloads=1234,
                 likes=7)
    fake_hub.add(GATED, {FILE: Path(model.path)}, gated=True, downloads=12)
    return fake_hub


def search_for(qtbot, window, text: str):
    window.tabs.setCurrentWidget(window.models_tab)
    search = window.models_tab.search
    search.query.setText(text)
    qtbot.keyClick(search.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: search.result_table.rowCount() > 0, timeout=TASK_TIMEOUT_MS)
    return search


def open_repo(qtbot, search, repo_id: str) -> None:
    search.select_repo(repo_id)
    qtbot.waitUntil(lambda: search.fit_of(FILE) is not None, timeout=TASK_TIMEOUT_MS)


def job_of(downloads):
    return next(job for job in downloads.jobs.values() if job.filename == FILE)


def test_search_lists_repos_then_files_with_a_fit(qtbot, hub, window, model) -> None:
    search = search_for(qtbot, window, "acme")
    table = search.result_table
    assert [table.item(row, 0).text() for row in range(2)] == [REPO, GATED]  # by downloads
    assert [table.item(0, column).text() for column in range(4)] == [REPO, "GGUF", "1.2k",
                                                                      "7"]
    assert table.item(1, 4).data(Qt.ItemDataRole.AccessibleTextRole) == "gated"
    assert table.item(0, 4).data(Qt.ItemDataRole.AccessibleTextRole) is None
    # While the header is read (held here), the file is listed, its fit pending, a spinner on.
    hub.hold_after[FILE] = 16
    hub.release.clear()
    search.select_repo(REPO)
    qtbot.waitUntil(lambda: search.file_table.rowCount() == 1, timeout=TASK_TIMEOUT_MS)
    assert search.file_table.item(0, 3).text() == "…" and search.fit_of(FILE) is None
    assert search.files_spinner.isVisibleTo(search) and "headers" in search.files_status.text()
    hub.release.set()
    qtbot.waitUntil(lambda: search.fit_of(FILE) is not None, timeout=TASK_TIMEOUT_MS)
    files = search.file_table
    assert files.rowCount() == 1  # the README is not a model
    assert [files.item(0, column).text() for column in range(4)] == [
        FILE, "Q4_1", human_bytes(model.size_bytes), "fits"]
    assert "KV cache" in files.item(0, 3).toolTip()
    assert search.download_button.isEnabled() and search.files_spinner.isHidden()


def test_download_pause_resume_and_the_model_is_installed(qtbot, hub, window) -> None:
    search = search_for(qtbot, window, "smol")
    open_repo(qtbot, search, REPO)
    downloads = window.models_tab.downloads
    hub.hold_after[FILE] = HELD
    hub.release.clear()
    search.select_file(FILE)
    search.download_button.click()
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "running", timeout=TASK_TIMEOUT_MS)
    downloads.select(job_of(downloads).id)
    assert downloads.pause_button.isEnabled() and not downloads.resume_button.isEnabled()
    downloads.pause_button.click()
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "paused", timeout=TASK_TIMEOUT_MS)
    hub.release.set()  # the held transfer reads on, sees the pause and stops
    queue = window.services.downloads
    qtbot.waitUntil(lambda: queue.wait_idle(0), timeout=TASK_TIMEOUT_MS)
    kept = partial_path(search.selected_model().first).stat().st_size
    assert kept > 0
    qtbot.waitUntil(lambda: job_of(downloads).downloaded_bytes == kept,
                    timeout=TASK_TIMEOUT_MS)
    bar = downloads.table.cellWidget(0, 2)
    assert 0 < bar.value() < bar.maximum() and " of " in bar.format()
    assert downloads.table.item(0, 4).text() == "paused"
    assert downloads.resume_button.isEnabled() and not downloads.pause_button.isEnabled()

    downloads.resume_button.click()
    installed = window.models_tab.installed
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "done", timeout=TASK_TIMEOUT_MS)
    model_id = job_of(downloads).model_id
    assert bar.value() == bar.maximum()
    # It continued from the partial file: a Range request from where the pause left it.
    assert any(re.fullmatch(r"bytes=[1-9]\d*-", request.headers.get("range", ""))
               for request in hub.requests if request.path.endswith(FILE))
    qtbot.waitUntil(lambda: installed._row_of(model_id) is not None, timeout=TASK_TIMEOUT_MS)
    row = installed._row_of(model_id)
    assert installed.table.item(row, 4).text().startswith(f"hf:{REPO}/{FILE}")
    assert window.model_picker.findData(model_id) >= 0


def test_cancel_deletes_the_partial_and_remove_clears_the_row(qtbot, hub, window) -> None:
    search = search_for(qtbot, window, "smol")
    open_repo(qtbot, search, REPO)
    downloads = window.models_tab.downloads
    hub.hold_after[FILE] = HELD
    hub.release.clear()
    search.select_file(FILE)
    search.download_button.click()
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "running", timeout=TASK_TIMEOUT_MS)
    remote = search.selected_model().first
    qtbot.waitUntil(lambda: partial_path(remote).exists(), timeout=TASK_TIMEOUT_MS)
    downloads.select(job_of(downloads).id)
    downloads.cancel_button.click()
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "cancelled", timeout=TASK_TIMEOUT_MS)
    hub.release.set()
    qtbot.waitUntil(lambda: not partial_path(remote).exists(), timeout=TASK_TIMEOUT_MS)
    assert not downloads.cancel_button.isEnabled() and downloads.remove_button.isEnabled()
    downloads.remove_button.click()
    assert downloads.table.rowCount() == 0
    qtbot.waitUntil(lambda: window.services.downloads.jobs() == [], timeout=TASK_TIMEOUT_MS)
    assert len(window.services.library.list()) == 1  # nothing was installed


def test_a_gated_repo_without_a_token_shows_where_to_store_one(qtbot, hub, window,
                                                                monkeypatch) -> None:
    search = search_for(qtbot, window, "acme")
    search.select_repo(GATED)
    qtbot.waitUntil(lambda: search.hint.isVisibleTo(search), timeout=TASK_TIMEOUT_MS)
    assert "Settings → Cloud keys" in search.hint.text() and "huggingface" in search.hint.text()
    assert search.settings_button.isVisibleTo(search)
    assert search.file_table.rowCount() == 0 and not search.download_button.isEnabled()
    assert not any(GATED in request.path for request in hub.requests)  # nothing was asked

    # With the token stored, the same repository lists its files.
    monkeypatch.setenv("STILLROOM_KEY_HUGGINGFACE", hub.token)
    search.select_repo(REPO)
    open_repo(qtbot, search, GATED)
    assert not search.hint.isVisibleTo(search) and search.file_table.rowCount() == 1


def test_a_failed_search_is_one_sentence_inline(qtbot, hub, window) -> None:
    hub.search_status = 500
    window.tabs.setCurrentWidget(window.models_tab)
    search = window.models_tab.search
    search.query.setText("smol")
    search.search_button.click()
    qtbot.waitUntil(lambda: bool(search.message.text()), timeout=TASK_TIMEOUT_MS)
    assert search.message.text().startswith("Could not search the Hub for 'smol'")
    assert "\n" not in search.message.text() and search.search_spinner.isHidden()


def test_a_paused_download_outlives_a_restart_and_finishes(qtbot, hub, windows) -> None:
    first = windows.open()
    search = search_for(qtbot, first, "smol")
    open_repo(qtbot, search, REPO)
    remote = search.selected_model().first
    hub.hold_after[FILE] = HELD
    hub.release.clear()
    search.download_button.click()
    downloads = first.models_tab.downloads
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "running", timeout=TASK_TIMEOUT_MS)
    downloads.select(job_of(downloads).id)
    downloads.pause_button.click()
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "paused", timeout=TASK_TIMEOUT_MS)
    hub.release.set()
    windows.close(first)  # Services.close() closes the queue: its state is saved
    kept = partial_path(remote).stat().st_size
    assert kept > 0

    second = windows.open()
    downloads = second.models_tab.downloads
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "paused", timeout=TASK_TIMEOUT_MS)
    assert job_of(downloads).downloaded_bytes == kept
    downloads.select(job_of(downloads).id)
    downloads.resume_button.click()
    qtbot.waitUntil(lambda: downloads.state_of(FILE) == "done", timeout=TASK_TIMEOUT_MS)
    second.tabs.setCurrentWidget(second.models_tab)
    model_id = job_of(downloads).model_id
    qtbot.waitUntil(lambda: second.models_tab.installed._row_of(model_id) is not None,
                    timeout=TASK_TIMEOUT_MS)


def test_an_unreadable_download_list_is_one_sentence_not_a_crash(qtbot, hub, windows,
                                                                  stillroom_home) -> None:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    state = stillroom_home / "downloads.json"
    state.write_text("{not json", encoding="utf-8")
    window = windows.open()
    downloads = window.models_tab.downloads
    qtbot.waitUntil(lambda: downloads.queue is not None, timeout=TASK_TIMEOUT_MS)
    # Fail closed and keep going: no jobs from the damaged list, its bytes kept aside.
    assert str(state) in downloads.message.text() and "\n" not in downloads.message.text()
    assert [p.read_text() for p in stillroom_home.glob("downloads.json.bad-*")] == ["{not json"]
    search = search_for(qtbot, window, "smol")
    open_repo(qtbot, search, REPO)
    search.download_button.click()  # downloads still work
    qtbot.waitUntil(lambda: downloads.table.rowCount() == 1, timeout=TASK_TIMEOUT_MS)


def test_offline_mode_is_said_at_once_not_after_retries(qtbot, hub, window,
                                                       monkeypatch) -> None:
    from routing import offline

    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")  # not loopback: refused
    offline.enable()
    try:
        window.tabs.setCurrentWidget(window.models_tab)
        search = window.models_tab.search
        search.query.setText("smol")
        search.search_button.click()
        qtbot.waitUntil(lambda: bool(search.message.text()), timeout=TASK_TIMEOUT_MS)
    finally:
        offline.disable()
    assert search.message.text().startswith("Offline mode is on")
    assert "Settings → Privacy" in search.message.text()


def test_a_split_model_is_listed_once_and_not_queued(qtbot, hub, window, model) -> None:
    first, second = "Big-Q4_1-00001-of-00002.gguf", "Big-Q4_1-00002-of-00002.gguf"
    hub.add("acme/Split-GGUF", {first: Path(model.path), second: b"GGUF" + bytes(60)},
            downloads=1)
    search = search_for(qtbot, window, "split")
    search.select_repo("acme/Split-GGUF")
    qtbot.waitUntil(lambda: search.fit_of(first) is not None, timeout=TASK_TIMEOUT_MS)
    assert search.file_table.rowCount() == 1
    assert search.file_table.item(0, 0).text() == f"{first} (+1 part)"
    assert search.file_table.item(0, 2).text() == human_bytes(model.size_bytes + 64)
    search.download_button.click()
    assert "split into 2 files" in search.message.text()
    assert window.models_tab.downloads.table.rowCount() == 0
