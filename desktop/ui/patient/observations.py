"""Every reading as a table: sort by any column, filter, copy rows to the clipboard, export CSV.

Each reading carries its flag (in words, the abnormal ones tinted) and the healthy range that applied to the
patient at that reading, beside the value and unit; times are shown whole, and an empty unit is blank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clinical.display_units import pretty_unit
from desktop.core.clinical.flag_words import describe_flag
from desktop.core.queries.observation_flags import with_flags
from desktop.core.queries.observations_table import (
    COLUMNS,
    ObservationFilter,
    count_observations,
    export_observations_csv,
    page_observations,
)
from desktop.ui.executor import op
from desktop.ui.paged_model import Index, PagedTableModel
from desktop.ui.patient.summary import FLAG_COLOURS
from desktop.ui.workspace import Workspace

HEADERS = (*(name for name, _ in COLUMNS), "Flag", "Healthy range")
TIME, UNIT, RAW_UNIT = 0, 5, 7
FLAG, RANGE = len(COLUMNS), len(COLUMNS) + 1
EMPTY_UNITS = {"", "null", "none", "nan", "n/a"}  # what files write for "no unit"


def unit_text(unit: object) -> str:
    return "" if unit is None or str(unit).strip().lower() in EMPTY_UNITS else pretty_unit(str(unit))


class FlaggedModel(PagedTableModel):
    """The paged rows, with abnormal flags tinted (the word is always there too: never colour alone)."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and index.isValid():
            values = self.row(index.row())
            colour = FLAG_COLOURS.get(str(values[FLAG])) if values is not None else None
            return QBrush(colour) if colour is not None and index.column() in (FLAG, 4) else None
        return super().data(index, role)


