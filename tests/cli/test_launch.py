"""Which surface `stillroom` opens, and why it says so."""

import pytest

from app.cli import main as cli


@pytest.fixture
def linux_x11(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    return monkeypatch


def test_window_opens_where_a_display_and_qt_are_present(linux_x11) -> None:
    linux_x11.setattr(cli, "_missing_xcb_library", lambda: False)
    assert cli._why_no_window() is None


def test_no_display_is_named(linux_x11) -> None:
    linux_x11.delenv("DISPLAY")
    assert "no display found" in cli._why_no_window()


def test_missing_x11_library_is_named_instead_of_a_qt_abort(linux_x11) -> None:
    linux_x11.setattr(cli, "_missing_xcb_library", lambda: True)
    assert "libxcb-cursor0" in cli._why_no_window()


def test_gui_without_a_display_is_a_clear_error(linux_x11, capsys) -> None:
    linux_x11.delenv("DISPLAY")
    assert cli.main(["gui"]) == 2
    assert "cannot open the desktop window: no display found" in capsys.readouterr().err
