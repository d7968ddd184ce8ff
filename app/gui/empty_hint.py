"""What to do next, written inside an empty list or table: "No downloads yet. Search …".

An empty box says nothing; this says how it fills. The hint is a label over the view's
viewport, shown while the model has no rows and kept to the viewport's size.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel
from shiboken6 import isValid

from app.gui.theme import SPACE_L


class EmptyHint(QObject):
    def __init__(self, view: QAbstractItemView, text: str) -> None:
        super().__init__(view)
        self.view = view
        self.label = QLabel(text, view.viewport())
        self.label.setObjectName("emptyHint")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.setMargin(SPACE_L)
        # Room for the hint's two or three lines under the header: an empty table squeezed
        # to a sliver would cut the words that explain it.
        header = getattr(view, "horizontalHeader", None)
        header_height = header().sizeHint().height() if header is not None else 0
        view.setMinimumHeight(max(view.minimumHeight(), header_height + 2 * SPACE_L
                                  + 3 * view.fontMetrics().lineSpacing() + 8))
        model = view.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self.update)
        view.viewport().installEventFilter(self)
        self.update()

    def setText(self, text: str) -> None:
        self.label.setText(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.label.setGeometry(self.view.viewport().rect())
        return False

    def update(self, *_args: object) -> None:
        if not isValid(self.view) or not isValid(self.label):
            return  # the table's model empties itself while the table is being destroyed
        self.label.setGeometry(self.view.viewport().rect())
        self.label.setVisible(self.view.model().rowCount() == 0)
