"""The audit view: the verdict of `stillroom audit verify` on the routing audit trail, and how
it is protected on this machine (keyed with a key in the OS keyring, or only hash-chained,
with what that cannot detect). Checked off the UI thread: it reads every row and the keyring.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.gui.background import run_in_background
from app.services import Services
from app.store.audit_check import NO_KEY_YET, NOT_KEYED, AuditVerdict

_WARNING_STYLE = "color: #b00020; font-weight: bold;"


class AuditDialog(QDialog):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit trail")
        self.resize(640, 240)
        self.result: AuditVerdict | None = None
        layout = QVBoxLayout(self)
        self.verdict = QLabel("Checking the routing audit trail…")
        self.verdict.setAccessibleName("Audit verdict")
        self.protection = QLabel("")
        self.protection.setAccessibleName("Audit protection")
        for label in (self.verdict, self.protection):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        run_in_background(self, services.audit.check, self._show, self._failed,
                          name="audit-check")

    def _show(self, result: AuditVerdict) -> None:
        self.result = result
        verdict = result.verdict if result.intact else f"Not intact: {result.verdict}"
        self.verdict.setText(verdict[0].upper() + verdict[1:])
        self.verdict.setStyleSheet("" if result.intact else _WARNING_STYLE)
        weak = result.protection in (NOT_KEYED, NO_KEY_YET)
        self.protection.setText(f"Protection: {result.protection}.")
        self.protection.setStyleSheet(_WARNING_STYLE if weak else "")

    def _failed(self, message: str) -> None:
        self.verdict.setText(f"The audit trail could not be checked: {message}")
        self.verdict.setStyleSheet(_WARNING_STYLE)


def open_audit_dialog(services: Services, parent: QWidget) -> AuditDialog:
    dialog = AuditDialog(services, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
