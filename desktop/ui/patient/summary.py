"""A patient at a glance: who they are (a banner when they have died), their diagnoses (social findings
apart), allergies and active medications, latest values with flags, BP category, NEWS2.

Flags are words as well as colours (never colour alone): "H high", "LL critically low". The latest values
open with the critical and abnormal ones first, each with its date; clicking a header sorts by it.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clinical.display_units import DisplayUnits, format_value, normal_range_text
from desktop.core.clinical.flag_words import describe_flag
from desktop.core.queries.condition_groups import split_conditions
from desktop.ui.patient.history import QtPatientHistory

FLAG_COLOURS = {"H": QColor(255, 225, 225), "HH": QColor(255, 190, 190), "L": QColor(222, 232, 255),
                "LL": QColor(195, 212, 255)}
HEADERS = ("Measurement", "Latest", "Unit", "Flag", "When (UTC)", "Healthy range", "Readings")
NAME, VALUE, UNIT, FLAG, WHEN, RANGE, COUNT = range(len(HEADERS))
#: the default order: critical first, then abnormal, then in range, then readings without a range
SEVERITY = {"HH": 0, "LL": 0, "H": 1, "L": 1, "N": 2}
ROW_HEIGHT = 24
MIN_ROWS = 10  # latest values visible at 1366x768 with the assistant open (the patient view's splitter)
DECEASED_STYLE = "background:#3c3c3c; color:white; padding:3px 6px; font-weight:bold;"


class SortItem(QTableWidgetItem):
    """A cell that sorts by its key (numbers as numbers, flags by severity), not by its text."""

    def __init__(self, text: str, key: object) -> None:
        super().__init__(text)
        self.key = key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, SortItem):
            try:
                return bool(self.key < other.key)  # type: ignore[operator]
            except TypeError:
                return str(self.key) < str(other.key)
        return super().__lt__(other)


class QtPatientSummary(QWidget):
    #: the clinician switched SpO2 scale 2 on or off for this patient (the view records it with who and when)
    scale2_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._content_widths: list[int] = []  # each column as wide as its contents, before fitting
        self.scale2 = QCheckBox("SpO2 scale 2 (target 88–92 %: documented hypercapnic respiratory failure)")
        self.scale2.setToolTip("RCP NEWS2 2017: use scale 2 only on a clinician's decision. Used for NEWS2 and "
                               "for the SpO2 flags; the change is recorded with your user name and the time.")
        self.scale2.setVisible(False)
        self.scale2.clicked.connect(self.scale2_toggled)
        self.deceased = QLabel()  # a banner, not small print: a record that ends in death reads differently
        self.deceased.setStyleSheet(DECEASED_STYLE)
        self.deceased.setVisible(False)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.scores = QLabel()
        self.scores.setTextFormat(Qt.TextFormat.RichText)
        self.scores.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height() + ROW_HEIGHT * 3 + 4)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.history = QtPatientHistory()  # allergies and active medications: two lines, "show all" for more
        layout.addWidget(self.deceased)
        layout.addWidget(self.title)
        layout.addWidget(self.history)
        layout.addWidget(self.scores)
        layout.addWidget(self.scale2)
        layout.addWidget(self.table, 1)
        self.summary: dict[str, Any] | None = None

    def show_summary(self, summary: dict[str, Any], units: DisplayUnits) -> None:
        self.summary = summary
        p = summary["patient"]
        sex = {"F": "Female", "M": "Male"}.get(p["sex"] or "", "Sex unknown")
        age = "age unknown" if p["age"] is None else f"{int(p['age'])} y" + (" (estimated)" if p["age_estimated"] else "")
        born = f", born {p['birth_date']}" if p["birth_date"] else ""
        if p["deceased"]:  # the banner above says it; the age is the age at death
            age = age.replace(f"{int(p['age'])} y", f"died aged {int(p['age'])}") if p["age"] is not None else age
        self.deceased.setVisible(bool(p["deceased"]))
        self.deceased.setText(f"Deceased {p['deceased']}: this record ends with the death; the latest values "
                              "are the last ones taken." if p["deceased"] else "")
        groups = split_conditions(list(p["conditions"] or []))
        diagnoses = ", ".join(groups.diagnoses) if groups.diagnoses else "none recorded"
        social = (f"<br><span style='color:#555'><b>Social findings:</b> {escape(', '.join(groups.social))}</span>"
                  if groups.social else "")
        self.title.setText(
            f"<span style='font-size:15pt'><b>{escape(p['name'] or p['id'])}</b></span> &nbsp; "
            f"{sex}, {age}{born} · <span style='color:#555'>ID {escape(p['id'])}</span>"
            f"<br><b>Active diagnoses:</b> {escape(diagnoses)}"
            f"{social}"
        )
        self.scores.setText(self._scores_text(summary))
        self.history.show_history(summary.get("history"), p["name"] or p["id"])
        scale2 = p.get("spo2_scale2")
        self.scale2.setVisible(True)
        self.scale2.setChecked(bool(scale2 and scale2["on"]))
        if scale2:
            state = "on" if scale2["on"] else "off"
            self.scale2.setToolTip(f"Switched {state} by {scale2['set_by']} at {scale2['set_at'][:16]} UTC")
        rows = summary["latest"]
        self.table.setSortingEnabled(False)  # filling a sorting table moves rows under the loop
        self.table.setRowCount(len(rows))
        for r, item in enumerate(rows):
            self._fill_row(r, item, units)
        self.table.setSortingEnabled(True)
        self.table.sortItems(FLAG, Qt.SortOrder.AscendingOrder)  # critical and abnormal first
        # Fit the columns to their contents, but a long text result ("Never smoked tobacco (finding)")
        # must not push the flags and dates off to the right: it is cut, with the whole text in its tooltip.
        self.table.resizeColumnsToContents()
        self._content_widths = [self.table.columnWidth(c) for c in range(len(HEADERS))]
        self._fit_columns()

    def wanted_height(self, rows: int = MIN_ROWS) -> int:
        """Height that shows the header block and ``rows`` latest values (the view's splitter uses it)."""
        table = (self.table.horizontalHeader().sizeHint().height() + ROW_HEIGHT * rows + 6
                 + self.table.horizontalScrollBar().sizeHint().height())  # the range column may scroll
        return self.sizeHint().height() - self.table.sizeHint().height() + table

    def _fit_columns(self) -> None:
        """The name elides (whole name in its tooltip) so that value, unit, flag and range stay on screen
        however narrow the view (1366 px with the assistant open): real records have survey questions a
        hundred characters long. Time and count may scroll; they matter least at a glance."""
        widths = self._content_widths
        if not widths:
            return
        value = min(widths[VALUE], 90)  # long text answers elide (tooltip)
        unit = min(widths[UNIT], 70)
        essential = value + unit + widths[FLAG] + widths[WHEN]
        room = self.table.viewport().width() - essential
        self.table.setColumnWidth(NAME, max(90, min(widths[NAME], 190, room)))
        self.table.setColumnWidth(VALUE, value)
        self.table.setColumnWidth(UNIT, unit)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _scores_text(self, s: dict[str, Any]) -> str:
        bp = s.get("bp_category")
        reading = s.get("bp_reading")
        if bp and reading:
            bp_text = (f"<b>Blood pressure:</b> {format_value(reading['systolic'])}/{format_value(reading['diastolic'])}"
                       f" mmHg — {bp} ({reading['observed_at'][:10]})")
        else:
            bp_text = "<b>Blood pressure:</b> no paired reading"
        if reading and reading.get("note"):
            bp_text = (f"<b>Blood pressure:</b> {format_value(reading['systolic'])}/"
                       f"{format_value(reading['diastolic'])} mmHg ({reading['observed_at'][:10]}) — "
                       f"{escape(reading['note'])}")
        return f"{bp_text}<br>{news2_text(s['news2'])}"

    def _fill_row(self, r: int, item: dict[str, Any], units: DisplayUnits) -> None:
        value = item["value"]
        numeric = isinstance(value, (int, float))
        code, unit = str(item["code"]), str(item["unit"] or "")
        shown_unit = units.label(code, unit) if numeric else unit
        text_value = format_value(units.value(code, unit, value)) if numeric else str(value)
        flag = item.get("flag")
        ref = item.get("reference")
        ref_text = normal_range_text(ref, lambda v: units.value(code, unit, v)) if ref else ""
        when = str(item["observed_at"])[:16].replace("T", " ")
        severity = SEVERITY.get(flag or "", 3)
        cells = ((item["name"], str(item["name"]).lower()),
                 (text_value, (0, value, "") if numeric else (1, 0, str(value))),
                 (shown_unit, shown_unit), (describe_flag(flag), (severity, r)),
                 (when, when), (ref_text, ref_text), (str(item["count"]), int(item["count"])))
        for c, (text, key) in enumerate(cells):
            cell = SortItem(text, key)
            if c == VALUE or c == COUNT:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if flag in FLAG_COLOURS:
                cell.setBackground(QBrush(FLAG_COLOURS[flag]))
                if c in (VALUE, FLAG):
                    font = QFont()
                    font.setBold(True)
                    cell.setFont(font)
            cell.setToolTip(point_tooltip(text, item))
            self.table.setItem(r, c, cell)

    def flag_text(self, measurement_name: str) -> str | None:
        """The flag column for a measurement, as shown (tests read it)."""
        for r in range(self.table.rowCount()):
            if self.table.item(r, NAME).text() == measurement_name:
                return self.table.item(r, FLAG).text()
        return None



def point_tooltip(text: str, item: dict[str, Any]) -> str:
    """What a clinician hovering over a cell needs: the age at the reading and the rule with its authority."""
    age = item.get("age_at_reading")
    age_text = "age unknown at the reading" if age is None else f"aged {age:g} at the reading"
    lines = [text, f"{str(item['observed_at'])[:16].replace('T', ' ')} UTC, {age_text}", str(item.get("rule") or "")]
    if item.get("same_time_values"):
        lines.append("readings at this same time: " + ", ".join(str(v) for v in item["same_time_values"]))
    return "\n".join(line for line in lines if line)


def news2_text(n: dict[str, Any]) -> str:
    """NEWS2 in words: a partial sum is a lower bound, so its band is "at least"; a red score is named."""
    if n.get("score") is None:
        text = "<b>NEWS2:</b> not scored" + (f" — {escape(n['note'])}" if n.get("note") else " (no inputs recorded)")
    elif n.get("partial"):
        text = (f"<b>NEWS2:</b> {n['score']} <b>PARTIAL</b>, {escape(str(n.get('risk_text')))} risk — missing "
                f"{escape(', '.join(n['missing']))}; the true score may be higher")
    else:
        text = f"<b>NEWS2:</b> {n['score']} ({escape(str(n['risk']))} risk)"
    if n.get("score") is not None and n.get("red_score"):
        text += f"; <b>red score</b> (a single parameter scoring 3): {escape(', '.join(n['red_score']))}"
    if n.get("observed_at"):
        text += f" · {escape(str(n.get('scale', '')))}, set of {str(n['observed_at'])[:16].replace('T', ' ')} UTC"
        if n.get("window"):
            text += f" ({escape(n['window'])})"
    return text
