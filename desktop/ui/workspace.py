"""The open workspace as a Qt model: views get it in their constructor and follow its signals.

It owns no data; it says which workspace is open and when its contents changed (after an import),
and runs every database call on the one executor.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.clinical.display_units import DisplayUnits
from desktop.core.store import Store, open_store
from desktop.ui.executor import DbExecutor, op


class Workspace(QObject):
    opened = Signal(str)  # the workspace path, once its store is open
    data_changed = Signal()  # rows were added (an import finished)
    patient_selected = Signal(str)  # the patient every view follows ("" for none)
    display_units_changed = Signal()
    busy = Signal(str)  # a status message while long work runs ("" when done)

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
        """Open (or create) a workspace file; ``opened`` follows once the schema is up to date."""
        target = str(Path(path).expanduser().resolve())  # recent lists must work from any folder
        executor = self.executor

        def switch(_: Store | None) -> str:
            executor.replace_store(open_store(target))
            return target

        self.busy.emit(f"Opening {Path(target).name}…")
        op(switch).success(self._on_opened).failure(self._on_open_failed).run(executor, needs_store=False)

    def _on_opened(self, path: str) -> None:
        self.busy.emit("")
        self.path = path
        self.patient_id = None
        self.opened.emit(path)
        self.patient_selected.emit("")

    def _on_open_failed(self, exc: BaseException) -> None:
        from desktop.ui.qt_errors import show_exception

        self.busy.emit("")
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
