"""Files dropped on the chat go to the Documents tab, ready to be asked about.

A question about documents is answered by the Documents tab's plan (one prompt, or part by
part with page labels, every step through the gate), not by a plain chat turn that would
paste the whole file into the prompt; so a drop on the chat hands the files over, shows that
tab and puts the cursor in its question box. Text dragged from another program still drops
into the message box as text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent


def local_files(mime: QMimeData) -> list[Path]:
    """The local files in a drag; [] for text, web links and anything else."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class ChatFileDrop(QObject):
    """An event filter for the chat's widgets: a drag of local files is taken, and on drop
    `hand_over(paths)` gets them."""

    def __init__(self, hand_over: Callable[[list[Path]], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hand_over = hand_over

    def watch(self, *widgets: QObject) -> None:
        for widget in widgets:
            widget.setAcceptDrops(True)  # type: ignore[attr-defined]
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDragMoveEvent)
            if local_files(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = local_files(event.mimeData())
            if paths:
                event.acceptProposedAction()
                self.hand_over(paths)
                return True
        return False
