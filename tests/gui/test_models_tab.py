"""The Models tab driven as a user would: the real library, real headers, real quantizer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from inference.models.library import embedded_model

TASK_TIMEOUT_MS = 120_000  # a hang guard for a loaded CI machine, not a speed target


def open_models(qtbot, window):
    window.tabs.setCurrentWidget(window.models_tab)
    installed = window.models_tab.installed
    qtbot.waitUntil(lambda: installed.table.rowCount() > 0, timeout=TASK_TIMEOUT_MS)
    return installed


def test_installed_list_shows_the_embedded_model_with_a_fit_badge(qtbot, window) -> None:
    installed = open_models(qtbot, window)
    embedded = embedded_model()
    assert installed.table.item(0, 0).text() == embedded.name
    assert installed.table.item(0, 1).text() == "GGUF"
    assert installed.table.item(0, 2).text() == "Q4_1"
    qtbot.waitUntil(lambda: installed.fit_of(embedded.id) is not None,
                    timeout=TASK_TIMEOUT_MS)
    badge = installed.table.item(0, 5)
    # A 135M model fits any machine that runs the test suite.
    assert badge.text() == "fits"
    assert "GiB available" in badge.toolTip() and "KV cache" in badge.toolTip()
    assert not installed.remove_button.isEnabled()  # the embedded model cannot be removed


def test_chat_with_it_switches_to_the_chat_with_that_model(qtbot, window) -> None:
    installed = open_models(qtbot, window)
    installed.table.selectRow(0)
    qtbot.mouseClick(installed.chat_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentIndex() == 0
    assert window.model_picker.currentData() == embedded_model().id


def test_quantize_dialog_registers_the_result_and_lists_it(qtbot, window,
                                                           f16_model: Path) -> None:
    model = window.services.library.register(f16_model, source="test F16")
    window.models_tab.sig_library_changed.emit()
    installed = open_models(qtbot, window)
    qtbot.waitUntil(lambda: installed.table.rowCount() == 2, timeout=TASK_TIMEOUT_MS)
    installed.select(model.id)
    installed.quantize_button.click()
    dialog = window.models_tab.quantize_dialog
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=TASK_TIMEOUT_MS)
    assert dialog.type_name() == "Q4_K_M" and not dialog.requantize.isVisibleTo(dialog)
    dialog.type_box.setCurrentIndex(dialog.type_box.findData("Q8_0"))
    output = Path(dialog.output.text())
    assert output == window.services.data_dir / "models" / "SmolLM2-135M-Instruct.Q8_0.gguf"
    with qtbot.waitSignal(dialog.sig_registered, timeout=TASK_TIMEOUT_MS) as registered:
        dialog.start_button.click()
    new_id = registered.args[0]
    assert "Q8_0" in dialog.status.text() and "added to the library" in dialog.status.text()
    assert output.exists()
    qtbot.waitUntil(lambda: installed.table.rowCount() == 3, timeout=TASK_TIMEOUT_MS)
    row = installed._row_of(new_id)
    assert installed.table.item(row, 2).text() == "Q8_0"
    assert installed.table.item(row, 4).text().startswith("quantized from")
    qtbot.waitUntil(lambda: installed.fit_of(new_id) == "fits", timeout=TASK_TIMEOUT_MS)
    # The chat's model picker offers it too.
    assert window.model_picker.findData(new_id) >= 0

    # Stillroom made this file, so Remove offers to delete it as well.
    installed.select(new_id)
    installed.remove_button.click()
    box = installed.confirm_box
    assert "Stillroom made its file" in box.text()
    box.checkBox().setChecked(True)
    box.button(box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: installed.table.rowCount() == 2, timeout=TASK_TIMEOUT_MS)
    assert not output.exists() and "deleted" in installed.message.text()


def test_cancelling_a_quantization_keeps_nothing(qtbot, window, f16_model: Path) -> None:
    model = window.services.library.register(f16_model, source="test F16")
    installed = open_models(qtbot, window)
    qtbot.waitUntil(lambda: installed.table.rowCount() == 2, timeout=TASK_TIMEOUT_MS)
    installed.select(model.id)
    installed.quantize_button.click()
    dialog = window.models_tab.quantize_dialog
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=TASK_TIMEOUT_MS)
    output = Path(dialog.output.text())
    dialog.start_button.click()
    assert dialog.running
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=TASK_TIMEOUT_MS)
    assert "cancelled" in dialog.status.text()
    assert not output.exists() and not list(output.parent.glob("*.partial"))
    assert len(window.services.library.list()) == 2


def test_remove_asks_then_forgets_and_keeps_the_file(qtbot, window, f16_model: Path) -> None:
    model = window.services.library.register(f16_model, source="test F16")
    installed = open_models(qtbot, window)
    qtbot.waitUntil(lambda: installed.table.rowCount() == 2, timeout=TASK_TIMEOUT_MS)
    installed.select(model.id)
    assert installed.remove_button.isEnabled()
    installed.remove_button.click()
    box = installed.confirm_box
    assert box is not None and "registered by reference" in box.text()
    assert box.checkBox() is None  # not Stillroom's file: there is no offer to delete it
    box.button(box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: installed.table.rowCount() == 1, timeout=TASK_TIMEOUT_MS)
    assert Path(model.path).exists()
    assert "Removed" in installed.message.text()
    assert window.model_picker.findData(model.id) < 0


def test_import_finds_another_apps_model_and_lists_it(qtbot, window, tmp_path: Path,
                                                      monkeypatch) -> None:
    from tests.inference.model_trees import lmstudio_model

    # A home with an LM Studio folder holding one (tiny, real) GGUF and nothing else.
    home = tmp_path / "user-home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    lmstudio_model(home, "acme", "Tiny-GGUF", "tiny-f16.gguf")
    installed = open_models(qtbot, window)
    installed.import_button.import_from(None)
    qtbot.waitUntil(lambda: installed.table.rowCount() == 2, timeout=TASK_TIMEOUT_MS)
    assert installed.message.text().startswith("Imported 1 model (")
    model_id = installed.models[1].id
    assert "LM Studio" in installed.table.item(1, 4).text()
    # Its header describes no attention layers, so nobody can say whether it fits.
    qtbot.waitUntil(lambda: installed.fit_of(model_id) == "unknown", timeout=TASK_TIMEOUT_MS)
    assert "attention layers" in installed.table.item(1, 5).toolTip()
    assert window.model_picker.findData(model_id) >= 0

    installed.import_button.import_from(None)  # again: nothing new
    qtbot.waitUntil(lambda: "already in the library" in installed.message.text(),
                    timeout=TASK_TIMEOUT_MS)


def test_tab_walks_the_controls_in_reading_order(qtbot, window) -> None:
    open_models(qtbot, window)
    tab = window.models_tab
    start = tab.installed.table
    order, widget = [], start.nextInFocusChain()
    while widget is not start:
        if (widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisibleTo(window)
                and tab.isAncestorOf(widget)):
            order.append(widget.accessibleName())
        widget = widget.nextInFocusChain()
    assert order == [
        "Chat with it", "Quantize", "Remove", "Copy path", "Import models",
        "Hub search", "Search the Hub", "Hub search results", "Model files in the repository",
        "Download the selected file", "Download queue", "Pause download", "Resume download",
        "Cancel download", "Remove download"]
    assert all(name for name in order)  # every control has an accessible name


def test_an_mlx_model_is_listed_with_unknown_fit_and_no_quantize(qtbot, windows,
                                                                  stillroom_home: Path,
                                                                  tmp_path: Path) -> None:
    """An MLX folder in the library (as the MLX engine registers them): listed with its
    format; the fit is unknown (this folder is empty), saying why; llama.cpp's quantizer is
    not offered."""
    import json
    from dataclasses import asdict

    from inference.engines.types import ModelInfo

    folder = tmp_path / "Smol-mlx-4bit"
    folder.mkdir()
    mlx = ModelInfo(id="smol-mlx-4bit", name="Smol-mlx-4bit", path=str(folder), format="mlx",
                    quantization="4bit", size_bytes=80_000_000, sha256=None,
                    extra={"source": "quantized from Smol (mlx-4bit)"})
    stillroom_home.mkdir(parents=True, exist_ok=True)
    (stillroom_home / "models.json").write_text(json.dumps(
        {"version": 1, "models": [asdict(mlx)], "verified": {}}), encoding="utf-8")
    window = windows.open()
    installed = open_models(qtbot, window)
    qtbot.waitUntil(lambda: installed.table.rowCount() == 2, timeout=TASK_TIMEOUT_MS)
    assert installed.table.item(1, 1).text() == "MLX"
    qtbot.waitUntil(lambda: installed.fit_of(mlx.id) == "unknown", timeout=TASK_TIMEOUT_MS)
    assert "no config.json" in installed.table.item(1, 5).toolTip()  # an empty folder
    installed.select(mlx.id)
    assert installed.chat_button.isEnabled() and not installed.quantize_button.isEnabled()


def test_closing_the_window_stops_a_running_quantization(qtbot, windows,
                                                         f16_model: Path) -> None:
    window = windows.open()
    model = window.services.library.register(f16_model, source="test F16")
    installed = open_models(qtbot, window)
    qtbot.waitUntil(lambda: installed._row_of(model.id) is not None, timeout=TASK_TIMEOUT_MS)
    installed.select(model.id)
    installed.quantize_button.click()
    dialog = window.models_tab.quantize_dialog
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=TASK_TIMEOUT_MS)
    output = Path(dialog.output.text())
    dialog.start_button.click()
    # _job is set just before its child process starts (both under the dialog's lock).
    qtbot.waitUntil(lambda: dialog._job is not None and dialog._job._process is not None,
                    timeout=TASK_TIMEOUT_MS)
    child = dialog._job._process
    windows.close(window)
    # The child is terminated (not orphaned) and nothing of its output is kept.
    qtbot.waitUntil(lambda: child.poll() is not None, timeout=TASK_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not list(output.parent.glob(output.name + "*")),
                    timeout=TASK_TIMEOUT_MS)
