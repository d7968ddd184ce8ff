"""Render an answer's markdown as it streams: prose through Qt's own CommonMark renderer,
fenced code blocks as monospace blocks with a Copy button.

The text is split into segments at code fences and blank lines; on each repaint only
segments whose text changed are touched, so a long answer costs the same per frame as a
short one. While an answer streams its last paragraph is shown as plain text, laid out
without a markdown parse each frame; a paragraph is rendered as markdown once, when the
next one begins or the answer ends (`final`). On two cores every millisecond the UI thread
spends per frame comes off llama.cpp's decode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

FENCE = re.compile(r"^(```|~~~)[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
MAX_CODE_LINES = 24


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # "prose" or "code"
    text: str
    language: str = ""


def split_segments(text: str) -> list[Segment]:
    """Prose and fenced code, in order; an unclosed fence (still streaming) is code."""
    segments: list[Segment] = []
    position = 0
    while True:
        opening = FENCE.search(text, position)
        if opening is None:
            break
        if opening.start() > position:
            segments.append(Segment("prose", text[position:opening.start()]))
        body_start = opening.end() + 1
        closing = re.compile(rf"^{re.escape(opening.group(1))}[ \t]*$", re.MULTILINE)
        end = closing.search(text, body_start)
        body = text[body_start:end.start() if end else len(text)]
        segments.append(Segment("code", body.rstrip("\n"), opening.group(2)))
        if end is None:
            return segments
        position = end.end() + 1
    if position < len(text):
        segments.append(Segment("prose", text[position:]))
    return [piece for segment in segments for piece in _paragraphs(segment)]


def _paragraphs(segment: Segment) -> list[Segment]:
    """Prose split at blank lines, so a growing answer re-lays out only its last paragraph.

    A list or quote that spans a blank line renders as two blocks, which looks the same.
    """
    if segment.kind == "code":
        return [segment]
    return [Segment("prose", part) for part in PARAGRAPH_BREAK.split(segment.text)
            if part.strip()]


class CodeBlock(QFrame):
    def __init__(self, language: str) -> None:
        super().__init__()
        self.setObjectName("codeBlock")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        header = QHBoxLayout()
        self.language = QLabel(language or "code")
        self.language.setObjectName("codeLanguage")
        header.addWidget(self.language)
        header.addStretch()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the code")
        self.copy_button.setAccessibleName("Copy code")
        self.copy_button.setFlat(True)
        self.copy_button.clicked.connect(self.copy)
        header.addWidget(self.copy_button)
        layout.addLayout(header)
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setAccessibleName(f"{language or 'Code'} block")
        layout.addWidget(self.editor)
        self._text = ""

    def set_language(self, language: str) -> None:
        """The fence's language as it streams in ("p", "pyt", "python"): relabelled, not
        rebuilt (a new block per character was most of a code answer's UI time)."""
        self.language.setText(language or "code")
        self.editor.setAccessibleName(f"{language or 'Code'} block")

    def set_text(self, text: str) -> None:
        if text == self._text:
            return
        if text.startswith(self._text) and self._text:
            cursor = self.editor.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            cursor.insertText(text[len(self._text):])
        else:
            self.editor.setPlainText(text)
        self._text = text
        lines = min(text.count("\n") + 1, MAX_CODE_LINES)
        metrics = self.editor.fontMetrics()
        # The lines, plus the document's margins and the frame and padding around them,
        # so a short block shows whole without a scroll bar.
        margins = self.editor.contentsMargins()
        chrome = int(2 * self.editor.document().documentMargin()) + margins.top() \
            + margins.bottom() + 2 * self.editor.frameWidth() + 8
        self.editor.setFixedHeight(lines * metrics.lineSpacing() + chrome)
        self.editor.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded if text.count("\n") + 1 > MAX_CODE_LINES
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def text(self) -> str:
        return self._text

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self._text)
        self.copy_button.setText("Copied")


class MarkdownView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._segments: list[Segment] = []
        self._widgets: list[QWidget] = []
        self._settled: list[bool] = []  # rendered as markdown (not a growing tail)
        self._text = ""
        self._final = True

    def text(self) -> str:
        return self._text

    def set_text(self, text: str, *, final: bool = True) -> None:
        """Show `text`; `final=False` while it is still growing (its last paragraph then
        stays plain text until it is complete)."""
        if text == self._text and final == self._final:
            return
        self._text, self._final = text, final
        segments = split_segments(text)
        for index, segment in enumerate(segments):
            settled = final or index < len(segments) - 1
            if index < len(self._segments) and self._segments[index] == segment \
                    and self._settled[index] == settled:
                continue
            if index < len(self._widgets) and self._segments[index].kind == segment.kind:
                self._update(self._widgets[index], segment, settled)
                self._segments[index], self._settled[index] = segment, settled
            else:
                self._replace_from(index)
                self._widgets.append(self._create(segment, settled))
                self._segments.append(segment)
                self._settled.append(settled)
                self._layout.addWidget(self._widgets[-1])
        self._replace_from(len(segments))

    def _replace_from(self, index: int) -> None:
        while len(self._widgets) > index:
            widget = self._widgets.pop()
            self._layout.removeWidget(widget)
            widget.deleteLater()
        del self._segments[index:]
        del self._settled[index:]

    def _create(self, segment: Segment, settled: bool) -> QWidget:
        if segment.kind == "code":
            block = CodeBlock(segment.language)
            block.set_text(segment.text)
            return block
        label = QLabel()
        label.setTextFormat(Qt.TextFormat.MarkdownText if settled else Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setOpenExternalLinks(False)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                      | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        label.setText(segment.text)
        return label

    @staticmethod
    def _update(widget: QWidget, segment: Segment, settled: bool) -> None:
        if isinstance(widget, CodeBlock):
            widget.set_language(segment.language)
            widget.set_text(segment.text)
        elif isinstance(widget, QLabel):
            widget.setTextFormat(Qt.TextFormat.MarkdownText if settled
                                 else Qt.TextFormat.PlainText)
            widget.setText(segment.text)
