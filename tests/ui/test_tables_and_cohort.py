"""Observations table (sort, filter, copy, export CSV), cohort trends, and plot PNG export."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.ui.patient.observations import QtObservationsTable
from desktop.ui.patient.view import QtPatientView
from desktop.ui.plots.qt_cohort_view import QtCohortView
from desktop.ui.workspace import Workspace
from tests.ui.conftest import wait_idle


def test_export_writes_the_filtered_rows(qtbot, workspace: Workspace, tmp_path: Path) -> None:
    table = QtObservationsTable(workspace)
    qtbot.addWidget(table)
    wait_idle(qtbot, workspace)
    with qtbot.waitSignal(table.model.counted):
        table.scope.setCurrentIndex(table.scope.findData("all"))
    assert table.model.rowCount() == 11
    with qtbot.waitSignal(table.model.counted):
        table.measurement.setCurrentIndex(table.measurement.findData("38483-4"))
    assert table.model.rowCount() == 6
    with qtbot.waitSignal(workspace.patient_selected):
        workspace.select_patient("p-alice")
    with qtbot.waitSignal(table.model.counted):
        table.scope.setCurrentIndex(table.scope.findData("patient"))
    assert table.model.rowCount() == 3
    # newest first by default; sort ascending by value
    with qtbot.waitSignal(table.model.counted):
        table.table.horizontalHeader().setSortIndicator(4, Qt.SortOrder.AscendingOrder)
    assert [r[4] for r in table.model.fetched_rows()] == [0.8, 0.9, 1.4]

    out = tmp_path / "alice-creatinine.csv"
    with qtbot.waitSignal(table.exported, timeout=10000) as done:
        table.export_to(str(out))
    assert done.args == [str(out), 3]
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["Patient"], r["Code"], float(r["Value"]), r["Unit"]) for r in rows] == [
        ("p-alice", "38483-4", 0.8, "mg/dL"), ("p-alice", "38483-4", 0.9, "mg/dL"), ("p-alice", "38483-4", 1.4, "mg/dL"),
    ]

    table.table.selectRow(2)
    text = table.copy_selection()
    assert QGuiApplication.clipboard().text() == text
    assert text.splitlines()[0].startswith("Time (UTC)\tPatient")
    assert "\t1.4\t" in text.splitlines()[1]


def test_cohort_trend_grouped_by_sex(qtbot, workspace: Workspace) -> None:
    view = QtCohortView(workspace)  # the workspace is open: the view fills its choices and computes
    qtbot.addWidget(view)
    wait_idle(qtbot, workspace)
    creatinine = view.measurement.findData("38483-4")
    assert creatinine == 0  # the most measured comes first and is computed straight away
    assert view.measurement.currentIndex() == creatinine
    groups = {(r.group, r.period[:4]): r for r in view.rows}
    assert groups[("Female", "2023")].mean == 1.4
    assert groups[("Male", "2021")].patients == 1
    assert view.table.rowCount() == len(view.rows) == 6
    assert "Creatinine (mg/dL)" in view.plot.getAxis("left").labelText
    with qtbot.waitSignal(view.computed, timeout=10000):
        view.condition.setCurrentIndex(view.condition.findData("Diabetes mellitus type 2"))
    assert {r.group for r in view.rows} == {"Female"}


def test_plots_export_as_png(qtbot, workspace: Workspace, tmp_path: Path) -> None:
    view = QtPatientView(workspace)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=10000):
        workspace.select_patient("p-alice")
    out = tmp_path / "plots.png"
    view.plots.export_png(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_patients_readings_drop_the_patient_column(qtbot, workspace: Workspace) -> None:
    table = QtObservationsTable(workspace)
    qtbot.addWidget(table)
    wait_idle(qtbot, workspace)
    with qtbot.waitSignal(table.model.counted):
        table.scope.setCurrentIndex(table.scope.findData("all"))
    assert not table.table.isColumnHidden(1)
    with qtbot.waitSignal(table.model.counted):
        table.scope.setCurrentIndex(table.scope.findData("patient"))
    assert table.table.isColumnHidden(1)


def test_cohort_view_stacks_the_table_under_the_plot_when_narrow(qtbot, workspace: Workspace) -> None:
    view = QtCohortView(workspace)
    qtbot.addWidget(view)
    view.resize(1500, 700)
    view.show()
    qtbot.waitUntil(lambda: view.splitter.orientation() == Qt.Orientation.Horizontal)
    view.resize(900, 700)
    qtbot.waitUntil(lambda: view.splitter.orientation() == Qt.Orientation.Vertical)
    wait_idle(qtbot, workspace)
