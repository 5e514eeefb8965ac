"""The Overview lists the patients who need attention first, with the reason, and opens one on Enter."""

from __future__ import annotations

from pathlib import Path

from desktop.core.importers import import_paths
from desktop.core.store import open_store
from desktop.ui.patient.overview import QtOverview
from devtools.synthetic import generate_cohort


def test_overview_ranks_by_news2_and_opens_the_patient(qtbot, make_workspace, tmp_path: Path) -> None:
    generate_cohort(tmp_path / "cohort", patients=25, years=4, seed=5, wide_rows=0)
    path = tmp_path / "ws.duckdb"
    with open_store(path) as store:
        import_paths(store, [tmp_path / "cohort" / "synthea"])
    workspace = make_workspace(None)
    view = QtOverview(workspace)
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=20000) as blocker:
        workspace.open(path)
    shown = blocker.args[0]
    assert shown == view.table.rowCount() == len(view.rows) > 0
    scores = [r.news2 if r.news2 is not None else -1 for r in view.rows]
    assert scores == sorted(scores, reverse=True)
    first = view.rows[0]
    assert "NEWS2" in first.reason or "critical" in first.reason
    if first.news2_partial:
        assert "partial" in view.table.item(0, 1).text()
    with qtbot.waitSignal(workspace.patient_selected, timeout=5000) as selected:
        view.table.cellActivated.emit(0, 0)
    assert selected.args == [first.patient_id]
