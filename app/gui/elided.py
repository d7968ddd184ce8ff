"""Text that never overflows its box: a label and a combo box that elide to their width and
keep the whole text in a tooltip (and in the accessible description, for screen readers).

Titles, model names and route reasons come from users, files and providers, so their length
is unknown; the layout gives each a width, and the text adapts, never the other way round.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)


class ElidedLabel(QLabel):
    """A one-line plain-text label that shows as much of its text as fits, "…" for the
    rest; `text()` and the tooltip hold all of it."""

    elides = True  # read by the layout test: the shown text is cut on purpose

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
                 min_chars: int = 8) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self._min_chars = min_chars
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text or ""
        self.setToolTip(self._full)
        self.setAccessibleDescription(self._full)
        self.updateGeometry()
        self._elide()

    def text(self) -> str:
        """The whole text, as set (what is shown may be cut: `shown_text()`)."""
        return self._full

    def shown_text(self) -> str:
        return QLabel.text(self)

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        return QSize(metrics.horizontalAdvance(self._full) + margins.left() + margins.right()
                     + 2, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().averageCharWidth() * min(self._min_chars, len(self._full))
        return QSize(width + margins.left() + margins.right(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, self._mode, max(0, width))
        QLabel.setText(self, shown)


class ElidingComboBox(QComboBox):
    """A combo box whose closed face elides the current item to its width; the list that
    opens is as wide as its longest item (up to `popup_max_chars`), so every choice can be
    read in full, and each item's full text is its tooltip."""

    elides = True

    def __init__(self, parent: QWidget | None = None, *, min_chars: int = 12,
                 popup_max_chars: int = 80, hug_text: bool = True) -> None:
        super().__init__(parent)
        self._hug_text = hug_text  # False: ask only for min_chars, take what a stretch gives
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(min_chars)
        self._popup_max_chars = popup_max_chars
        self.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.currentTextChanged.connect(self.setToolTip)
        self.currentTextChanged.connect(lambda _text: self.updateGeometry())

    def sizeHint(self) -> QSize:
        """Wide enough for the current item in full (up to the popup's cap) when there is
        room; the minimum size hint stays `min_chars` wide for when there is not."""
        hint = super().sizeHint()
        if not self._hug_text:
            return hint
        metrics = self.fontMetrics()
        chrome = hint.width() - metrics.averageCharWidth() * self.minimumContentsLength()
        text = min(metrics.horizontalAdvance(self.currentText()),
                   metrics.averageCharWidth() * self._popup_max_chars)
        return QSize(max(hint.width(), text + chrome), hint.height())

    def minimumSizeHint(self) -> QSize:
        return super().sizeHint()

    def showPopup(self) -> None:
        metrics = self.view().fontMetrics()
        longest = max((metrics.horizontalAdvance(self.itemText(i)) for i in range(self.count())),
                      default=0)
        cap = metrics.averageCharWidth() * self._popup_max_chars
        self.view().setMinimumWidth(min(longest + 48, cap))
        super().showPopup()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        if not option.currentIcon.isNull():
            field.setLeft(field.left() + option.iconSize.width() + 4)
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, max(0, field.width() - 2))
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


def titled_group(title: str, widget: QWidget) -> QGroupBox:
    """``widget`` in a group box with a title (the panels of the Models and Documents tabs)."""
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box
