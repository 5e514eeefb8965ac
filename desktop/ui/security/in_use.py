"""Issue 14 item 7: a workspace another process holds (DuckDB's lock). The dialog names that process
(core/workspace/errors.py reads it from DuckDB's message) and offers to try again or open another one,
so the window never sits empty without saying why."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget


class WorkspaceInUseDialog(QDialog):
    try_again = Signal(str)  # the workspace path
    open_another = Signal()

    def __init__(self, path: str, sentence: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Workspace in use")
        self.path = path
        layout = QVBoxLayout(self)
        self.message = QLabel(sentence)
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(460)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.retry_button = QPushButton("Try again")
        self.other_button = QPushButton("Open another workspace…")
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.other_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.retry_button.clicked.connect(self._retry)
        self.other_button.clicked.connect(self._other)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _retry(self) -> None:
        self.accept()
        self.try_again.emit(self.path)

    def _other(self) -> None:
        self.accept()
        self.open_another.emit()
