"""Import through the dialog: detected formats, a column mapping kept for next time, the report, Cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.core.importers import pipeline
from desktop.ui.importing.qt_import_dialog import REPORT, QtImportDialog
from desktop.ui.workspace import Workspace

TABLES = ("patients", "observations", "conditions", "encounters", "imports", "import_rejections", "column_mappings")


def counts(ws: Workspace) -> dict[str, int]:
    return ws.executor.run_sync(
        lambda store: {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    )


@pytest.fixture
def empty_workspace(make_workspace, tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "empty.duckdb")


def plan(qtbot, dialog: QtImportDialog, paths: list[Path]) -> None:
    with qtbot.waitSignal(dialog.planned, timeout=10000):
        dialog.choose_paths(paths)


def test_import_a_synthea_folder_through_the_dialog(qtbot, empty_workspace: Workspace, synthea_folder: Path) -> None:
    dialog = QtImportDialog(empty_workspace)
    qtbot.addWidget(dialog)
    dialog.show()
    plan(qtbot, dialog, [synthea_folder])
    shown = {dialog.plan_table.item(r, 0).text(): dialog.plan_table.item(r, 1).text()
             for r in range(dialog.plan_table.rowCount())}
    assert shown == {"patients.csv": "Synthea patients", "conditions.csv": "Synthea conditions",
                     "observations.csv": "Synthea observations"}
    with qtbot.waitSignal(empty_workspace.data_changed, timeout=20000):
        with qtbot.waitSignal(dialog.finished_import, timeout=20000) as done:
            qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)
    report = done.args[0]
    assert report.ok
    assert dialog.pages.currentIndex() == REPORT
    assert "observations.csv (Synthea observations): imported, 11 accepted, 0 rejected" in dialog.report_view.toPlainText()
    assert counts(empty_workspace)["patients"] == 3
    assert counts(empty_workspace)["observations"] == 11
    # Planning the same folder again says so before anything is imported.
    again = QtImportDialog(empty_workspace)
    qtbot.addWidget(again)
    plan(qtbot, again, [synthea_folder])
    assert {again.plan_table.item(r, 3).text() for r in range(3)} == {"already imported: will be skipped"}


def test_unknown_csv_gets_a_column_mapping_that_is_remembered(qtbot, empty_workspace: Workspace, tmp_path: Path) -> None:
    odd = tmp_path / "ward7.csv"
    odd.write_text("Who,Taken on,Kreat level,Notes\nw-1,2024-01-02,1.5,ok\nw-1,2024-02-02,oops,bad\n", encoding="utf-8")
    dialog = QtImportDialog(empty_workspace)
    qtbot.addWidget(dialog)
    plan(qtbot, dialog, [odd])
    assert dialog.plan_table.item(0, 1).text() == "Not recognised: map its columns"
    qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)  # -> mapping page
    mapper = dialog.mapper
    mapper.patient.setCurrentIndex(mapper.patient.findData("Who"))
    mapper.time.setCurrentIndex(mapper.time.findData("Taken on"))
    mapper.set_measurement("Kreat level", "38483-4", "mg/dL")
    mapper.name.setText("Ward 7")
    with qtbot.waitSignal(dialog.planned):
        qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)  # use the mapping
    assert dialog.plan_table.item(0, 1).text() == "Your saved column mapping"
    with qtbot.waitSignal(dialog.finished_import, timeout=20000) as done:
        dialog.start_import()
    report = done.args[0]
    assert report.files[0].rows_accepted == 1
    assert report.files[0].rows_rejected == 1  # "oops" is not a number: reported with its line
    assert "line 3" in dialog.report_view.toPlainText()
    assert counts(empty_workspace)["column_mappings"] == 1

    # Next time the same columns are recognised without asking.
    again = tmp_path / "ward7-march.csv"
    again.write_text("Who,Taken on,Kreat level,Notes\nw-2,2024-03-02,0.9,\n", encoding="utf-8")
    second = QtImportDialog(empty_workspace)
    qtbot.addWidget(second)
    plan(qtbot, second, [again])
    assert second.plan_table.item(0, 1).text() == "Your saved column mapping"
    assert not second.unknown_files()


def test_cancel_during_an_import_leaves_the_workspace_unchanged(
    qtbot, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.ui.conftest import write_synthea

    before = counts(workspace)
    folder = write_synthea(tmp_path / "second")
    # Make every id new, so the import would add rows if it were not cancelled.
    for name in ("patients.csv", "conditions.csv", "observations.csv"):
        f = folder / name
        f.write_text(f.read_text(encoding="utf-8").replace("p-", "q-"), encoding="utf-8")

    reached, release = threading.Event(), threading.Event()
    real_import_file = pipeline._import_file

    def slow_import_file(con, item, **options):  # the first file is in, inside the open transaction; wait here
        report = real_import_file(con, item, **options)
        reached.set()
        release.wait(10)
        return report

    monkeypatch.setattr(pipeline, "_import_file", slow_import_file)
    dialog = QtImportDialog(workspace)
    qtbot.addWidget(dialog)
    plan(qtbot, dialog, [folder])
    dialog.start_import()
    qtbot.waitUntil(reached.is_set, timeout=10000)
    assert dialog.cancel_button.text() == "Cancel import"
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.finished_import, timeout=20000) as done:
        release.set()
    report = done.args[0]
    assert {f.status for f in report.files} == {"cancelled"}
    assert counts(workspace) == before


def test_unknown_long_csv_is_mapped_as_one_row_per_reading(qtbot, empty_workspace: Workspace, tmp_path: Path) -> None:
    odd = tmp_path / "lab-export.csv"
    odd.write_text("Subject,Drawn,Analyte,Res,UOM\ns-1,2024-01-02T08:00:00,Creatinine,88,umol/L\n"
                   "s-1,2024-02-02T08:00:00,Potassium,4.1,mmol/L\n", encoding="utf-8")
    dialog = QtImportDialog(empty_workspace)
    qtbot.addWidget(dialog)
    plan(qtbot, dialog, [odd])
    qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)
    m = dialog.mapper
    m.layout_choice.setCurrentIndex(m.layout_choice.findData("long"))
    assert m.patient.currentData() == "Subject" and m.time.currentData() == "Drawn"  # guessed from the names
    m.measure_col.setCurrentIndex(m.measure_col.findData("Analyte"))
    m.value_col.setCurrentIndex(m.value_col.findData("Res"))
    m.unit_col.setCurrentIndex(m.unit_col.findData("UOM"))
    with qtbot.waitSignal(dialog.planned):
        qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.finished_import, timeout=20000) as done:
        dialog.start_import()
    assert done.args[0].files[0].rows_accepted == 2
    creatinine = empty_workspace.executor.run_sync(
        lambda store: store.con.execute("SELECT value, unit FROM observations WHERE code = '38483-4'").fetchone())
    assert creatinine[1] == "mg/dL" and abs(creatinine[0] - 88 / 88.42) < 0.01  # converted to the canonical unit


def test_snapshot_file_is_mapped_with_one_date_conditions_and_words(
    qtbot, empty_workspace: Workspace, tmp_path: Path
) -> None:
    """A Kaggle-style file (one row per patient, no time column): the date is asked for (the day the file was
    saved shown beside it), yes/no columns become conditions, smoking status is kept as words, and the report counts
    the file's rows."""
    import os
    from datetime import datetime

    from desktop.ui.importing.qt_column_mapping import CONDITION, TEXT
    from devtools.synthetic import generate_cohort
    from tests.core.test_import_snapshot import messy_snapshot

    generate_cohort(tmp_path / "cohort", patients=12, years=1, seed=5, wide_rows=0)
    path, rows = messy_snapshot(tmp_path / "cohort" / "snapshot.csv", tmp_path / "heart.csv")
    saved = datetime(2025, 2, 3, 9, 30).timestamp()
    os.utime(path, (saved, saved))
    dialog = QtImportDialog(empty_workspace)
    qtbot.addWidget(dialog)
    plan(qtbot, dialog, [path])
    qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)  # -> mapping page
    m = dialog.mapper
    assert m.time.currentData() is None and m.observed_on.isEnabled()  # no time column: one date for the file
    # The date is asked for, never taken silently: the file's modification day is shown beside it, one click away.
    assert not m.date_chosen() and "last saved on 2025-02-03" in m.file_date.text()
    qtbot.mouseClick(m.use_file_date, Qt.MouseButton.LeftButton)
    assert m.observed_on.date().toString("yyyy-MM-dd") == "2025-02-03"
    assert (m.patient.currentData(), m.sex.currentData(), m.age.currentData()) == ("Patient_ID", "Gender", "Age")
    m.set_measurement("Blood_Pressure", "8480-6", "mm[Hg]")
    m.set_measurement("Cholesterol", "2093-3", "mg/dL")
    m.set_measurement("BMI", "39156-5", "kg/m2")
    m.set_measurement("Smoking_Status", TEXT)
    m.set_measurement("Diabetes", CONDITION, "Diabetes mellitus")
    m.set_measurement("Heart_Disease", CONDITION)  # named from the column: "Heart Disease"
    with qtbot.waitSignal(dialog.planned):
        qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.finished_import, timeout=20000) as done:
        dialog.start_import()
    f = done.args[0].files[0]
    rejected_lines = {r["line"] for r in f.rejections}
    assert len(rejected_lines) == f.rows_rejected == 5  # the five bad rows the messy file adds
    assert f.rows_accepted + f.rows_rejected == len(rows) + 8  # every row of the file counted
    text = dialog.report_view.toPlainText()
    assert f"heart.csv (Your saved column mapping): imported, {f.rows_accepted} accepted, 5 rejected" in text
    assert "every value and condition is dated 2025-02-03" in text
    assert "Diabetes 'maybe' is neither yes" in text
    stored = empty_workspace.executor.run_sync(lambda store: (
        store.con.execute("SELECT DISTINCT description FROM conditions ORDER BY 1").fetchall(),
        store.con.execute("SELECT value_raw FROM observations WHERE patient_id = 'X-7' AND value IS NULL").fetchall(),
        store.con.execute("SELECT mapping_json FROM column_mappings").fetchone()[0]))
    assert set(stored[0]) <= {("Diabetes mellitus",), ("Heart Disease",)} and ("Heart Disease",) in stored[0]
    assert stored[1] == [("Smokes 1-9 a day",)]
    assert '"observed_on": "file-modified"' in stored[2]  # remembered: each later file is dated by its own day
