"""Issue 19, item 10: the mapping step at 1366x768. The dialog fits the screen and can be resized, every
column row can be scrolled to, the whole-file date is asked for (the file's own date shown beside it, never
taken silently), and a single-number "Blood_Pressure" column is offered as systolic with a question."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt

from desktop.ui.importing.qt_import_dialog import MAP, QtImportDialog
from desktop.ui.workspace import Workspace

from .test_import_dialog import plan

COLUMNS = ["Patient_ID", "Age", "Gender", "Blood_Pressure", "Cholesterol", "BMI", "Smoking_Status", "Diabetes",
           "Heart_Disease", "Heart_Rate", "SpO2", "Temperature", "Weight", "Height"]


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    rows = [f"X-{i},{40 + i},{'MF'[i % 2]},{120 + i},{180 + i},{24 + i % 5},Never,{'Yes' if i % 3 else 'No'},No,"
            f"{60 + i},{95 + i % 4},36.{i % 9},{70 + i},{160 + i}" for i in range(30)]
    path = tmp_path / "heart.csv"
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    saved = datetime(2025, 2, 3, 9, 30).timestamp()
    os.utime(path, (saved, saved))
    return path


def _visible_in(widget, area) -> bool:  # type: ignore[no-untyped-def]
    """The whole of ``widget`` lies inside ``area``'s viewport (on screen, not scrolled away)."""
    viewport = area.viewport()
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return QRect(QPoint(0, 0), viewport.size()).contains(QRect(top_left, widget.size()))


def test_every_column_row_is_reachable_at_1366x768(qtbot, make_workspace, tmp_path: Path, snapshot_file: Path) -> None:
    workspace: Workspace = make_workspace(tmp_path / "w.duckdb")
    dialog = QtImportDialog(workspace)
    qtbot.addWidget(dialog)
    dialog.show()
    plan(qtbot, dialog, [snapshot_file])
    qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)  # -> mapping page
    m = dialog.mapper
    # Resizable, and small enough for a 1366x768 laptop with a task bar.
    assert not dialog.minimumSize().height() or dialog.minimumSize().height() <= 700
    assert dialog.isSizeGripEnabled() and dialog.maximumSize().height() > 768
    dialog.resize(1300, 700)
    qtbot.waitUntil(lambda: dialog.height() <= 700 and dialog.width() <= 1366)
    assert dialog.minimumSizeHint().height() <= 700
    assert m.columns.rowCount() == len(COLUMNS)
    # Every column row, scrolled to, is fully on screen with its "What it holds" choice.
    for r in range(m.columns.rowCount()):
        choice = m.columns.cellWidget(r, 1)
        m.scroll.ensureWidgetVisible(choice, 0, 0)
        qtbot.waitUntil(lambda c=choice: _visible_in(c, m.scroll), timeout=2000)
        assert choice.isVisible() and choice.height() >= choice.sizeHint().height() - 2
    # The table scrolls with the page, not inside itself: no row hides behind its own scroll bar.
    assert m.columns.verticalScrollBar().maximum() == 0
    dialog.resize(900, 500)  # smaller still: the rows are still reachable
    last = m.columns.cellWidget(m.columns.rowCount() - 1, 1)
    m.scroll.ensureWidgetVisible(last, 0, 0)
    qtbot.waitUntil(lambda: _visible_in(last, m.scroll), timeout=2000)


def test_the_whole_file_date_is_asked_for_and_blood_pressure_is_a_question(
        qtbot, make_workspace, tmp_path: Path, snapshot_file: Path) -> None:
    workspace: Workspace = make_workspace(tmp_path / "w.duckdb")
    dialog = QtImportDialog(workspace)
    qtbot.addWidget(dialog)
    plan(qtbot, dialog, [snapshot_file])
    qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)
    m = dialog.mapper
    assert m.time.currentData() is None  # no time column
    # Not today, not the file's date: nothing until the user chooses; the file's date is shown beside it.
    assert not m.date_chosen() and m.observed_on.text() == "choose the date"
    assert "last saved on 2025-02-03" in m.file_date.text()
    bp_row = COLUMNS.index("Blood_Pressure")
    assert m.columns.cellWidget(bp_row, 1).currentData() == "8480-6"  # offered as systolic ...
    assert "Blood_Pressure" in m.confirmations  # ... with a question
    assert "is it the systolic pressure" in m.confirmations["Blood_Pressure"].text()
    qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)  # "Use this mapping" with both unanswered
    assert dialog.pages.currentIndex() == MAP and dialog.mapping is None
    shown = m.intro.text()
    assert "Choose the date of the whole file" in shown and "2025-02-03" in shown and "Blood_Pressure" in shown
    qtbot.mouseClick(m.use_file_date, Qt.MouseButton.LeftButton)
    m.confirmations["Blood_Pressure"].setChecked(True)
    with qtbot.waitSignal(dialog.planned):
        qtbot.mouseClick(dialog.next, Qt.MouseButton.LeftButton)
    assert dialog.mapping is not None and dialog.mapping.observed_on == "2025-02-03"
    assert any(c.column == "Blood_Pressure" and c.measurement == "8480-6" for c in dialog.mapping.measurements)


def test_a_blood_pressure_written_120_80_is_offered_as_a_pair(qtbot) -> None:
    from desktop.ui.importing.qt_column_mapping import BP_PAIR, QtColumnMapping

    m = QtColumnMapping()
    qtbot.addWidget(m)
    m.set_header("f.csv", ["id", "when", "BP"], None, {"BP": ["120/80", "135/85"]})
    assert m.columns.cellWidget(2, 1).currentData() == BP_PAIR and not m.confirmations
    assert not m.use_file_date.isEnabled() and "not known" in m.file_date.text()
