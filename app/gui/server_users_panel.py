"""The office server's users in the Server tab: add (with quotas), issue a new key, revoke
the key, remove; each user's usage today. A key is shown once, in a dialog with a Copy
button; the store keeps only its hash (app/store/server_users.py)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.store.server_users import ROUTES, OfficeUser, UserError, UserLimits, UserStore, UserUsage

COLUMNS = ("User", "Requests today", "Tokens today", "Tokens/day", "Requests/min",
           "Cloud $/month", "Routes", "Admin")
NO_USERS = ("<p><b>No users yet.</b></p><p>While there are none, the server answers only "
            "this computer, without a key. <i>Add user…</i> gives a teammate a key (shown "
            "once); then the server can listen on the office network.</p>")


class AddUserDialog(QDialog):
    """Name and quotas; 0 in a quota means no limit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a user")
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. anna")
        self.tokens_per_day = QSpinBox(minimum=0, maximum=1_000_000_000, singleStep=10_000)
        self.tokens_per_day.setSpecialValueText("no limit")
        self.requests_per_minute = QSpinBox(minimum=0, maximum=100_000)
        self.requests_per_minute.setSpecialValueText("no limit")
        self.budget = QDoubleSpinBox(minimum=0, maximum=1_000_000, decimals=2, singleStep=5)
        self.budget.setSpecialValueText("no limit")
        self.budget.setToolTip("Cloud spend a month; local answers cost nothing here")
        self.routes = {route: QCheckBox(route) for route in ROUTES}
        routes_row = QHBoxLayout()
        for box in self.routes.values():
            box.setChecked(True)
            routes_row.addWidget(box)
        self.admin = QCheckBox("Admin (may read /metrics)")
        form.addRow("Name", self.name)
        form.addRow("Tokens a day", self.tokens_per_day)
        form.addRow("Requests a minute", self.requests_per_minute)
        form.addRow("Cloud budget a month ($)", self.budget)
        form.addRow("May be answered", routes_row)
        form.addRow("", self.admin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def limits(self) -> UserLimits:
        routes = tuple(route for route, box in self.routes.items() if box.isChecked())
        return UserLimits(tokens_per_day=self.tokens_per_day.value() or None,
                          requests_per_minute=self.requests_per_minute.value() or None,
                          budget_usd_month=Decimal(str(self.budget.value()))
                          if self.budget.value() else None,
                          routes=routes, admin=self.admin.isChecked())


class KeyDialog(QDialog):
    """The key, once: selectable, with a Copy button."""

    def __init__(self, name: str, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setWindowTitle(f"Key for {name}")
        layout = QVBoxLayout(self)
        note = QLabel(f"<b>{name}</b>'s key. It is shown only now: Stillroom keeps only its "
                      f"hash. Send it to {name} privately; they use it as the API key of "
                      f"any OpenAI client.")
        note.setWordWrap(True)
        self.field = QLineEdit(key)
        self.field.setReadOnly(True)
        self.field.setAccessibleName("API key")
        self.field.selectAll()
        copy = QPushButton("Copy")
        copy.clicked.connect(self.copy)
        row = QHBoxLayout()
        row.addWidget(self.field, 1)
        row.addWidget(copy)
        done = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        done.rejected.connect(self.reject)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(done)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.key)


class UsersPanel(QWidget):
    sig_message = Signal(str)

    def __init__(self, users: UserStore) -> None:
        super().__init__()
        self.users = users
        self.listed: list[OfficeUser] = []
        self.add_dialog: AddUserDialog | None = None
        self.key_dialog: KeyDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add user…")
        self.add_button.clicked.connect(self.open_add_dialog)
        self.issue_button = QPushButton("Issue new key")
        self.issue_button.setToolTip("A new key for the selected user; the old one stops "
                                     "working at once")
        self.issue_button.clicked.connect(self.issue_key)
        self.revoke_button = QPushButton("Revoke key")
        self.revoke_button.setToolTip("The selected user's key stops working; their usage "
                                      "stays. Issue a new key to let them back in.")
        self.revoke_button.clicked.connect(self.revoke_key)
        self.remove_button = QPushButton("Remove user")
        self.remove_button.clicked.connect(self.remove_user)
        for button in (self.add_button, self.issue_button, self.revoke_button,
                       self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch()
        layout.addLayout(buttons)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Office server users")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.empty = QLabel(NO_USERS)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        layout.addLayout(self.stack, 1)
        self.refresh()

    def refresh(self, usage: dict[str, UserUsage] | None = None) -> None:
        """The users from the store; `usage` (today's, read off the UI thread) fills the
        last two columns."""
        selected = self.selected_name()
        self.listed = self.users.list()
        usage = usage or {}
        self.table.setRowCount(len(self.listed))
        for row, user in enumerate(self.listed):
            limits = user.limits
            used = usage.get(user.name)
            values = (user.name, str(used.requests) if used else "–",
                      str(used.tokens) if used else "–", _limit(limits.tokens_per_day),
                      _limit(limits.requests_per_minute), _limit(limits.budget_usd_month),
                      ",".join(limits.routes), "yes" if limits.admin else "")
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
            if user.name == selected:
                self.table.selectRow(row)
        self.stack.setCurrentWidget(self.table if self.listed else self.empty)
        self._update_buttons()

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() \
            else []
        if not rows or rows[0].row() >= len(self.listed):
            return None
        return self.listed[rows[0].row()].name

    def select(self, name: str) -> None:
        for row, user in enumerate(self.listed):
            if user.name == name:
                self.table.selectRow(row)

    def _update_buttons(self) -> None:
        chosen = self.selected_name() is not None
        for button in (self.issue_button, self.revoke_button, self.remove_button):
            button.setEnabled(chosen)

    # -- actions -----------------------------------------------------------------------
    def open_add_dialog(self) -> AddUserDialog:
        dialog = AddUserDialog(self)
        dialog.accepted.connect(lambda: self.add(dialog.name.text().strip(), dialog.limits()))
        self.add_dialog = dialog
        dialog.open()
        return dialog

    def add(self, name: str, limits: UserLimits) -> None:
        if not limits.routes:
            self.sig_message.emit("Tick at least one route the user may be answered on.")
            return
        try:
            key = self.users.add(name, limits)
        except UserError as exc:
            self.sig_message.emit(str(exc))
            return
        self.refresh()
        self.select(name)
        self.sig_message.emit(f"Added {name}.")
        self._show_key(name, key)

    def issue_key(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        try:
            key = self.users.rotate(name)
        except UserError as exc:
            self.sig_message.emit(str(exc))
            return
        self.sig_message.emit(f"New key for {name}; the old one no longer works.")
        self._show_key(name, key)

    def revoke_key(self) -> None:
        """A new key that nobody is shown: the old one stops working, the user and their
        usage stay."""
        name = self.selected_name()
        if name is None:
            return
        try:
            self.users.rotate(name)
        except UserError as exc:
            self.sig_message.emit(str(exc))
            return
        self.sig_message.emit(f"{name}'s key is revoked; Issue new key lets them back in.")

    def remove_user(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        answer = QMessageBox.question(self, "Remove user", f"Remove {name}? Their key stops "
                                      f"working; their past usage stays in the ledger.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.users.remove(name)
        except UserError as exc:
            self.sig_message.emit(str(exc))
            return
        self.refresh()
        self.sig_message.emit(f"Removed {name}.")

    def _show_key(self, name: str, key: str) -> None:
        self.key_dialog = KeyDialog(name, key, self)
        self.key_dialog.open()


def _limit(value: object) -> str:
    return "no limit" if value is None else str(value)
