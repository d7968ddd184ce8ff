"""Files dropped on the chat are handed to the Documents tab (issue 15: "drag a file onto
the chat"); text dragged in still lands in the message box."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from tests.gui.conftest import ANSWER_TIMEOUT_MS


def _drop(target: QWidget, mime: QMimeData) -> bool:
    """A drag entering `target`, then the drop if it was taken: whether it was taken."""
    args = (QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(*args)
    enter.ignore()
    QApplication.sendEvent(target, enter)
    if enter.isAccepted():
        QApplication.sendEvent(target, QDropEvent(*args))
    return enter.isAccepted()


def test_a_file_dropped_on_the_message_box_is_ready_to_ask_in_documents(
        qtbot, window, tmp_path: Path) -> None:
    memo = tmp_path / "memo.txt"
    memo.write_text("The lease ends on 30 June 2027; notice is six months.\n",
                    encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(memo))])
    window.tabs.setCurrentIndex(0)

    assert _drop(window.composer.viewport(), mime)

    tab = window.documents_tab
    assert window.tabs.currentWidget() is tab
    qtbot.waitUntil(lambda: tab.files.table.rowCount() == 1, timeout=ANSWER_TIMEOUT_MS)
    assert tab.files.table.item(0, 0).text() == "memo.txt"
    assert window.composer.toPlainText() == ""  # not pasted into the message as a path
    assert "Documents" in window.statusBar().currentMessage()


def test_dragged_text_is_not_taken_for_a_file(window) -> None:
    mime = QMimeData()
    mime.setText("just some words")
    window.tabs.setCurrentIndex(0)
    _drop(window.chat_view.viewport(), mime)
    assert window.tabs.currentIndex() == 0
    assert window.documents_tab.files.table.rowCount() == 0
