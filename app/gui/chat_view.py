"""The conversation pane: message bubbles with route badges, actions, and an empty state."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.gui.elided import ElidedLabel
from app.gui.icons import icon
from app.gui.markdown_view import MarkdownView
from app.gui.theme import SPACE_L, SPACE_M, SPACE_S

STATUS_NOTES = {"cancelled": "stopped", "interrupted": "cut off by a crash",
                "error": "failed", "streaming": "writing…",
                "unsure": "the model was unsure: asked again below"}


def route_badge_text(route: dict) -> str:
    """e.g. "Local · SmolLM2-135M-Instruct · no cloud or on-premises provider is configured"."""
    target = str(route.get("target") or "local").capitalize()
    parts = [target, route.get("model") or ""]
    if route.get("reason"):
        parts.append(route["reason"])
    return " · ".join(p for p in parts if p)


def route_badge_tooltip(route: dict) -> str:
    """The rule and reason; after a failover, first the remote attempt that failed (the
    badge itself names where the text came from)."""
    tip = f"rule: {route.get('rule')} — {route.get('reason')}"
    if route.get("rule") == "failover":
        failed = str(route.get("reason") or "").split(";")[0]
        where = "this machine" if (route.get("target") or "local") == "local" \
            else "the failover target"
        return f"Attempt failed: {failed}. The answer came from {where}.\n{tip}"
    return tip


class MessageWidget(QFrame):
    sig_edit_requested = Signal(object)
    sig_regenerate_requested = Signal(object)

    def __init__(self, role: str, text: str = "", *, message_id: int | None = None,
                 title: str = "", status: str = "complete") -> None:
        super().__init__()
        self.role = role
        self.message_id = message_id
        self.setObjectName("userMessage" if role == "user" else "assistantMessage")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE_L, SPACE_M, SPACE_L, SPACE_M)
        layout.setSpacing(SPACE_S)
        header = QHBoxLayout()
        header.setSpacing(SPACE_S)
        self.title = ElidedLabel(title or ("You" if role == "user" else "Assistant"),
                                 min_chars=6)
        self.title.setObjectName("messageTitle")
        header.addWidget(self.title)
        # One line whatever the reason's length: the pill shows what fits, the tooltip all.
        self.badge = ElidedLabel(min_chars=10)
        self.badge.setObjectName("routeBadge")
        self.badge.setAccessibleName("Where this answer ran and why")
        self.badge.hide()
        header.addWidget(self.badge, 1)
        self.status = QLabel()
        self.status.setObjectName("messageStatus")
        header.addWidget(self.status)
        header.addStretch()
        self.copy_button = self._action(header, "copy", "Copy message", self._copy)
        if role == "user":
            self.edit_button = self._action(header, "edit", "Edit and resend",
                                            lambda: self._start_edit())
        else:
            self.regenerate_button = self._action(
                header, "regenerate", "Regenerate answer (Ctrl+R)",
                lambda: self.sig_regenerate_requested.emit(self))
            self.regenerate_button.hide()
        layout.addLayout(header)
        self.body = MarkdownView()
        layout.addWidget(self.body)
        self.editor: QPlainTextEdit | None = None
        self.body.set_text(text)
        self.set_status(status)

    def _action(self, layout: QHBoxLayout, icon_name: str, name: str, slot) -> QPushButton:  # noqa: ANN001
        """A quiet icon button; its name is its tooltip and what a screen reader says."""
        button = QPushButton()
        button.setIcon(icon(icon_name))
        button.setFlat(True)
        button.setToolTip(name)
        button.setAccessibleName(name.split(" (")[0])
        button.clicked.connect(slot)
        layout.addWidget(button)
        return button

    def text(self) -> str:
        return self.body.text()

    def set_text(self, text: str, *, final: bool = True) -> None:
        """`final=False` while the answer streams (markdown_view.MarkdownView.set_text)."""
        self.body.set_text(text, final=final)

    def set_route(self, route: dict) -> None:
        self.badge.setText(route_badge_text(route))
        self.badge.setToolTip(f"{route_badge_text(route)}\n{route_badge_tooltip(route)}")
        # The pill's colour says local or not at a glance (theme.py: #routeBadge[route=...]).
        self.badge.setProperty("route", "local" if (route.get("target") or "local") == "local"
                               else "remote")
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.badge.show()

    def set_status(self, status: str) -> None:
        note = STATUS_NOTES.get(status, "")
        self.status.setText(f"({note})" if note else "")

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def _start_edit(self) -> None:
        if self.editor is not None:
            return
        self.editor = QPlainTextEdit(self.text())
        self.editor.setAccessibleName("Edit message")
        self.layout().addWidget(self.editor)
        buttons = QHBoxLayout()
        send = QPushButton("Send edited")
        cancel = QPushButton("Cancel")
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(send)
        holder = QWidget()
        holder.setLayout(buttons)
        self.layout().addWidget(holder)
        self.body.hide()

        def finish(resend: bool) -> None:
            new_text = self.editor.toPlainText().strip() if self.editor else ""
            holder.deleteLater()
            if self.editor is not None:
                self.editor.deleteLater()
            self.editor = None
            self.body.show()
            if resend and new_text:
                self.sig_edit_requested.emit((self, new_text))

        send.clicked.connect(lambda: finish(True))
        cancel.clicked.connect(lambda: finish(False))
        self.editor.setFocus()


class ChatView(QScrollArea):
    """A column of messages that follows the newest text unless the user scrolled up."""

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        # Text wraps to the view; only code blocks scroll sideways, inside themselves.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Conversation")
        self._content = QWidget()
        self.setObjectName("conversation")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._layout = QVBoxLayout(self._content)
        self._layout.setContentsMargins(SPACE_L, SPACE_L, SPACE_L, SPACE_L)
        self._layout.setSpacing(SPACE_M)
        self.setWidget(self._content)
        self.empty_state = QLabel()
        self.empty_state.setObjectName("emptyState")
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self.empty_state)
        # Spare height goes below the last message, never inside a message.
        self._layout.addStretch(1)
        self.messages: list[MessageWidget] = []
        self._follow = True
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)

    def set_empty_text(self, html: str) -> None:
        self.empty_state.setText(html)

    def clear(self) -> None:
        for widget in self.messages:
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self.messages.clear()
        self.empty_state.show()
        self._follow = True

    def add(self, widget: MessageWidget) -> MessageWidget:
        self.empty_state.hide()
        self.messages.append(widget)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._follow = True
        self._refresh_regenerate()
        return widget

    def remove_from(self, widget: MessageWidget) -> None:
        index = self.messages.index(widget)
        for doomed in self.messages[index:]:
            self._layout.removeWidget(doomed)
            doomed.deleteLater()
        del self.messages[index:]
        if not self.messages:
            self.empty_state.show()
        self._refresh_regenerate()

    def _refresh_regenerate(self) -> None:
        for widget in self.messages:
            if widget.role == "assistant":
                widget.regenerate_button.setVisible(widget is self.messages[-1])

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            QTimer.singleShot(0, lambda: self.verticalScrollBar().setValue(
                self.verticalScrollBar().maximum()))
