"""Cohort trends: a measurement over time grouped by sex or by condition, with the numbers beside it."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clinical.display_units import format_value
from desktop.core.queries.cohort import (
    TABLE_COLUMNS,
    Cancelled,
    CohortRequest,
    CohortRow,
    measurement_choices,
    run_cohort_trend,
)
from desktop.core.queries.patients import PatientFilter, condition_names
from desktop.core.tasks import TaskState
from desktop.ui.executor import op
from desktop.ui.workspace import Workspace

# Distinguishable for common colour-vision deficiencies (Okabe-Ito); each line also has its own symbol.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SYMBOLS = ("o", "s", "t", "d", "+", "x", "star")
# A period with fewer patients is listed but not plotted: one patient's reading is not a trend.
MIN_PATIENTS = 5
# Start on the seeds' question (diabetes trends by sex) when the workspace has HbA1c or glucose.
PREFERRED = ("4548-4", "2339-0")


class QtCohortView(QWidget):
    computed = Signal(int)  # rows in the table

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.measurement = QComboBox()
        self.group_by = QComboBox()
        self.group_by.addItem("Sex", "sex")
        self.group_by.addItem("Condition (5 most common)", "condition")
        self.period = QComboBox()
        for label in ("year", "quarter", "month"):
            self.period.addItem(label.capitalize(), label)
        self.condition = QComboBox()
        self.condition.addItem("Any condition", None)
        self.sex = QComboBox()
        for label, value in (("Any sex", None), ("Female", "F"), ("Male", "M")):
            self.sex.addItem(label, value)
        form = QFormLayout()
        form.addRow("Measurement", self.measurement)
        form.addRow("Group by", self.group_by)
        form.addRow("Period", self.period)
        form.addRow("Only patients with", self.condition)
        form.addRow("Sex", self.sex)
        self.status = QLabel("Each patient counts once per period (the mean of their readings); "
                             "lines are the group means, shaded bands the middle half (P25–P75).")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)

        self.plot_widget = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.curves: list[pg.PlotDataItem] = []  # created once per group slot, updated with setData
        self.spreads: list[pg.FillBetweenItem] = []
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.status)
        left_layout.addWidget(self.plot_widget, 1)
        splitter = self.splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([700, 560])
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addLayout(form)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self._token: TaskState | None = None
        self.units: dict[str, str] = {}  # measurement code -> canonical unit
        self.rows: list[CohortRow] = []
        for combo in (self.measurement, self.group_by, self.period, self.condition, self.sex):
            combo.currentIndexChanged.connect(self.recompute)
        workspace.opened.connect(self._on_workspace)
        workspace.data_changed.connect(self._on_workspace)
        workspace.display_units_changed.connect(self._show)
        if workspace.is_open:
            self._on_workspace()

    # Below this width the table goes under the plot: side by side, a 1366-pixel laptop squeezes both.
    STACK_BELOW = 1100

    def resizeEvent(self, event: QResizeEvent) -> None:
        wanted = Qt.Orientation.Vertical if event.size().width() < self.STACK_BELOW else Qt.Orientation.Horizontal
        if self.splitter.orientation() != wanted:
            self.splitter.setOrientation(wanted)
            total = max(event.size().height() if wanted == Qt.Orientation.Vertical else event.size().width(), 2)
            self.splitter.setSizes([total * 3 // 5, total * 2 // 5])
        super().resizeEvent(event)

    def _on_workspace(self, *_: object) -> None:
        def choices(store: object) -> tuple[list[tuple[str, str, str]], list[str]]:
            return measurement_choices(store), condition_names(store)  # type: ignore[arg-type]

        op(choices).success(self._set_choices).run(self.workspace.executor)

    def _set_choices(self, data: tuple[list[tuple[str, str, str]], list[str]]) -> None:
        measurements, conditions = data
        for combo in (self.measurement, self.condition):
            combo.blockSignals(True)
        current = self.measurement.currentData()
        self.measurement.clear()
        self.units = {code: unit for code, _name, unit in measurements}
        for code, name, _unit in measurements:
            self.measurement.addItem(name, code)
        if not current:
            current = next((c for c in PREFERRED if self.measurement.findData(c) >= 0), None)
        self.measurement.setCurrentIndex(max(self.measurement.findData(current), 0) if current else 0)
        chosen = self.condition.currentData()
        self.condition.clear()
        self.condition.addItem("Any condition", None)
        for name in conditions:
            self.condition.addItem(name, name)
        self.condition.setCurrentIndex(max(self.condition.findData(chosen), 0) if chosen else 0)
        for combo in (self.measurement, self.condition):
            combo.blockSignals(False)
        self.recompute()

    def request(self) -> CohortRequest | None:
        code = self.measurement.currentData()
        if not code:
            return None
        return CohortRequest(
            code=code, group_by=self.group_by.currentData(), period=self.period.currentData(),
            filter=PatientFilter(condition=self.condition.currentData(), sex=self.sex.currentData()),
        )

    def recompute(self) -> None:
        """Run the aggregation off the GUI thread; a newer request cancels the one still running."""
        request = self.request()
        if request is None:
            return
        self.cancel()
        token = self._token = TaskState()
        self.status.setText("Computing…")
        op(lambda store: run_cohort_trend(store, request, token)).success(
            lambda rows: self._on_rows(token, rows)
        ).failure(lambda exc: self._on_failed(token, exc)).with_progress(
            "Computing cohort trend…", self.window()
        ).run(self.workspace.executor)

    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()

    def _on_failed(self, token: TaskState, exc: BaseException) -> None:
        if isinstance(exc, Cancelled) or token is not self._token:
            return
        from desktop.ui.qt_errors import show_exception

        self.status.setText("The trend could not be computed.")
        show_exception(self, exc)

    def _on_rows(self, token: TaskState, rows: list[CohortRow]) -> None:
        if token is not self._token:
            return
        self.rows = rows
        self._show()
        self.computed.emit(len(rows))

    def _show(self) -> None:
        code = self.measurement.currentData()
        if not code:
            return
        unit = self.units.get(code, "")
        units = self.workspace.display_units
        factor, offset, label = units.conversion(code, unit)
        groups = list(dict.fromkeys(r.group for r in self.rows))
        while len(self.curves) < len(groups):  # grow the pool; items are never recreated
            i = len(self.curves)
            colour = QColor(PALETTE[i % len(PALETTE)])
            curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), symbol=SYMBOLS[i % len(SYMBOLS)],
                                    symbolBrush=colour, symbolPen=None, symbolSize=7)
            lo, hi = pg.PlotCurveItem(), pg.PlotCurveItem()  # path sources only; never added to the plot
            fill_colour = QColor(colour)
            fill_colour.setAlpha(40)
            spread = pg.FillBetweenItem(lo, hi, brush=fill_colour)
            self.plot.addItem(curve)
            self.plot.addItem(spread)
            self.curves.append(curve)
            self.spreads.append(spread)
        self.legend.clear()
        for i, curve in enumerate(self.curves):
            spread = self.spreads[i]
            rows = [r for r in self.rows if i < len(groups) and r.group == groups[i] and r.patients >= MIN_PATIENTS]
            if rows:
                x = np.array([r.period_start for r in rows])
                curve.setData(x, np.array([r.mean for r in rows]) * factor + offset)
                spread.curves[0].setData(x, np.array([r.p25 for r in rows]) * factor + offset)
                spread.curves[1].setData(x, np.array([r.p75 for r in rows]) * factor + offset)
                n = max((r.patients for r in rows), default=0)
                self.legend.addItem(curve, f"{groups[i]} (up to {n:,} patients)")
                curve.show()
                spread.show()
            else:
                curve.setData([], [])
                curve.hide()
                spread.hide()
        name = self.measurement.currentText()
        self.plot.setLabel("left", f"{name} ({label})" if label else name)
        self.plot.setTitle(f"{name} by {self.group_by.currentText().split(' ')[0].lower()}, mean per "
                           f"{self.period.currentData()}", size="10pt")
        self._fit_view(factor, offset)
        self._fill_table(factor, offset)
        self.status.setText(self._status_text(groups) if self.rows else
                            "No readings of this measurement for these patients.")

    def _status_text(self, groups: list[str]) -> str:
        """How to read the plot, and every group that is not drawn, by name (never a silent absence)."""
        period = self.period.currentData()
        text = ("Each patient counts once per period (the mean of their readings); lines are group means, "
                "shaded bands the middle half (P25–P75).")
        for group in groups:
            sizes = [r.patients for r in self.rows if r.group == group]
            if max(sizes) < MIN_PATIENTS:
                text += (f" <b>{escape(group)}: not drawn</b>, at most {max(sizes)} patient(s) in any {period} "
                         f"(a point needs {MIN_PATIENTS}); see the table.")
        hidden = sum(r.patients < MIN_PATIENTS for r in self.rows)
        if hidden:
            text += (f" {hidden} period(s) with fewer than {MIN_PATIENTS} patients are in the table (grey) "
                     "but not plotted.")
        return text

    def _fit_view(self, factor: float, offset: float) -> None:
        """Fit the axes to the rows themselves: auto-range would also count empty fill items at 0."""
        rows = [r for r in self.rows if r.patients >= MIN_PATIENTS] or self.rows
        if not rows:
            return
        xs = [r.period_start for r in rows]
        lows = [min(r.p25, r.mean) * factor + offset for r in rows]
        highs = [max(r.p75, r.mean) * factor + offset for r in rows]
        x_pad = max((max(xs) - min(xs)) * 0.04, 86400 * 20)
        y_pad = max((max(highs) - min(lows)) * 0.08, abs(max(highs)) * 0.02, 0.01)
        self.plot.setXRange(min(xs) - x_pad, max(xs) + x_pad, padding=0)
        self.plot.setYRange(min(lows) - y_pad, max(highs) + y_pad, padding=0)

    def _fill_table(self, factor: float, offset: float) -> None:
        # The newest periods first: the table opened on decades-old, mostly grey rows.
        rows = sorted(self.rows, key=lambda row: (-row.period_start, row.group))
        period = self.period.currentData()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (period_label(row.period, period), row.group, f"{row.patients:,}", f"{row.readings:,}",
                     *(format_value(v * factor + offset) for v in (row.mean, row.median, row.p25, row.p75)))
            small = row.patients < MIN_PATIENTS
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if small:
                    item.setForeground(QColor(130, 130, 130))
                    item.setToolTip(f"Fewer than {MIN_PATIENTS} patients: listed, not plotted")
                self.table.setItem(r, c, item)

    def export_png(self, path: str | Path) -> None:
        from pyqtgraph.exporters import ImageExporter

        ImageExporter(self.plot).export(str(path))


def period_label(start: str, period: str) -> str:
    """"2020" for a year, "2020 Q3" for a quarter, "2020-07" for a month (from the period's ISO start)."""
    year, month = start[:4], int(start[5:7]) if len(start) >= 7 else 1
    if period == "year":
        return year
    if period == "quarter":
        return f"{year} Q{(month - 1) // 3 + 1}"
    return start[:7]
