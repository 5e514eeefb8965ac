"""The import dialog's choice to update rows already present (issue 14, item 2), and its report of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.ui.importing.qt_import_dialog import QtImportDialog
from desktop.ui.workspace import Workspace

from .test_import_dialog import plan

HEADER = "Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE,DESCRIPTION,REASONDESCRIPTION\n"


@pytest.fixture
def empty_workspace(make_workspace, tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "empty.duckdb")


def _encounters(klass: str) -> str:
    return HEADER + "".join(f"enc-{i},2020-01-0{i}T10:00:00Z,,pat-{i},{klass},1,Visit,\n" for i in range(1, 5))


def _import(qtbot, ws: Workspace, path: Path, *, update: bool):
    dialog = QtImportDialog(ws)
    qtbot.addWidget(dialog)
    dialog.show()
    plan(qtbot, dialog, [path])
    assert not dialog.update_existing.isChecked()  # off unless the user ticks it
    dialog.update_existing.setChecked(update)
    with qtbot.waitSignal(dialog.finished_import, timeout=20000) as done:
        qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)
    return dialog, done.args[0].files[0]


def test_corrected_export_kept_then_updated_when_ticked(qtbot, empty_workspace: Workspace, tmp_path: Path) -> None:
    ws = empty_workspace
    first = tmp_path / "a" / "encounters.csv"
    first.parent.mkdir()
    first.write_text(_encounters("wellness"))
    _import(qtbot, ws, first, update=False)
    corrected = tmp_path / "b" / "encounters.csv"
    corrected.parent.mkdir()
    corrected.write_text(_encounters("emergency"))
    dialog, f = _import(qtbot, ws, corrected, update=False)
    assert (f.rows_accepted, f.rows_present_different, f.rows_updated) == (0, 4, 0)
    shown = dialog.report_view.toPlainText()
    assert "0 accepted, 0 rejected, 4 already present" in shown and "kept as stored" in shown
    assert "header but no data rows" not in shown
    corrected.write_text(_encounters("emergency") + "\n")  # other bytes: not "imported before"
    dialog, f = _import(qtbot, ws, corrected, update=True)
    assert f.rows_updated == 4
    assert "updated to the file's values" in dialog.report_view.toPlainText()
    classes = ws.executor.run_sync(
        lambda store: {r[0] for r in store.con.execute("SELECT encounter_class FROM encounters").fetchall()})
    assert classes == {"emergency"}
