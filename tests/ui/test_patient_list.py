"""The patient list: filters and search narrow it; selecting a row selects the patient."""

from __future__ import annotations

from desktop.ui.patient.patient_list import QtPatientList
from desktop.ui.workspace import Workspace
from tests.ui.conftest import wait_idle


def shown_ids(widget: QtPatientList) -> list[str]:
    return [str(r[1]) for r in widget.model.fetched_rows()][: widget.model.rowCount()]


def test_filters_narrow_the_list(qtbot, workspace: Workspace) -> None:
    widget = QtPatientList(workspace)
    qtbot.addWidget(widget)
    wait_idle(qtbot, workspace)
    assert widget.model.rowCount() == 3
    assert widget.count_label.text() == "3 patients"

    with qtbot.waitSignal(widget.model.counted):
        widget.sex.setCurrentIndex(widget.sex.findData("M"))
    assert sorted(shown_ids(widget)) == ["p-bob", "p-carl"]

    with qtbot.waitSignal(widget.model.counted):
        widget.age_min.setValue(40)  # debounced
    assert shown_ids(widget) == ["p-bob"]

    widget.sex.setCurrentIndex(0)
    widget.age_min.setValue(-1)
    wait_idle(qtbot, workspace)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 3)
    with qtbot.waitSignal(widget.model.counted):
        widget.condition.setCurrentIndex(widget.condition.findData("Diabetes mellitus type 2"))
    assert shown_ids(widget) == ["p-alice"]
    # A resolved condition is not active: Carl's pharyngitis is not offered.
    assert widget.condition.findData("Acute viral pharyngitis") == -1

    with qtbot.waitSignal(widget.model.counted):
        widget.condition.setCurrentIndex(0)
    with qtbot.waitSignal(widget.model.counted, timeout=5000):
        qtbot.keyClicks(widget.search, "brown")
    assert shown_ids(widget) == ["p-bob"]
    assert widget.model.data(widget.model.index(0, 0)) == "Mr. Bob Brown"


def test_selecting_a_row_selects_the_patient(qtbot, workspace: Workspace) -> None:
    widget = QtPatientList(workspace)
    qtbot.addWidget(widget)
    wait_idle(qtbot, workspace)
    with qtbot.waitSignal(workspace.patient_selected) as blocker:
        widget.select_row(0)
    assert blocker.args == ["p-alice"]
