"""The conversation list: search, rename, delete with undo."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.icons import icon
from app.gui.theme import SPACE_M, SPACE_S
from app.redaction import redact
from app.store.conversations import ConversationStore, ConversationSummary

UNDO_SECONDS = 10


class ConversationSidebar(QWidget):
    sig_selected = Signal(str)
    """A conversation id the user opened."""
    sig_new_chat = Signal()
    sig_deleted = Signal(str, str)
    """Conversation id and title, hidden now and deleted for good after the undo window."""

    def __init__(self, store: ConversationStore) -> None:
        super().__init__()
        self.store = store
        self.setAccessibleName("Conversations")
        self.setObjectName("sidebar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE_M, SPACE_M, SPACE_S, SPACE_M)
        layout.setSpacing(SPACE_S)
        self.new_button = QPushButton("New chat")
        self.new_button.setIcon(icon("new", on_accent=True))
        self.new_button.setProperty("primary", True)
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("New chat (Ctrl+N)")
        self.new_button.clicked.connect(self.sig_new_chat)
        layout.addWidget(self.new_button)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search conversations (Ctrl+F)")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        layout.addWidget(self.search)
        self.list = QListWidget()
        self.list.setAccessibleName("Conversation list")
        # Titles are cut to the sidebar's width ("…"), never scrolled sideways; the
        # tooltip holds the whole title.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setWordWrap(False)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)
        layout.addWidget(self.list, 1)
        # What to do next when there is nothing to list (no chats yet, or no match).
        self.empty = QLabel()
        self.empty.setObjectName("caption")
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName("No conversations")
        layout.addWidget(self.empty)
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.refresh)
        self.pending_deletes: dict[str, QTimer] = {}
        for text, keys, slot in (("Rename", QKeySequence(Qt.Key.Key_F2), self.rename_current),
                                 ("Delete", QKeySequence.StandardKey.Delete,
                                  self.delete_current)):
            action = QAction(text, self.list)
            action.setShortcut(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            self.list.addAction(action)

    def refresh(self, select: str | None = None) -> None:
        query = self.search.text().strip()
        conversations = self.store.search(query) if query else self.store.list(limit=500)
        current = select or self.current_id()
        self.list.clear()
        for conversation in conversations:
            if conversation.id in self.pending_deletes:
                continue
            item = QListWidgetItem(self._label(conversation))
            item.setData(Qt.ItemDataRole.UserRole, conversation.id)
            item.setToolTip(f"{item.text()}\n{conversation.message_count} messages · "
                            f"{conversation.updated_at:%Y-%m-%d %H:%M} · {conversation.id}")
            self.list.addItem(item)
            if conversation.id == current:
                self.list.setCurrentItem(item)
        self._show_empty(query)

    def _show_empty(self, query: str) -> None:
        if self.list.count():
            self.empty.hide()
            return
        self.empty.setText(f"No conversation mentions “{query}”. Clear the search to see "
                           f"them all." if query else "No conversations yet. Ask a question "
                           "on the right to start one; it is saved on this machine only.")
        self.empty.show()

    @staticmethod
    def _label(conversation: ConversationSummary) -> str:
        # Titles stored before they were made redacted are redacted when shown.
        return redact(conversation.title or "") or "(untitled)"

    def current_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _open(self, item: QListWidgetItem) -> None:
        self.sig_selected.emit(item.data(Qt.ItemDataRole.UserRole))

    def _context_menu(self, position) -> None:  # noqa: ANN001
        item = self.list.itemAt(position)
        if item is None:
            return
        self.list.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Rename…", self.rename_current)
        menu.addAction("Delete", self.delete_current)
        menu.exec(self.list.mapToGlobal(position))

    def rename_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        title, accepted = QInputDialog.getText(self, "Rename conversation", "Title:",
                                               text=item.text())
        if accepted and title.strip():
            self.store.update(item.data(Qt.ItemDataRole.UserRole), title=title.strip()[:200])
            item.setText(redact(title.strip()[:200]))

    def delete_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        conversation_id = item.data(Qt.ItemDataRole.UserRole)
        timer = QTimer(self, singleShot=True, interval=UNDO_SECONDS * 1000)
        timer.timeout.connect(lambda: self._delete_for_good(conversation_id))
        timer.start()
        self.pending_deletes[conversation_id] = timer
        self.list.takeItem(self.list.row(item))
        self.sig_deleted.emit(conversation_id, item.text())

    def undo_delete(self, conversation_id: str) -> None:
        timer = self.pending_deletes.pop(conversation_id, None)
        if timer is not None:
            timer.stop()
            self.refresh(select=conversation_id)

    def _delete_for_good(self, conversation_id: str) -> None:
        if self.pending_deletes.pop(conversation_id, None) is not None:
            self.store.delete(conversation_id)

    def flush_deletes(self) -> None:
        """At exit: what the user deleted and did not undo is deleted now."""
        for conversation_id, timer in list(self.pending_deletes.items()):
            timer.stop()
            self._delete_for_good(conversation_id)