class QtObservationsTable(QWidget):
    exported = Signal(str, int)  # path, rows written

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.filter = ObservationFilter()
        self.scope = QComboBox()
        self.scope.addItem("Selected patient", "patient")
        self.scope.addItem("All patients", "all")
        self.measurement = QComboBox()
        self.measurement.addItem("All measurements", None)
        self.text = QLineEdit(placeholderText="Filter: measurement, code or recorded value")
        self.text.setClearButtonEnabled(True)
        self.copy_button = QPushButton("Copy rows")
        self.export_button = QPushButton("Export CSV…")
        self.count_label = QLabel()

        self.model = FlaggedModel(workspace.executor, HEADERS, lambda _s: 0, lambda _s, _o, _l: [])
        self.model.formatters[TIME] = lambda v: "" if v is None else str(v)[:19]
        self.model.formatters[4] = lambda v: "" if v is None else f"{float(v):.6g}"  # the stored value, unrounded
        self.model.formatters[UNIT] = unit_text  # mmHg, °C rather than UCUM's mm[Hg], Cel; blank, never "null"
        self.model.formatters[RAW_UNIT] = unit_text
        self.model.formatters[FLAG] = lambda v: "" if v is None else describe_flag(str(v))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # "P-ddd4…" ids must not break at the hyphen
        header = self.table.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        header.setStretchLastSection(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)  # long survey names elide; values stay in view
        # Time whole, then name, value, unit, flag and range: what fits beside the list and the assistant
        # at 1366 px; the code and the value as recorded follow (they scroll).
        metrics = self.table.fontMetrics()
        widths = {TIME: metrics.horizontalAdvance("2020-12-16 08:15:00") + 14, 1: 110, 2: 165, 3: 62, 4: 62,
                  UNIT: 60, 6: 90, RAW_UNIT: 80, FLAG: metrics.horizontalAdvance("HH critically high") + 14,
                  RANGE: 110}
        for column, width in widths.items():
            self.table.setColumnWidth(column, width)
        for visual, logical in enumerate((TIME, 1, 2, 4, UNIT, FLAG, RANGE, 3, 6, RAW_UNIT)):
            header.moveSection(header.visualIndex(logical), visual)

        # The measurement list's longest names (survey questions) must not squeeze the filter box away.
        self.measurement.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.measurement.setMinimumContentsLength(16)
        self.text.setMinimumWidth(140)
        bar = QHBoxLayout()
        bar.addWidget(self.scope)
        bar.addWidget(self.measurement, 1)
        bar.addWidget(self.text, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.count_label)
        layout.addWidget(self.table, 1)

        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.apply_filters)
        self.text.textChanged.connect(lambda _text: self._debounce.start())
        self.scope.currentIndexChanged.connect(self.apply_filters)
        self.measurement.currentIndexChanged.connect(self.apply_filters)
        header.sortIndicatorChanged.connect(lambda *_: self.apply_filters())
        self.copy_button.clicked.connect(self.copy_selection)
        self.export_button.clicked.connect(self.export_csv)
        QShortcut(QKeySequence.StandardKey.Copy, self.table, self.copy_selection)
        self.model.counted.connect(self._on_counted)
        workspace.opened.connect(self._on_workspace)
        workspace.data_changed.connect(self._on_workspace)
        workspace.patient_selected.connect(lambda _pid: self.apply_filters())
        if workspace.is_open:
            self._on_workspace()

    def _on_counted(self, n: int) -> None:
        if self.scope.currentData() == "patient" and not self.workspace.patient_id:
            self.count_label.setText("No patient selected: pick one from the list, or choose “All patients”.")
        else:
            self.count_label.setText(f"{n:,} reading{'s' if n != 1 else ''}")

    def current_filter(self) -> ObservationFilter:
        header = self.table.horizontalHeader()
        patient = self.workspace.patient_id if self.scope.currentData() == "patient" else None
        return ObservationFilter(
            patient_id=patient or ("(no patient selected)" if self.scope.currentData() == "patient" else None),
            code=self.measurement.currentData(), text=self.text.text(),
            # Flag and range are judged per reading, not stored: sorting by them sorts by time.
            sort_column=header.sortIndicatorSection() if header.sortIndicatorSection() < FLAG else TIME,
            descending=header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder,
        )

    def apply_filters(self) -> None:
        flt = self.filter = self.current_filter()  # a snapshot: the worker thread never reads widgets
        # One patient's readings need no patient column: the space goes to the value (1366-pixel screens).
        self.table.setColumnHidden(1, self.scope.currentData() == "patient")
        if self.workspace.is_open:
            self.model.set_query(lambda store: count_observations(store, flt),
                                 lambda store, offset, limit: with_flags(store, page_observations(store, flt, offset, limit)))

    def _on_workspace(self, *_: object) -> None:
        from desktop.core.queries.cohort import measurement_choices

        op(measurement_choices).success(self._set_measurements).run(self.workspace.executor)
        self.apply_filters()

    def _set_measurements(self, choices: list[tuple[str, str, str]]) -> None:
        current = self.measurement.currentData()
        self.measurement.blockSignals(True)
        self.measurement.clear()
        self.measurement.addItem("All measurements", None)
        for code, name, _unit in sorted(choices, key=lambda c: c[1].lower()):
            self.measurement.addItem(name, code)
        self.measurement.setCurrentIndex(max(self.measurement.findData(current), 0) if current else 0)
        self.measurement.blockSignals(False)

    def copy_selection(self) -> str:
        """Selected rows (all fetched rows when none is selected) as tab-separated text with a header."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedIndexes()})
        lines = ["\t".join(HEADERS)]
        for r in rows:
            values = self.model.row(r)
            if values is not None:
                lines.append("\t".join("" if v is None else str(v) for v in values))
        text = "\n".join(lines) + "\n"
        QGuiApplication.clipboard().setText(text)
        return text

    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export observations", str(Path.home() / "observations.csv"),
                                              "CSV (*.csv)")
        if path:
            self.export_to(path)

    def export_to(self, path: str, *, deidentified: bool = False) -> None:
        """Write exactly the filtered, sorted rows on screen to ``path`` (off the GUI thread); de-identified
        when asked (patient ids replaced, dates shifted per patient)."""
        flt = self.current_filter()
        self.last_export_deidentified = deidentified
        op(lambda store: export_observations_csv(store, flt, path, deidentified=deidentified)).success(
            lambda n: self._on_exported(path, n)
        ).with_progress(f"Exporting to {Path(path).name}…", self.window()).run(self.workspace.executor)

    def _on_exported(self, path: str, rows: int) -> None:
        self.count_label.setText(f"Exported {rows:,} rows to {path}")
        self.exported.emit(path, rows)
