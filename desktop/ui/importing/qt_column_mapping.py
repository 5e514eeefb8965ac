"""Pieces of the import dialog: format names a clinician reads, and the column-mapping form."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clinical.display_units import pretty_unit
from desktop.core.clinical.measurements import load_catalog
from desktop.core.importers import ColumnMapping, MeasurementColumn
from desktop.core.importers.mapping import ConditionColumn
from desktop.core.importers.mapping import _unit_from_header as unit_from_header

FORMAT_NAMES = {
    "synthea-patients": "Synthea patients",
    "synthea-encounters": "Synthea encounters",
    "synthea-conditions": "Synthea conditions",
    "synthea-observations": "Synthea observations",
    "synthea-medications": "Synthea medications",
    "synthea-allergies": "Synthea allergies",
    "synthea-procedures": "Synthea procedures",
    "synthea-immunizations": "Synthea immunizations",
    "synthea-other": "Synthea file Vitalsight does not use (skipped)",
    "wide-admissions": "Admissions (one row per admission, a column per measurement)",
    "long": "Long readings (patient, time, measurement, value, unit)",
    "mapped": "Your saved column mapping",
    "unknown": "Not recognised: map its columns",
}

NOT_USED = "(not used)"
NO_TIME = "(none: one date for the whole file)"
# Choices in a column's measurement list beyond the catalog's measurements.
TEXT, CONDITION, BP_PAIR = "text:", "condition:", "bp-pair:"


def format_name(fmt: str) -> str:
    return FORMAT_NAMES.get(fmt, fmt)


class QtColumnMapping(QWidget):
    """Say which column is the patient, the time (or the one date of a snapshot file), and which columns hold
    which measurement, words (smoking status), yes/no conditions or a blood pressure written 120/80."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header: list[str] = []
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.patient, self.time, self.sex, self.birth = QComboBox(), QComboBox(), QComboBox(), QComboBox()
        self.age = QComboBox()
        self.observed_on = QDateEdit()
        self.observed_on.setCalendarPopup(True)
        self.observed_on.setDisplayFormat("yyyy-MM-dd")
        self.observed_on.setMaximumDate(QDate.currentDate())
        self.observed_on.setToolTip("A file without a time column (one row per patient) is dated this day; "
                                    "by default the day the file was last saved")
        self.layout_choice = QComboBox()
        self.layout_choice.addItem("One column per measurement (e.g. SBP, Pulse, Temp)", "wide")
        self.layout_choice.addItem("One row per reading (a column names the measurement)", "long")
        self.measure_col, self.value_col, self.unit_col = QComboBox(), QComboBox(), QComboBox()
        self.time_format = QLineEdit(placeholderText="blank for ISO dates (2024-03-01 08:30); e.g. %d/%m/%Y")
        self.columns = QTableWidget(0, 3)
        self.columns.setHorizontalHeaderLabels(["Column in the file", "What it holds", "Unit, or condition name"])
        self.columns.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.columns.verticalHeader().setVisible(False)
        self.name = QLineEdit(placeholderText="e.g. Ward 7 vitals export")
        self.remember = QCheckBox("Remember this mapping for files with the same columns")
        self.remember.setChecked(True)
        form = QFormLayout()
        form.addRow("Patient ID column", self.patient)
        form.addRow("Date/time column", self.time)
        form.addRow("Date format", self.time_format)
        form.addRow("Date of the whole file", self.observed_on)
        form.addRow("Sex column (optional)", self.sex)
        form.addRow("Birth date column (optional)", self.birth)
        form.addRow("Age column (optional)", self.age)
        form.addRow("Layout", self.layout_choice)
        self.long_form = QWidget()
        long_rows = QFormLayout(self.long_form)
        long_rows.setContentsMargins(0, 0, 0, 0)
        long_rows.addRow("Measurement name or code column", self.measure_col)
        long_rows.addRow("Value column", self.value_col)
        long_rows.addRow("Unit column (optional)", self.unit_col)
        form.addRow("Mapping name", self.name)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.long_form)
        layout.addWidget(self.columns, 1)
        layout.addWidget(self.remember)
        self.layout_choice.currentIndexChanged.connect(self._show_layout)
        self.time.currentIndexChanged.connect(self._show_time)
        self._show_layout()

    def set_header(self, file_name: str, header: list[str], modified: date | None = None) -> None:
        """Offer ``header``'s columns; ``modified`` (the file's modification day) is the default date of a
        file without a time column."""
        self.header = header
        day = modified or date.today()
        self.observed_on.setDate(QDate(day.year, day.month, day.day))
        self.intro.setText(
            f"<b>{file_name}</b> has columns Vitalsight does not recognise. Say what they hold once; "
            "files with the same columns are then imported without asking. A file with no time column (one row "
            "per patient) is dated by one date for the whole file."
        )
        lower = [h.lower() for h in header]
        for combo, optional, hints in (
            (self.patient, False, ("patient", "id", "mrn", "subject")),
            (self.time, True, ("date", "time", "when", "drawn", "taken", "collected", "recorded")),
            (self.sex, True, ("sex", "gender")),
            (self.birth, True, ("birth", "dob")),
            (self.age, True, ("age",)),
            (self.measure_col, False, ("test", "name", "measure", "item", "param", "analyte")),
            (self.value_col, False, ("result", "value", "reading")),
            (self.unit_col, True, ("unit", "uom")),
        ):
            combo.clear()
            if optional:
                combo.addItem(NO_TIME if combo is self.time else NOT_USED, None)
            for h in header:
                combo.addItem(h, h)
            guess = next((i for i, h in enumerate(lower) if any(k in h for k in hints)), None)
            if guess is not None:
                combo.setCurrentIndex(guess + (1 if optional else 0))
        catalog = load_catalog()
        self.columns.setRowCount(len(header))
        for r, h in enumerate(header):
            self.columns.setItem(r, 0, QTableWidgetItem(h))
            measure = QComboBox()
            measure.addItem(NOT_USED, None)
            measure.addItem("Words, kept as written (e.g. smoking status)", TEXT)
            measure.addItem("Yes/no: has a condition (name it on the right)", CONDITION)
            measure.addItem("Blood pressure written systolic/diastolic (120/80)", BP_PAIR)
            for m in catalog.measurements:
                if not m.is_text:
                    measure.addItem(f"{m.name} ({pretty_unit(m.unit)})", m.code)
            known = catalog.by_name(h)
            unit = QLineEdit()
            if known is not None and not known.is_text:
                measure.setCurrentIndex(max(measure.findData(known.code), 0))
                unit.setText(unit_from_header(h) or known.unit)
            measure.currentIndexChanged.connect(lambda _i, m=measure, u=unit: self._default_unit(m, u))
            self.columns.setCellWidget(r, 1, measure)
            self.columns.setCellWidget(r, 2, unit)

    def _show_layout(self) -> None:
        long = self.layout_choice.currentData() == "long"
        self.long_form.setVisible(long)
        self.columns.setVisible(not long)

    def _show_time(self) -> None:
        no_time = self.time.currentData() is None
        self.observed_on.setEnabled(no_time)
        self.time_format.setEnabled(not no_time)

    def _default_unit(self, measure: QComboBox, unit: QLineEdit) -> None:
        choice = measure.currentData() or ""
        if choice == CONDITION:
            row = next(r for r in range(self.columns.rowCount()) if self.columns.cellWidget(r, 1) is measure)
            unit.setPlaceholderText("the condition, e.g. Diabetes mellitus")
            if not unit.text():
                unit.setText(self.header[row].replace("_", " "))
            return
        m = load_catalog().by_code(choice)
        if m is not None and not unit.text():
            unit.setText(m.unit)

    def set_measurement(self, column: str, code: str, unit: str | None = None) -> None:
        r = self.header.index(column)
        combo: QComboBox = self.columns.cellWidget(r, 1)  # type: ignore[assignment]
        combo.setCurrentIndex(combo.findData(code))
        if unit is not None:
            self.columns.cellWidget(r, 2).setText(unit)  # type: ignore[attr-defined]

    def mapping(self) -> ColumnMapping:
        time = self.time.currentData()
        when = {
            "time": time, "time_format": (self.time_format.text().strip() or None) if time else None,
            "observed_on": None if time else self.observed_on.date().toString("yyyy-MM-dd"),
        }
        people = {"sex": self.sex.currentData(), "birth_date": self.birth.currentData(), "age": self.age.currentData()}
        if self.layout_choice.currentData() == "long":
            return ColumnMapping(
                patient=self.patient.currentData(), **when, **people, measurement=self.measure_col.currentData(),
                value=self.value_col.currentData(), unit=self.unit_col.currentData(),
            )
        measurements: list[MeasurementColumn] = []
        conditions: list[ConditionColumn] = []
        for r, h in enumerate(self.header):
            choice = self.columns.cellWidget(r, 1).currentData()  # type: ignore[attr-defined]
            right = self.columns.cellWidget(r, 2).text().strip() or None  # type: ignore[attr-defined]
            if choice == TEXT:
                measurements.append(MeasurementColumn(column=h, measurement=h.replace("_", " "), text=True))
            elif choice == CONDITION:
                conditions.append(ConditionColumn(column=h, condition=right or h.replace("_", " ")))
            elif choice == BP_PAIR:
                measurements += [MeasurementColumn(column=h, measurement="8480-6", split="/", part=1),
                                 MeasurementColumn(column=h, measurement="8462-4", split="/", part=2)]
            elif choice:
                measurements.append(MeasurementColumn(column=h, measurement=choice, unit=right))
        return ColumnMapping(
            patient=self.patient.currentData(), **when, **people, name=None, measurements=tuple(measurements),
            conditions=tuple(conditions),
        )

    def mapping_name(self) -> str:
        return self.name.text().strip() or "Mapping"

