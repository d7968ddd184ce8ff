"""The banner over the chat that names each user file Stillroom could not use.

A damaged settings, policy, providers, price or model-list file never stops the window from
opening (the most private state holds meanwhile: offline on, answers from this machine);
this banner says which file and line is wrong and offers to open it: the policy in the
policy editor, any other file in the desktop's own editor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from inference.user_files import FileProblem

POLICY_FILE_NAME = "policy.toml"


class ProblemsBanner(QFrame):
    def __init__(self, edit_policy: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemsBanner")
        self.setAccessibleName("Files Stillroom could not use")
        self.setStyleSheet("#problemsBanner { background: #5c3b00; border-radius: 6px; }"
                           "#problemsBanner QLabel { color: #fff3d6; }")
        self._edit_policy = edit_policy
        self._rows = QVBoxLayout(self)
        self.buttons: list[QPushButton] = []
        self.labels: list[QLabel] = []
        self.hide()

    def set_problems(self, problems: Sequence[FileProblem]) -> None:
        while self._rows.count():
            item = self._rows.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.buttons, self.labels = [], []
        for problem in problems:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            label = QLabel(f"⚠ {problem}")
            label.setWordWrap(True)
            line.addWidget(label, 1)
            button = QPushButton("Edit policy" if problem.path.name == POLICY_FILE_NAME
                                 else "Open file")
            button.setAccessibleName(f"Open {problem.path.name}")
            button.clicked.connect(lambda _checked=False, path=problem.path: self._open(path))
            line.addWidget(button)
            self._rows.addWidget(row)
            self.labels.append(label)
            self.buttons.append(button)
        self.setVisible(bool(problems))

    def _open(self, path: Path) -> None:
        if path.name == POLICY_FILE_NAME:
            self._edit_policy()
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
