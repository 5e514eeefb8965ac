"""The Overview: a worklist of the patients who need attention first, each row opening the patient.

The default tab until a patient is chosen, on first run and on every workspace open. The ranking is the
one query in ``desktop/core/queries/attention.py`` (the clinical room's rule), the same one the assistant
answers "who needs attention first" with. Each row says what is wrong in words that fit a cell (value,
flag, how long ago) and the date of the data it comes from; "recent only" (on by default) keeps patients
whose readings fall in the last days of the workspace's data, counted back from its newest reading.

A patient's newest reading (``data_at``) and the workspace's newest one give "how long ago" in each row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.queries.attention import AttentionRow, rank_for_attention
from desktop.core.queries.data_dates import days_before, workspace_newest
from desktop.core.workspace.store import Store
from desktop.ui.executor import op
from desktop.ui.workspace import Workspace

HEADERS = ("Patient", "Priority", "What needs attention", "Data of")
PATIENT, PRIORITY, WHAT, DATA = range(len(HEADERS))
SHOWN = 25
DEFAULT_RECENT_DAYS = 30
BAND_COLOURS = {3: QColor(255, 200, 200), 2: QColor(255, 226, 190), 1: QColor(255, 246, 200)}


@dataclass(frozen=True)
class Worklist:
    rows: list[AttentionRow]
    newest: date | None  # the workspace's newest reading: "how long ago" counts back from it
    recent_days: int | None


def load_worklist(store: Store, recent_days: int | None) -> Worklist:
    rows = rank_for_attention(store, limit=SHOWN, recent_days=recent_days)
    return Worklist(rows, workspace_newest(store), recent_days)


def priority_text(row: AttentionRow) -> str:
    news = "" if row.news2 is None else f"NEWS2 {row.news2}{' partial (at least)' if row.news2_partial else ''}"
    return " · ".join(part for part in (row.band_label, news) if part)


class QtOverview(QWidget):
    #: the list is on screen (tests wait on it)
    loaded = Signal(int)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.recent = QCheckBox("Recent only: readings of the last")
        self.recent.setChecked(True)
        self.recent_days = QSpinBox()
        self.recent_days.setRange(1, 3650)
        self.recent_days.setValue(DEFAULT_RECENT_DAYS)
        self.recent_days.setSuffix(" days")
        self.recent_note = QLabel("of the workspace's data (counted back from its newest reading)")
        self.recent_note.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.recent)
        bar.addWidget(self.recent_days)
        bar.addWidget(self.recent_note, 1)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.horizontalHeaderItem(DATA).setToolTip(
            "The day of the patient's newest reading, and how many days before the workspace's newest reading")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(WHAT, QHeaderView.ResizeMode.Stretch)
        self.table.cellActivated.connect(self._open_row)
        self.table.cellDoubleClicked.connect(self._open_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.rows: list[AttentionRow] = []
        self.worklist: Worklist | None = None
        self._generation = 0
        self.recent.toggled.connect(lambda _on: self.refresh())
        self.recent_days.editingFinished.connect(self.refresh)
        workspace.opened.connect(lambda _path: self.refresh())
        workspace.data_changed.connect(self.refresh)
        self.heading.setText("<i>No workspace open.</i>")

    def current_recent_days(self) -> int | None:
        return self.recent_days.value() if self.recent.isChecked() else None

    def refresh(self) -> None:
        if not self.workspace.is_open:
            return
        self._generation += 1
        generation = self._generation
        days = self.current_recent_days()
        self.recent_days.setEnabled(days is not None)
        self.heading.setText("<i>Finding the patients who need attention first…</i>")
        op(lambda store: load_worklist(store, days)).success(
            lambda worklist: self._show(generation, worklist)).run(self.workspace.executor)

    def _show(self, generation: int, worklist: Worklist) -> None:
        if generation != self._generation:
            return
        self.worklist = worklist
        rows = self.rows = worklist.rows
        newest = worklist.newest.isoformat() if worklist.newest else "none"
        window = (f"readings of the last {worklist.recent_days} days (to {newest}, the workspace's newest)"
                  if worklist.recent_days is not None else f"all readings (the newest is of {newest})")
        if rows:
            self.heading.setText(
                f"<b>Patients who need attention first</b>, from {window}: the most severe first. A "
                "<b>partial</b> NEWS2 is a lower bound. Double-click or press Enter to open a patient.")
        else:
            self.heading.setText(f"<b>No patient needs attention</b> from {window}."
                                 + (" Untick “Recent only” to see older findings." if worklist.recent_days else ""))
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            day = row.data_at
            ago = days_before(worklist.newest, day)
            when = "" if day is None else day.isoformat() + ("" if ago is None else " (newest)" if ago == 0
                                                              else f", {ago} d earlier")
            cells = (row.name or row.patient_id, priority_text(row), row.summary or row.reason, when)
            colour = BAND_COLOURS.get(row.band)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{row.name or ''} {row.patient_id}" if c == PATIENT else
                                _inputs_text(row) if c == WHAT else text)
                if colour is not None and c == PRIORITY:
                    item.setBackground(QBrush(colour))
                self.table.setItem(r, c, item)
        self._fit_columns()
        self.table.resizeRowsToContents()
        self.loaded.emit(len(rows))

    def _fit_columns(self) -> None:
        self.table.resizeColumnToContents(PRIORITY)
        self.table.resizeColumnToContents(DATA)
        width = self.table.viewport().width()
        self.table.setColumnWidth(PATIENT, max(120, min(200, width // 6)))
        self.table.setColumnWidth(PRIORITY, min(self.table.columnWidth(PRIORITY), 170))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.rows:
            self._fit_columns()
            self.table.resizeRowsToContents()

    def _open_row(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.rows):
            self.workspace.select_patient(self.rows[row].patient_id)


def _inputs_text(row: AttentionRow) -> str:
    lines = [row.reason]
    if row.findings:
        lines += ["", "Findings:"] + [f"  {f.text} ({f.rule})" for f in row.findings]
    lines += ["", "NEWS2 inputs:"]
    for name, item in row.news2_inputs.items():
        if isinstance(item, dict):
            lines.append(f"  {name}: {item.get('value')} at {str(item.get('observed_at'))[:16].replace('T', ' ')}")
    return "\n".join(lines)
