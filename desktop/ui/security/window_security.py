"""The window's security wiring, kept out of qt_main_window.py: the File menu's security entries
(encrypting, changing the passphrase, the lock, the audit log, auto-lock) and the audit trail of window
actions. Opening and creating workspaces is desktop/ui/workspace/files.py.

It is handed the main window as a plain QMainWindow with what it needs beside it, so it never imports
qt_main_window.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFormLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressDialog,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.importers import ImportReport
from desktop.core.settings import MAX_AUTO_LOCK_MINUTES, MIN_AUTO_LOCK_MINUTES, AppSettings
from desktop.core.workspace.crypto import (
    LEFTOVER_WARNING,
    RewriteResult,
    change_passphrase,
    encrypt_workspace,
)
from desktop.core.workspace.keyslot import is_encrypted_workspace
from desktop.core.workspace.store import Store, forget_workspace_key, open_store
from desktop.ui.executor import op
from desktop.ui.qt_settings import save_settings
from desktop.ui.security.audit_log import AuditLogDialog, AuditTrail
from desktop.ui.security.lock import AVAILABLE_WHEN_LOCKED, LockController
from desktop.ui.security.passphrase_dialogs import NewPassphraseDialog

if TYPE_CHECKING:
    from desktop.ui.workspace.state import Workspace


def show_tracked(owner: QObject, dialog: QDialog, *, modal: bool = True) -> None:
    """Show ``dialog`` as ``owner.dialog`` (tests drive the dialog showing now) until it is closed."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.destroyed.connect(lambda: setattr(owner, "dialog", None) if owner.dialog is dialog else None)
    owner.dialog = dialog  # type: ignore[attr-defined]
    if modal:
        dialog.open()
    else:
        dialog.show()


