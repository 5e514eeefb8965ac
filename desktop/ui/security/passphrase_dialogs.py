"""Asking for passphrases: a new one (typed twice, with a strength hint), and the one that opens a workspace.

Checking a passphrase costs scrypt's half second and, after wrong ones, the core's growing delay
(workspace_crypto.UnlockThrottle): it runs on the task manager's pool, never on the GUI thread, while
the dialog says it is checking.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.workspace.store import WorkspaceError
from desktop.ui.security.strength import passphrase_hint
from desktop.ui.taskman import TaskManager

WEAK_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"


def password_field(placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    field.setMinimumWidth(320)
    return field


class NewPassphraseDialog(QDialog):
    """A new passphrase, typed twice; optionally the current one first, optionally "no encryption"."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        title: str,
        intro: str,
        ask_current: bool = False,
        allow_plaintext: bool = False,
        notice: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        intro_label = QLabel(intro)
        intro_label.setWordWrap(True)
        layout.addWidget(intro_label)
        form = QFormLayout()
        self.current = password_field("the passphrase that opens it now") if ask_current else None
        if self.current is not None:
            form.addRow("Current passphrase:", self.current)
        self.first = password_field("at least 8 characters; four unrelated words work well")
        self.second = password_field("the same again")
        form.addRow("New passphrase:" if ask_current else "Passphrase:", self.first)
        form.addRow("Type it again:", self.second)
        layout.addLayout(form)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.mismatch = QLabel()
        self.mismatch.setStyleSheet(WEAK_STYLE)
        layout.addWidget(self.mismatch)
        self.plaintext = (
            QCheckBox(
                "Do not encrypt this workspace (not recommended: anyone who gets the file "
                "can read every patient in it)"
            )
            if allow_plaintext
            else None
        )
        if self.plaintext is not None:
            self.plaintext.toggled.connect(self._update)
            layout.addWidget(self.plaintext)
        if notice:
            notice_label = QLabel(notice)
            notice_label.setWordWrap(True)
            layout.addWidget(notice_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for field in (self.current, self.first, self.second):
            if field is not None:
                field.textChanged.connect(self._update)
        self._update()

    @property
    def encrypt(self) -> bool:
        return self.plaintext is None or not self.plaintext.isChecked()

    def passphrase(self) -> str | None:
        """The new passphrase; None when the user chose no encryption."""
        return self.first.text() if self.encrypt else None

    def current_passphrase(self) -> str:
        return self.current.text() if self.current is not None else ""

    def _update(self) -> None:
        encrypt = self.encrypt
        for field in (self.current, self.first, self.second):
            if field is not None:
                field.setEnabled(encrypt)
        hint = passphrase_hint(self.first.text())
        self.hint.setText(hint.text if encrypt else "The workspace will be written in plain text.")
        self.hint.setStyleSheet(WEAK_STYLE if (hint.weak or not encrypt) else OK_STYLE)
        differ = bool(self.second.text()) and self.second.text() != self.first.text()
        self.mismatch.setText("The two passphrases differ." if differ and encrypt else "")
        complete = hint.acceptable and self.second.text() == self.first.text()
        if self.current is not None:
            complete = complete and bool(self.current.text())
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(complete or not encrypt)


def check_in_background(
    tasks: TaskManager,
    check: Callable[[], Any],
    on_ok: Callable[[Any], None],
    on_refused: Callable[[str], None],
) -> None:
    """Run ``check`` (scrypt, the core's delay after wrong passphrases) off the GUI thread; a
    WorkspaceError becomes ``on_refused(sentence)``, anything else goes to the presenter."""

    def done(future: Future[Any]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if isinstance(exc, WorkspaceError):
            on_refused(str(exc))
        elif exc is not None:
            from desktop.ui.qt_errors import show_exception

            on_refused("The passphrase could not be checked.")
            show_exception(None, exc)
        else:
            on_ok(future.result())

    tasks.run_in_background(check, done)


class UnlockDialog(QDialog):
    """The passphrase of an encrypted workspace. Accepted only once ``unlock(passphrase)`` succeeded; a
    wrong passphrase leaves the dialog open with the core's sentence, and the workspace unchanged."""

    def __init__(
        self, parent: QWidget | None, *, path: str | Path, unlock: Callable[[str], object], tasks: TaskManager
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open encrypted workspace")
        self._unlock = unlock
        self._tasks = tasks
        self.failures = 0
        layout = QVBoxLayout(self)
        label = QLabel(
            f"{Path(path).name} is encrypted. Type its passphrase to open it.\n({Path(path).parent})"
        )
        label.setWordWrap(True)
        layout.addWidget(label)
        self.field = password_field("passphrase")
        layout.addWidget(self.field)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(WEAK_STYLE)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.try_unlock)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def try_unlock(self) -> None:
        passphrase = self.field.text()
        if not passphrase:
            self.message.setText("Type the passphrase first.")
            return
        self._busy(True)
        self.message.setText("Checking the passphrase…")
        check_in_background(self._tasks, lambda: self._unlock(passphrase), self._on_ok, self._on_refused)

    def _on_ok(self, _key: object) -> None:
        self._busy(False)
        self.accept()

    def _on_refused(self, sentence: str) -> None:
        self.failures += 1
        self._busy(False)
        self.field.clear()
        more = (
            " Each further wrong passphrase waits longer before it is refused." if self.failures > 1 else ""
        )
        self.message.setText(sentence + more)

    def _busy(self, busy: bool) -> None:
        self.field.setEnabled(not busy)
        self.buttons.setEnabled(not busy)
