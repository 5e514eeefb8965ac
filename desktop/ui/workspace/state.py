"""The open workspace as a Qt model: views get it in their constructor and follow its signals.

It owns no data; it says which workspace is open and when its contents changed (after an import),
and runs every database call on the one executor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMetaMethod, QObject, Signal

from desktop.core.clinical.display_units import DisplayUnits
from desktop.core.workspace.crypto import create_encrypted_workspace
from desktop.core.workspace.store import Store, WorkspaceInUse, open_store
from desktop.ui.executor import DbExecutor, op


class Workspace(QObject):
    opened = Signal(str)  # the workspace path, once its store is open
    data_changed = Signal()  # rows were added (an import finished)
    patient_selected = Signal(str)  # the patient every view follows ("" for none)
    display_units_changed = Signal()
    busy = Signal(str)  # a status message while long work runs ("" when done)
    # (path, sentence naming the other process): another process holds the workspace. The window offers
    # "Try again" and "Open another workspace..."; without a receiver the sentence goes to the presenter.
    in_use = Signal(str, str)
    open_failed = Signal(str, str)  # (path, sentence): the window says why no workspace is open

    def __init__(self, executor: DbExecutor | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.executor = executor or DbExecutor(parent=self)
        self.path: str | None = None
        self.patient_id: str | None = None
        self.display_units = DisplayUnits()

    @property
    def is_open(self) -> bool:
        return self.path is not None

    def open(self, path: str | Path) -> None:
        """Open an existing workspace file; ``opened`` follows once the schema is up to date. A path that
        does not exist is refused (only File > New, :meth:`create`, makes one), and so is a file that is not a
        Vitalsight workspace, untouched. An encrypted one must have been unlocked first
        (workspace_crypto.unlock_workspace).
        """
        self._switch(path, lambda target: open_store(target, create=False))

    def create(self, path: str | Path, *, passphrase: str | None) -> None:
        """Create a new workspace, encrypted under ``passphrase`` (None: plaintext, the user's choice)."""
        if passphrase is None:
            self._switch(path, lambda target: open_store(target))
        else:
            self._switch(path, lambda target: create_encrypted_workspace(target, passphrase))

    def _switch(self, path: str | Path, opener: Callable[[str], Store]) -> None:
        target = str(Path(path).expanduser().resolve())  # recent lists must work from any folder
        executor = self.executor

        def switch(_: Store | None) -> str:
            executor.replace_store(opener(target))
            return target

        self.busy.emit(f"Opening {Path(target).name}…")
        op(switch).success(self._on_opened).failure(
            lambda exc: self._on_open_failed(target, exc)).run(executor, needs_store=False)

    def _on_opened(self, path: str) -> None:
        self.busy.emit("")
        self.path = path
        self.patient_id = None
        self.opened.emit(path)
        self.patient_selected.emit("")

    def _on_open_failed(self, target: str, exc: BaseException) -> None:
        from desktop.ui.qt_errors import show_exception, user_message

        self.busy.emit("")
        self.open_failed.emit(target, user_message(exc))
        if isinstance(exc, WorkspaceInUse) and self.isSignalConnected(QMetaMethod.fromSignal(self.in_use)):
            self.in_use.emit(target, str(exc))
            return
        show_exception(None, exc)

    def select_patient(self, patient_id: str) -> None:
        if patient_id == (self.patient_id or ""):
            return
        self.patient_id = patient_id or None
        self.patient_selected.emit(patient_id)

    def set_display_units(self, units: DisplayUnits) -> None:
        if units != self.display_units:
            self.display_units = units
            self.display_units_changed.emit()

    def notify_changed(self) -> None:
        self.data_changed.emit()

    def shutdown(self) -> None:
        self.executor.shutdown()