class WindowSecurity(QObject):
    def __init__(self, window: QMainWindow, stack: QStackedWidget, *, workspace: Workspace,
                 settings: AppSettings, dock: QDockWidget, exports: QObject) -> None:
        """``exports`` emits ``exported(path, rows)`` after each observations export (recorded here)."""
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.workspace = workspace
        self.trail = AuditTrail(self.workspace)
        self.lock = LockController(
            window,
            stack=stack,
            dock=dock,
            tasks=self.workspace.executor.tasks,
            workspace_path=lambda: self.workspace.path,
            record=self.trail.record,
            idle_minutes=settings.auto_lock_minutes,
        )
        self.dialog: QDialog | None = None  # the security dialog showing now (tests drive it)
        self.rewriting = False  # a rewrite reopens the file with the key: a lock meanwhile forgets it after
        self.lock.keep_key = lambda: self.rewriting
        self.messages: list[str] = []  # what the flows told the user, newest last
        self.workspace.opened.connect(self._on_opened)
        self.workspace.patient_selected.connect(self._on_patient)
        exports.exported.connect(  # type: ignore[attr-defined]
            lambda path, rows: self.record_export(
                "observations CSV", path, rows, deidentified=getattr(exports, "last_export_deidentified", False)
            )
        )

    # Menu
    def add_file_actions(self, menu: QMenu) -> None:
        def action(text: str, slot: Callable[[], object], shortcut: str | None = None) -> QAction:
            act = QAction(text, self.window)
            if shortcut:
                act.setShortcut(shortcut)
                act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        self.encrypt_action = action("E&ncrypt workspace…", self.encrypt_workspace)
        self.change_action = action("Change &passphrase…", self.change_passphrase)
        self.audit_action = action("&Audit log…", self.show_audit_log)
        self.lock_action = action("&Lock now", lambda: self.lock.lock(reason="Locked on request."), "Ctrl+L")
        self.lock_action.setProperty(AVAILABLE_WHEN_LOCKED, True)
        self.auto_lock_action = action("Auto-lock &settings…", self.show_auto_lock_settings)
        self._enable_workspace_actions()

    def _enable_workspace_actions(self) -> None:
        path = self.workspace.path
        encrypted = bool(path) and is_encrypted_workspace(path)  # type: ignore[arg-type]
        self.encrypt_action.setEnabled(bool(path) and not encrypted)
        self.change_action.setEnabled(encrypted)
        self.audit_action.setEnabled(bool(path))

    def _inform(self, text: str, *, warning: bool = False) -> None:
        self.messages.append(text)
        icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
        box = QMessageBox(icon, "Vitalsight", text, parent=self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_opened(self, path: str) -> None:
        self._enable_workspace_actions()
        kind = "encrypted" if is_encrypted_workspace(path) else "not encrypted"
        self.trail.record("workspace_opened", detail=f"{Path(path).name} ({kind})")

    def _on_patient(self, patient_id: str) -> None:
        if patient_id:  # the workspace emits once per new selection, never per repaint
            self.trail.record("patient_viewed", patient_id=patient_id)

    # Encrypting and changing the passphrase (the core rewrites, verifies, then replaces the file)
    def encrypt_workspace(self) -> NewPassphraseDialog | None:
        path = self.workspace.path
        if not path:
            return None
        dialog = NewPassphraseDialog(
            self.window,
            title="Encrypt workspace",
            intro=f"{Path(path).name} will be rewritten encrypted under this passphrase: a new file is "
            "written "
            "and checked row by row before it replaces the old one.",
            notice=LEFTOVER_WARNING,
        )
        # The passphrases are read now, on the GUI thread: the dialog is gone when the rewrite runs.
        dialog.accepted.connect(lambda: self._encrypt_with(dialog.passphrase() or ""))
        show_tracked(self, dialog)
        return dialog

    def change_passphrase(self) -> NewPassphraseDialog | None:
        path = self.workspace.path
        if not path:
            return None
        dialog = NewPassphraseDialog(
            self.window,
            title="Change passphrase",
            ask_current=True,
            intro=f"{Path(path).name} will be re-encrypted under the new passphrase; the old one will no "
            "longer open it.",
            notice=LEFTOVER_WARNING,
        )
        dialog.accepted.connect(
            lambda: self._change_with(dialog.current_passphrase(), dialog.passphrase() or "")
        )
        show_tracked(self, dialog)
        return dialog

    def _encrypt_with(self, passphrase: str) -> None:
        self.run_rewrite("Encrypting the workspace", lambda target: encrypt_workspace(target, passphrase))

    def _change_with(self, old: str, new: str) -> None:
        self.run_rewrite("Changing the passphrase", lambda target: change_passphrase(target, old, new))

    def run_rewrite(self, title: str, work: Callable[[str], RewriteResult]) -> None:
        """Run ``work(path)`` on the database thread with the workspace closed, then reopen it; a busy
        dialog shows meanwhile (the rewrite cannot stop half-way: the old file stays until it is done)."""
        path = self.workspace.path
        if not path:
            return
        executor = self.workspace.executor
        progress = QProgressDialog(
            f"{title}: writing a new copy, verifying it, then replacing the old file…", "", 0, 0, self.window
        )
        progress.setCancelButton(None)  # type: ignore[arg-type]
        progress.setWindowTitle(title)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.show()
        self.progress = progress

        def run(_store: Store | None) -> RewriteResult:
            executor.replace_store(None)  # the rewrite needs the file to itself
            try:
                return work(path)
            finally:
                executor.replace_store(open_store(path))

        def finished() -> None:
            progress.close()
            progress.deleteLater()  # not shown again by an unlock
            self.rewriting = False
            if self.lock.is_locked:
                forget_workspace_key()
            self._enable_workspace_actions()

        def done(result: RewriteResult) -> None:
            finished()
            self._inform(result.message)

        def failed(exc: BaseException) -> None:
            from desktop.ui.qt_errors import user_message

            finished()
            self._inform(user_message(exc), warning=True)

        self.rewriting = True
        self.workspace.busy.emit(f"{title}…")
        op(run).success(done).failure(failed).run(executor, needs_store=False)

    # Audit log, exports, imports, settings
    def show_audit_log(self) -> AuditLogDialog | None:
        if not self.workspace.is_open:
            return None
        dialog = AuditLogDialog(self.workspace, self.trail, self.window)
        show_tracked(self, dialog, modal=False)
        return dialog

    def record_export(self, what: str, path: str, rows: int, *, deidentified: bool) -> None:
        self.trail.record(
            "data_exported",
            detail=f"{what}, {rows} rows{', de-identified' if deidentified else ''}, to {path}",
        )

    def record_import(self, report: ImportReport) -> None:
        for file in report.files:
            if file.status == "imported":
                self.trail.record(
                    "file_imported",
                    detail=f"{Path(file.file).name} ({file.format}): "
                    f"{file.rows_accepted} rows accepted, {file.rows_rejected} rejected",
                )

    def record_setting(self, name: str, value: object) -> None:
        self.trail.record("setting_changed", detail=f"{name} = {value}")

    def show_auto_lock_settings(self) -> AutoLockDialog:
        dialog = AutoLockDialog(self.settings.auto_lock_minutes, self.window)
        dialog.accepted.connect(lambda: self.set_auto_lock_minutes(dialog.minutes.value()))
        show_tracked(self, dialog)
        return dialog

    def set_auto_lock_minutes(self, minutes: int) -> None:
        if minutes == self.settings.auto_lock_minutes:
            return
        self.settings.auto_lock_minutes = minutes
        save_settings(self.settings)
        self.lock.set_idle_minutes(minutes)
        self.record_setting("auto-lock minutes", minutes)

    def shutdown(self) -> None:
        self.lock.shutdown()


class AutoLockDialog(QDialog):
    def __init__(self, minutes: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Auto-lock")
        layout = QVBoxLayout(self)
        text = QLabel(
            "The window locks itself after this time without keyboard or mouse input, hiding every "
            "patient until the passphrase is typed again. Ctrl+L locks it at once."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.minutes = QSpinBox()
        self.minutes.setRange(MIN_AUTO_LOCK_MINUTES, MAX_AUTO_LOCK_MINUTES)
        self.minutes.setSuffix(" minutes")
        self.minutes.setValue(minutes)
        form.addRow("Lock after:", self.minutes)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
