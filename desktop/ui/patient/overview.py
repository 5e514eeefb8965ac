"""The Overview: the patients who need attention first, each row opening the patient.

The default tab until a patient is chosen, on first run and on every workspace open. The ranking is the
one query in ``desktop/core/queries/attention.py`` (NEWS2 of the latest observation set, partial scores as
lower bounds, then critical flags), the same one the assistant answers "who needs attention first" with.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.queries.attention import AttentionRow, rank_for_attention
from desktop.ui.executor import op
from desktop.ui.workspace import Workspace

HEADERS = ("Patient", "NEWS2", "Risk", "Set of", "Why")
SHOWN = 25


class QtOverview(QWidget):
    #: the list is on screen (tests wait on it)
    loaded = Signal(int)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.cellActivated.connect(self._open_row)
        self.table.cellDoubleClicked.connect(self._open_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        self.rows: list[AttentionRow] = []
        self._generation = 0
        workspace.opened.connect(lambda _path: self.refresh())
        workspace.data_changed.connect(self.refresh)
        self.heading.setText("<i>No workspace open.</i>")

    def refresh(self) -> None:
        self._generation += 1
        generation = self._generation
        self.heading.setText("<i>Finding the patients who need attention first…</i>")
        op(lambda store: rank_for_attention(store, limit=SHOWN)).success(
            lambda rows: self._show(generation, rows)).run(self.workspace.executor)

    def _show(self, generation: int, rows: list[AttentionRow]) -> None:
        if generation != self._generation:
            return
        self.rows = rows
        self.heading.setText(
            "<b>Patients who need attention first</b>: highest NEWS2 of their latest set of observations (a "
            "<b>partial</b> score is a lower bound: the true score may be higher), then critical flags in their "
            "latest readings. Double-click or press Enter to open a patient." if rows else
            "<b>No patient needs attention</b>: no NEWS2 score or critical flag in anyone's latest readings.")
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            news = "—" if row.news2 is None else f"{row.news2}{' partial' if row.news2_partial else ''}"
            cells = (row.name or row.patient_id, news, row.news2_risk or "", (row.news2_at or "")[:10], row.reason)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{row.name or ''} {row.patient_id}" if c == 0 else text if c != 4 else _inputs_text(row))
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self.loaded.emit(len(rows))

    def _open_row(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.rows):
            self.workspace.select_patient(self.rows[row].patient_id)


def _inputs_text(row: AttentionRow) -> str:
    lines = [row.reason, "", "NEWS2 inputs:"]
    for name, item in row.news2_inputs.items():
        if isinstance(item, dict):
            lines.append(f"  {name}: {item.get('value')} at {str(item.get('observed_at'))[:16].replace('T', ' ')}")
    return "\n".join(lines)
