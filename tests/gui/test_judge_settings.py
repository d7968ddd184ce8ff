"""The judge's fields in the settings dialog (Privacy tab): mode, model, timeout, and the
warning that the embedded 135M model is not fit to judge."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings
from app.gui.dialogs import SettingsDialog
from inference.models.library import embedded_model
from routing.keys import KeyStore


def open_dialog(qtbot, settings: Settings, home: Path) -> SettingsDialog:
    dialog = SettingsDialog(settings, [embedded_model()], str(home),
                            KeyStore(home / "keys-index.json"), None)
    qtbot.addWidget(dialog)
    return dialog


def test_the_judge_fields_show_warn_and_apply(qtbot, stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    dialog = open_dialog(qtbot, Settings(), stillroom_home)
    assert dialog.judge_mode.currentData() == "auto"
    assert dialog.judge_model.currentData() is None
    assert dialog.judge_timeout.value() == 8.0
    warning = dialog.judge_warning.text()
    assert "No installed model is fit to judge" in warning and "not fit to judge" in warning
    assert "with Auto the judge does not run" in warning

    dialog.judge_mode.setCurrentIndex(dialog.judge_mode.findData("on"))
    dialog.judge_model.setCurrentIndex(dialog.judge_model.findData(embedded_model().id))
    assert dialog.judge_warning.text().startswith("SmolLM2-135M-Instruct has 135M parameters")
    dialog.judge_timeout.setValue(3.5)
    applied = Settings()
    dialog.apply_to(applied)
    assert (applied.judge, applied.judge_model, applied.judge_timeout_s) == (
        "on", embedded_model().id, 3.5)

    dialog.judge_mode.setCurrentIndex(dialog.judge_mode.findData("off"))
    assert "without a second opinion" in dialog.judge_warning.text()


def test_saved_judge_settings_are_shown_again(qtbot, stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    settings = Settings(judge="off", judge_model=embedded_model().id, judge_timeout_s=20.0)
    dialog = open_dialog(qtbot, settings, stillroom_home)
    assert dialog.judge_mode.currentData() == "off"
    assert dialog.judge_model.currentData() == embedded_model().id
    assert dialog.judge_timeout.value() == 20.0
