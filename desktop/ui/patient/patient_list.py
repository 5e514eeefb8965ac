"""The patient list: search by name or id, filter by condition, sex and age; pick a patient.

Name, sex and age always fit (the other columns follow and scroll); a patient who has died is marked † before
the name and the age."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.queries.patients import (
    COLUMNS,
    PatientFilter,
    condition_names,
    count_patients,
    list_patients,
)
from desktop.core.workspace.store import Store
from desktop.ui.executor import op
from desktop.ui.paged_model import PagedTableModel
from desktop.ui.workspace import Workspace

ANY_AGE = -1  # the spin boxes' "any" value (shown as their special text)
NAME, ID, SEX, AGE = range(4)
SEX_WIDTH, AGE_WIDTH = 40, 48
DECEASED_MARK = "†"


def patient_rows(store: Store, *, filter: PatientFilter, offset: int, limit: int) -> list[tuple[Any, ...]]:
    """One page of the list as its :data:`COLUMNS`, the dead marked."""
    rows = []
    for p in list_patients(store, filter=filter, offset=offset, limit=limit):
        age = "" if p["age"] is None else str(int(p["age"]))
        name = p["name"] or "(no name)"
        if p["deceased"]:
            name, age = f"{DECEASED_MARK} {name}", f"{DECEASED_MARK} {age}".strip()
        rows.append((name, p["id"], p["sex"] or "?", age, "; ".join(p["conditions"]), p["observations"]))
    return rows


class QtPatientList(QWidget):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.filter = PatientFilter()

        self.search = QLineEdit(placeholderText="Search name or ID")
        self.search.setClearButtonEnabled(True)
        self.condition = QComboBox()
        self.condition.addItem("Any condition", None)
        self.condition.setMinimumContentsLength(12)
        self.condition.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sex = QComboBox()
        for label, value in (("Any sex", None), ("Female", "F"), ("Male", "M")):
            self.sex.addItem(label, value)
        self.age_min, self.age_max = QSpinBox(), QSpinBox()
        for box, text in ((self.age_min, "min age: any"), (self.age_max, "max age: any")):
            box.setRange(ANY_AGE, 130)
            box.setValue(ANY_AGE)
            box.setSpecialValueText(text)
        self.count_label = QLabel("No workspace open")

        self.model = PagedTableModel(workspace.executor, COLUMNS, lambda _s: 0, lambda _s, _o, _l: [])
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # "P-ddd4…" ids must not break at the hyphen
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((170, 105, SEX_WIDTH, AGE_WIDTH, 220, 90)):
            self.table.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        # Sex and age next to the name: the three a clinician picks by stay in view on a narrow list.
        header.moveSection(header.visualIndex(SEX), 1)
        header.moveSection(header.visualIndex(AGE), 2)
        header.setToolTip(f"{DECEASED_MARK}: the patient has died")

        filters = QGridLayout()
        filters.addWidget(self.search, 0, 0, 1, 2)
        filters.addWidget(self.condition, 1, 0, 1, 2)
        filters.addWidget(self.sex, 2, 0, 1, 2)
        filters.addWidget(self.age_min, 3, 0)
        filters.addWidget(self.age_max, 3, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.count_label)
        layout.addWidget(self.table, 1)

        # Typing is debounced: one query per pause, not one per key.
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        for combo in (self.condition, self.sex):
            combo.currentIndexChanged.connect(self.apply_filters)
        for box in (self.age_min, self.age_max):
            box.valueChanged.connect(lambda _value: self._debounce.start())
        # Arrowing down the list should not queue a full patient load per row passed: wait for a pause.
        self._pick = QTimer(self, singleShot=True, interval=120)
        self._pick.timeout.connect(self._emit_pick)
        self._picked = ""
        self.model.counted.connect(self._on_counted)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        workspace.patient_selected.connect(self._highlight)
        workspace.opened.connect(self._on_workspace)
        workspace.data_changed.connect(self._on_workspace)
        if workspace.is_open:
            self._on_workspace()

    def current_filter(self) -> PatientFilter:
        low, high = self.age_min.value(), self.age_max.value()
        return PatientFilter(
            search=self.search.text(), condition=self.condition.currentData(), sex=self.sex.currentData(),
            age_min=None if low == ANY_AGE else low, age_max=None if high == ANY_AGE else high,
        )

    def apply_filters(self) -> None:
        # The query closes over this snapshot: the worker thread never reads widget state.
        flt = self.filter = self.current_filter()
        if self.workspace.is_open:
            self.count_label.setText("Searching…")
            self.model.set_query(
                lambda store: count_patients(store, filter=flt),
                lambda store, offset, limit: patient_rows(store, filter=flt, offset=offset, limit=limit))

    def _on_workspace(self, *_: object) -> None:
        op(lambda store: condition_names(store)).success(self._set_conditions).run(self.workspace.executor)
        self.apply_filters()

    def _set_conditions(self, names: list[str]) -> None:
        current = self.condition.currentData()
        self.condition.blockSignals(True)
        self.condition.clear()
        self.condition.addItem("Any condition", None)
        for name in names:
            self.condition.addItem(name, name)
        index = self.condition.findData(current) if current else 0
        self.condition.setCurrentIndex(max(index, 0))
        self.condition.blockSignals(False)

    def _on_counted(self, rows: int) -> None:
        dead = any(str(values[NAME]).startswith(DECEASED_MARK) for values in self.model.fetched_rows())
        self.count_label.setText(f"{rows:,} patient{'s' if rows != 1 else ''}"
                                 + (f" · {DECEASED_MARK} has died" if dead else ""))
        self._highlight(self.workspace.patient_id or "")

    def _highlight(self, patient_id: str) -> None:
        """Keep the chosen patient highlighted when they are in the fetched part of the list."""
        if not patient_id:
            return
        for row, values in enumerate(self.model.fetched_rows()):
            if values[1] == patient_id:
                if self.table.currentIndex().row() != row:
                    self.table.selectRow(row)
                    self.table.scrollTo(self.model.index(row, 0))
                break

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        if not rows:
            return
        values = self.model.row(rows[0].row())
        if values is not None:
            self._picked = str(values[1])
            self._pick.start()

    def _emit_pick(self) -> None:
        self.workspace.select_patient(self._picked)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """The name takes what sex and age leave (never less than 90 px); the rest scroll to the right."""
        room = self.table.viewport().width() - SEX_WIDTH - AGE_WIDTH
        self.table.setColumnWidth(NAME, max(90, min(room, 260)))
        self.table.setColumnWidth(SEX, SEX_WIDTH)
        self.table.setColumnWidth(AGE, AGE_WIDTH)

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)
