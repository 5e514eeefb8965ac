"""The File menu's workspace flows: open (asking an encrypted file's passphrase first), create (encrypted
unless the user says not), the dialog for a workspace in use elsewhere, and exporting the observations.

It is handed what it needs (the workspace, the audit trail, where to say things) rather than the main
window, so it never imports qt_main_window.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from desktop.core.workspace.crypto import unlock_workspace
from desktop.core.workspace.keyslot import is_encrypted_workspace
from desktop.core.workspace.store import is_workspace_unlocked
from desktop.ui.security.export_notice import DEIDENTIFIED, ask_export_kind
from desktop.ui.security.in_use import WorkspaceInUseDialog
from desktop.ui.security.passphrase_dialogs import NewPassphraseDialog, UnlockDialog
from desktop.ui.security.window_security import show_tracked
from desktop.ui.workspace.state import Workspace

WORKSPACE_FILTER = "Vitalsight workspace (*.duckdb);;All files (*)"


class Exportable(Protocol):
    def export_to(self, path: str, *, deidentified: bool = False) -> None: ...


class WorkspaceFiles(QObject):
    def __init__(self, parent: QWidget, workspace: Workspace, *, observations: Exportable,
                 choose_workspace: Callable[[], None], show_status: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.workspace = workspace
        self.observations = observations
        self.choose_workspace = choose_workspace
        self.show_status = show_status
        self.dialog: QDialog | None = None  # the dialog showing now (tests drive it)
        workspace.in_use.connect(self.show_in_use)
        workspace.open_failed.connect(self._on_open_failed)

    def new_workspace(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget, "New workspace", str(Path.home() / "workspace.duckdb"), WORKSPACE_FILTER
        )
        if path:
            if not path.endswith(".duckdb"):
                path += ".duckdb"
            self.new_workspace_at(path)

    def new_workspace_at(self, path: str) -> NewPassphraseDialog | None:
        """A new workspace at ``path``: encrypted under a passphrase typed twice, unless the user ticks
        "no encryption". An existing file is opened instead (asking its passphrase if it has one)."""
        if Path(path).exists():
            self.open_workspace(path)
            return None
        dialog = NewPassphraseDialog(
            self.parent_widget,
            title="New workspace",
            intro=f"The new workspace {Path(path).name} will be encrypted: nobody can read its patients "
            "without this passphrase. There is no way to recover a forgotten passphrase; keep it "
            "where your clinic keeps such secrets.",
            allow_plaintext=True,
        )
        dialog.accepted.connect(lambda: self.workspace.create(path, passphrase=dialog.passphrase()))
        show_tracked(self, dialog)
        return dialog

    def open_workspace(self, path: str) -> UnlockDialog | None:
        """Open ``path``, asking for its passphrase first when it is encrypted and not unlocked."""
        if Path(path).exists() and is_encrypted_workspace(path) and not is_workspace_unlocked(path):
            dialog = UnlockDialog(
                self.parent_widget,
                path=path,
                unlock=lambda pw: unlock_workspace(path, pw),
                tasks=self.workspace.executor.tasks,
            )
            dialog.accepted.connect(lambda: self.workspace.open(path))
            dialog.rejected.connect(
                lambda: self._on_open_failed(
                    path, f"{Path(path).name} is encrypted and its passphrase was not given."
                )
            )
            show_tracked(self, dialog)
            return dialog
        self.workspace.open(path)
        return None

    def show_in_use(self, path: str, sentence: str) -> WorkspaceInUseDialog:
        dialog = WorkspaceInUseDialog(path, sentence, self.parent_widget)
        dialog.try_again.connect(self.open_workspace)
        dialog.open_another.connect(self.choose_workspace)
        show_tracked(self, dialog)
        return dialog

    def _on_open_failed(self, path: str, sentence: str) -> None:
        # Never an empty window without a reason: the status bar keeps saying why until something opens.
        if not self.workspace.is_open:
            self.show_status(f"No workspace open: {sentence}")

    def export_observations(self) -> None:
        kind = ask_export_kind(self.parent_widget, "The observations export")
        if kind is None:
            return
        suffix = "-deidentified" if kind == DEIDENTIFIED else ""
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget, "Export observations", str(Path.home() / f"observations{suffix}.csv"),
            "CSV (*.csv)"
        )
        if path:
            self.observations.export_to(path, deidentified=kind == DEIDENTIFIED)
