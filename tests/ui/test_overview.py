"""The Overview is a worklist: the most severe recent findings first, each row with what is wrong and the
date of its data; "recent only" (on by default) can be widened; Enter opens the patient."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.importers import import_paths
from desktop.core.workspace.store import open_store
from desktop.ui.patient.overview import DATA, PATIENT, PRIORITY, WHAT, QtOverview
from devtools.synthetic import generate_cohort


@pytest.fixture(scope="module")
def cohort_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("overview")
    generate_cohort(tmp / "cohort", patients=25, years=4, seed=5, wide_rows=0)
    path = tmp / "ws.duckdb"
    with open_store(path) as store:
        import_paths(store, [tmp / "cohort" / "synthea"])
    return path


@pytest.mark.parametrize("size", [(1366, 768), (1600, 1000)])
def test_worklist_rows_say_what_and_when_and_fit(qtbot, make_workspace, cohort_workspace: Path,
                                                 size: tuple[int, int]) -> None:
    workspace = make_workspace(None)
    view = QtOverview(workspace)
    qtbot.addWidget(view)
    view.resize(size[0] - 400, size[1] - 120)  # beside the patient list and the assistant
    view.show()
    assert view.recent.isChecked() and view.current_recent_days() == 30
    with qtbot.waitSignal(view.loaded, timeout=20000):
        workspace.open(cohort_workspace)
    recent = list(view.rows)
    view.recent.setChecked(False)  # every finding, however old
    qtbot.waitUntil(lambda: view.worklist is not None and view.worklist.recent_days is None, timeout=20000)
    assert len(view.rows) >= len(recent) and view.rows
    bands = [r.band for r in view.rows]
    assert bands == sorted(bands, reverse=True)  # the most severe first
    for r in range(view.table.rowCount()):
        assert view.table.item(r, WHAT).text()
        assert view.table.item(r, DATA).text()[:4].isdigit()  # the data's date in every row
        assert "newest" in view.table.item(r, DATA).text() or "d earlier" in view.table.item(r, DATA).text()
    if view.rows[0].news2_partial:
        assert "partial" in view.table.item(0, PRIORITY).text()
    # Every column starts inside the viewport: the date is never pushed off to the right.
    header = view.table.horizontalHeader()
    right = header.sectionViewportPosition(DATA) + header.sectionSize(DATA)
    assert right <= view.table.viewport().width() + 1
    assert header.sectionSize(PATIENT) >= 120
    with qtbot.waitSignal(workspace.patient_selected, timeout=5000) as selected:
        view.table.cellActivated.emit(0, 0)
    assert selected.args == [view.rows[0].patient_id]
