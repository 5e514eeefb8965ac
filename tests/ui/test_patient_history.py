"""The patient view's allergies and active medications: marked, counted, compact, and all of it one click away."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint

from desktop.ui.patient.view import QtPatientView
from desktop.ui.workspace import Workspace

from .conftest import write_synthea

MEDICATIONS = """START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION
2015-03-01T09:00:00Z,,p-alice,py,e1,860975,24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet,2,0,12,24,44054006,Diabetes mellitus type 2
2016-03-01T09:00:00Z,,p-alice,py,e1,314076,lisinopril 10 MG Oral Tablet,1,0,12,12,,
2017-03-01T09:00:00Z,,p-alice,py,e1,197361,amlodipine 5 MG Oral Tablet,1,0,12,12,,
2018-03-01T09:00:00Z,,p-alice,py,e1,310798,Hydrochlorothiazide 25 MG Oral Tablet,1,0,12,12,,
2019-03-01T09:00:00Z,,p-alice,py,e1,259255,atorvastatin 80 MG Oral Tablet,1,0,12,12,,
2020-03-01T09:00:00Z,2020-03-11T09:00:00Z,p-alice,py,e1,308182,Amoxicillin 250 MG Oral Capsule,3,0,1,3,,
"""
ALLERGIES = """START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2
2010-02-03,,p-alice,e1,762952008,SNOMED-CT,Peanut (substance),allergy,food,39579001,Anaphylaxis (disorder),SEVERE,,,
2010-02-03,,p-alice,e1,419199007,SNOMED-CT,Allergy to substance (finding),allergy,environment,,,,,,
"""
IMMUNIZATIONS = """DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST
2021-10-01T09:00:00Z,p-alice,e1,140,Influenza  seasonal  injectable  preservative free,136.00
"""


@pytest.fixture
def synthea_folder(tmp_path: Path) -> Path:
    folder = write_synthea(tmp_path / "synthea")
    (folder / "medications.csv").write_text(MEDICATIONS, encoding="utf-8")
    (folder / "allergies.csv").write_text(ALLERGIES, encoding="utf-8")
    (folder / "immunizations.csv").write_text(IMMUNIZATIONS, encoding="utf-8")
    return folder


@pytest.fixture
def view(qtbot, workspace: Workspace) -> QtPatientView:
    widget = QtPatientView(workspace)
    qtbot.addWidget(widget)
    widget.resize(1000, 650)  # the patient view's share of a 1366x768 screen beside the list and the dock
    widget.show()
    return widget


def select(qtbot, view: QtPatientView, patient_id: str) -> None:
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.workspace.select_patient(patient_id)


def test_allergies_marked_and_medications_counted(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    block = view.summary.history
    assert block.isVisible()
    allergies = block.allergies.text()
    assert "ALLERGIES (2, 1 severe)" in allergies and "Peanut (substance)" in allergies
    assert "Anaphylaxis (disorder), severe" in allergies
    assert allergies.index("Peanut") < allergies.index("Allergy to substance")  # the severe one first
    assert "#c00000" in block.allergies.styleSheet()  # a red band, as well as the words
    meds = block.medications.text()
    assert "Active medications (5, as of 2023-03-12)" in meds  # the workspace's latest reading, not today
    assert "atorvastatin" in meds and "… 2 more" in meds and "show all" in meds
    assert "Amoxicillin" not in meds  # stopped in 2020


def test_show_all_lists_past_medications_and_immunizations(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    view.summary.history.medications.linkActivated.emit("show-all")
    dialog = view.summary.history.dialog
    assert dialog is not None and dialog.isVisible()
    text = view.summary.history.dialog_text.toPlainText()
    assert "Past medications (1)" in text and "Amoxicillin 250 MG Oral Capsule" in text
    assert "Immunizations (1)" in text and "Influenza" in text
    assert "for Diabetes mellitus type 2" in text
    # Another patient closes the window: it never shows one patient's list beside another's record.
    select(qtbot, view, "p-bob")
    assert not dialog.isVisible()


def test_a_patient_without_any(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-bob")
    block = view.summary.history
    assert block.allergies.text() == "<b>Allergies:</b> none recorded"
    assert "#c00000" not in block.allergies.styleSheet()
    assert "Active medications (0" in block.medications.text() and "show all" not in block.medications.text()


def test_the_block_does_not_push_the_vitals_table_off_screen(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    table = view.summary.table
    qtbot.waitUntil(lambda: table.isVisible())
    top = table.mapTo(view, QPoint(0, 0)).y()
    assert top + table.horizontalHeader().height() + 24 * table.rowCount() <= view.height()
    assert view.summary.history.height() < 90  # two lines, however long the record


def test_no_patient_hides_the_block(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    view.show_patient("")
    assert not view.summary.history.isVisible()


def test_value_flag_and_range_stay_on_screen_in_a_narrow_view(qtbot, view: QtPatientView) -> None:
    """At 1366x768 with the list and the assistant open the patient view is about 560 px wide: the name
    column elides so that the latest value, its unit, flag and healthy range are all visible."""
    select(qtbot, view, "p-alice")
    table = view.summary.table
    wide_name = table.columnWidth(0)
    needed = sum(table.columnWidth(c) for c in range(5))  # name, value, unit, flag, range at full width
    assert wide_name - 40 >= 90, "the test needs a name column that can give 40 px"
    view.resize(view.width() - (table.viewport().width() - needed) - 40, 650)  # 40 px too narrow for all five
    qtbot.waitUntil(lambda: table.columnWidth(0) < wide_name)
    assert table.columnViewportPosition(4) + table.columnWidth(4) <= table.viewport().width()  # range visible
    assert table.columnWidth(0) >= 90  # the name gave way, down to a readable minimum
    view.resize(1000, 650)
    qtbot.waitUntil(lambda: table.columnWidth(0) == wide_name)  # room again: the whole name comes back
