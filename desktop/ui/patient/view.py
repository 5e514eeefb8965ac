"""The patient view: the summary (latest values, flags, BP category, NEWS2) above one plot per measurement.

The two share a vertical splitter the clinician can move; where they leave it is remembered. The first
time, the summary gets room for at least ten latest values and the plots the rest.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from desktop.core.clinical.patient_settings import set_spo2_scale2
from desktop.core.queries.medications import patient_history
from desktop.core.queries.plot_order import PlotGroups, code_categories, plot_groups
from desktop.core.queries.series import patient_series
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store
from desktop.ui.executor import op
from desktop.ui.patient.summary import QtPatientSummary
from desktop.ui.plots.qt_vitals_plots import QtVitalsPlots
from desktop.ui.qt_settings import qsettings
from desktop.ui.workspace import Workspace

SPLITTER_KEY = "patient_view/splitter"  # where the clinician left the summary/plots divider


def load_patient(store: Store, patient_id: str) -> tuple[dict[str, Any], PlotGroups]:
    summary = {**patient_summary(store, patient_id), "history": patient_history(store, patient_id=patient_id)}
    series = patient_series(store, patient_id)
    return summary, plot_groups(series, code_categories(store, [s.code for s in series]))


class QtPatientView(QWidget):
    #: the patient's summary and plots are on screen (tests and benchmarks wait on it)
    loaded = Signal(str)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.summary = QtPatientSummary()
        self.plots = QtVitalsPlots()
        splitter = self.splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.summary)
        splitter.addWidget(self.plots)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        saved = qsettings().value(SPLITTER_KEY)
        self._placed = isinstance(saved, QByteArray) and splitter.restoreState(saved)
        splitter.splitterMoved.connect(self._remember_splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._generation = 0
        self._data: tuple[dict[str, Any], PlotGroups] | None = None
        self.summary.title.setText("<i>No patient selected. Pick one from the list on the left.</i>")
        self.summary.scale2_toggled.connect(self._set_scale2)
        workspace.patient_selected.connect(self.show_patient)
        workspace.display_units_changed.connect(self._render)
        workspace.data_changed.connect(lambda: self.show_patient(workspace.patient_id or ""))

    def show_patient(self, patient_id: str) -> None:
        self._generation += 1
        generation = self._generation
        if not patient_id:
            self._data = None
            self.summary.title.setText("<i>No patient selected. Pick one from the list on the left.</i>")
            self.summary.scores.setText("")
            self.summary.history.show_history(None)
            self.summary.table.setRowCount(0)
            self.summary.deceased.hide()
            self.plots.clear()
            return
        self.summary.title.setText(f"<i>Loading {patient_id}…</i>")
        op(lambda store: load_patient(store, patient_id)).success(
            lambda data: self._on_loaded(generation, patient_id, data)
        ).run(self.workspace.executor)

    def _set_scale2(self, enabled: bool) -> None:
        patient_id = self.workspace.patient_id
        if not patient_id:
            return
        op(lambda store: set_spo2_scale2(store, patient_id=patient_id, enabled=enabled)).success(
            lambda _change: self.show_patient(patient_id)
        ).run(self.workspace.executor)

    def _remember_splitter(self, *_: object) -> None:
        self._placed = True
        settings = qsettings()
        settings.setValue(SPLITTER_KEY, self.splitter.saveState())
        settings.sync()

    def _place_splitter(self) -> None:
        """First time only: the summary as tall as ten latest values need, the plots the rest."""
        if self._placed:
            return
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        top = min(self.summary.wanted_height(), total - 160)
        self.splitter.setSizes([top, total - top])

    def _on_loaded(self, generation: int, patient_id: str, data: tuple[dict[str, Any], PlotGroups]) -> None:
        if generation != self._generation:
            return  # the clinician has already moved to another patient
        self._data = data
        self._render()
        self.loaded.emit(patient_id)

    def _render(self) -> None:
        if self._data is None:
            return
        summary, groups = self._data
        units = self.workspace.display_units
        self.summary.show_summary(summary, units)
        self._place_splitter()
        self.plots.show_series(groups.main, units, summary["patient"]["sex"], more=groups.more)
