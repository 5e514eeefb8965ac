"""Pieces of the import dialog: format names a clinician reads, and the column-mapping form."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clinical.display_units import pretty_unit
from desktop.core.clinical.measurements import load_catalog
from desktop.core.importers import ColumnMapping, MeasurementColumn
from desktop.core.importers.column_guess import blood_pressure_kind
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
#: the whole-file date before the user chose one: nothing is dated until they do
NOT_CHOSEN = QDate(1900, 1, 1)
NO_TIME = "(none: one date for the whole file)"
# Choices in a column's measurement list beyond the catalog's measurements.
TEXT, CONDITION, BP_PAIR = "text:", "condition:", "bp-pair:"


def format_name(fmt: str) -> str:
    return FORMAT_NAMES.get(fmt, fmt)


class QtColumnMapping(QWidget):
    """Say which column is the patient, the time (or the one date of a snapshot file), and which columns hold
    which measurement, words (smoking status), yes/no conditions or a blood pressure written 120/80.

    Everything scrolls in one area, and the columns table is as tall as its rows, so every column row is
    reachable at any window size (1366x768 included). A file without a time column is dated only by a date
    the user chose (the file's modification date is shown beside it, one click away, never taken silently)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header: list[str] = []
        self.modified: date | None = None
        #: columns offered as something the user must confirm (a single-number "Blood_Pressure"): column -> box
        self.confirmations: dict[str, QCheckBox] = {}
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.patient, self.time, self.sex, self.birth = QComboBox(), QComboBox(), QComboBox(), QComboBox()
        self.age = QComboBox()
        self.observed_on = QDateEdit()
        self.observed_on.setCalendarPopup(True)
        self.observed_on.setDisplayFormat("yyyy-MM-dd")
        self.observed_on.setMinimumDate(NOT_CHOSEN)
        self.observed_on.setSpecialValueText("choose the date")
        self.observed_on.setMaximumDate(QDate.currentDate())
        self.observed_on.setToolTip("A file without a time column (one row per patient) is dated this day: the "
                                    "day its values were measured, which only you can tell")
        self.file_date = QLabel()
        self.use_file_date = QPushButton("Use the file's date")
        self.use_file_date.clicked.connect(self._take_file_date)
        when_row = QWidget()
        when_layout = QHBoxLayout(when_row)
        when_layout.setContentsMargins(0, 0, 0, 0)
        when_layout.addWidget(self.observed_on)
        when_layout.addWidget(self.file_date, 1)
        when_layout.addWidget(self.use_file_date)
        self.layout_choice = QComboBox()
        self.layout_choice.addItem("One column per measurement (e.g. SBP, Pulse, Temp)", "wide")
        self.layout_choice.addItem("One row per reading (a column names the measurement)", "long")
        self.measure_col, self.value_col, self.unit_col = QComboBox(), QComboBox(), QComboBox()
        self.time_format = QLineEdit(placeholderText="blank for ISO dates (2024-03-01 08:30); e.g. %d/%m/%Y")
        self.columns = QTableWidget(0, 3)
        self.columns.setHorizontalHeaderLabels(["Column in the file", "What it holds", "Unit, or condition name"])
        self.columns.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.columns.verticalHeader().setVisible(False)
        # As tall as its rows: the page scrolls as a whole, so no row hides behind a second scroll bar.
        self.columns.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.columns.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.questions = QWidget()
        self.questions_layout = QVBoxLayout(self.questions)
        self.questions_layout.setContentsMargins(0, 0, 0, 0)
        self.name = QLineEdit(placeholderText="e.g. Ward 7 vitals export")
        self.remember = QCheckBox("Remember this mapping for files with the same columns")
        self.remember.setChecked(True)
        form = QFormLayout()
        form.addRow("Patient ID column", self.patient)
        form.addRow("Date/time column", self.time)
        form.addRow("Date format", self.time_format)
        form.addRow("Date of the whole file", when_row)
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
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.long_form)
        layout.addWidget(self.questions)
        layout.addWidget(self.columns)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll, 1)
        outer.addWidget(self.remember)
        self.layout_choice.currentIndexChanged.connect(self._show_layout)
        self.time.currentIndexChanged.connect(self._show_time)
        self._show_layout()

    def set_header(self, file_name: str, header: list[str], modified: date | None = None,
                   samples: dict[str, list[str]] | None = None) -> None:
        """Offer ``header``'s columns; ``modified`` (the file's modification day) is shown beside the date of a
        file without a time column, to take with one click; ``samples`` (a few values per column) let a
        blood pressure column be offered as what its values look like."""
        self.header = header
        self.modified = modified
        self.observed_on.setDate(NOT_CHOSEN)
        self.file_date.setText(f"the file was last saved on {modified.isoformat()}" if modified
                               else "the file's date is not known")
        self.use_file_date.setEnabled(modified is not None)
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
        for box in self.confirmations.values():
            box.deleteLater()
        self.confirmations = {}
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
            values = (samples or {}).get(h, [])
            bp = blood_pressure_kind(h, values) if known is None else None
            if bp == "pair":
                measure.setCurrentIndex(measure.findData(BP_PAIR))
            elif bp == "single":  # one number: most likely the systolic pressure; the user is asked
                measure.setCurrentIndex(measure.findData("8480-6"))
                unit.setText("mmHg")
                self._ask(h, f"“{h}” holds one number per row (e.g. {values[0]}), not 120/80: is it the "
                             "systolic pressure? Tick to confirm, or choose what it holds in the table below.")
            measure.currentIndexChanged.connect(lambda _i, m=measure, u=unit: self._default_unit(m, u))
            measure.currentIndexChanged.connect(lambda _i, column=h: self._answered(column))
            self.columns.setCellWidget(r, 1, measure)
            self.columns.setCellWidget(r, 2, unit)
        self.columns.resizeRowsToContents()
        self.columns.updateGeometry()
        self._show_time()

    def _show_layout(self) -> None:
        long = self.layout_choice.currentData() == "long"
        self.long_form.setVisible(long)
        self.columns.setVisible(not long)

    def _show_time(self) -> None:
        no_time = self.time.currentData() is None
        self.observed_on.setEnabled(no_time)
        self.use_file_date.setEnabled(no_time and self.modified is not None)
        self.time_format.setEnabled(not no_time)

    def _take_file_date(self) -> None:
        if self.modified is not None:
            self.observed_on.setDate(QDate(self.modified.year, self.modified.month, self.modified.day))

    def _ask(self, column: str, question: str) -> None:
        box = QCheckBox(question)
        box.setStyleSheet("QCheckBox { font-weight: bold; }")
        self.questions_layout.addWidget(box)
        self.confirmations[column] = box

    def _answered(self, column: str) -> None:
        """The user chose for ``column`` in the table: the question about it is answered."""
        box = self.confirmations.pop(column, None)
        if box is not None:
            box.deleteLater()

    def date_chosen(self) -> bool:
        return self.observed_on.date() != NOT_CHOSEN

    def problems(self) -> list[str]:
        """What the user still has to say before this mapping is used (in the window's words)."""
        out = []
        if self.time.currentData() is None and not self.date_chosen():
            saved = (f" (the file was last saved on {self.modified.isoformat()}: “Use the file's date” takes it if "
                     "that is when its values were measured)") if self.modified else ""
            out.append(f"Choose the date of the whole file: the file has no time column{saved}.")
        out += [f"Answer the question about “{column}” (tick it, or choose what the column holds)."
                for column, box in self.confirmations.items() if not box.isChecked()]
        return out

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
        self._answered(column)  # chosen explicitly
        if unit is not None:
            self.columns.cellWidget(r, 2).setText(unit)  # type: ignore[attr-defined]

    def mapping(self) -> ColumnMapping:
        time = self.time.currentData()
        when = {
            "time": time, "time_format": (self.time_format.text().strip() or None) if time else None,
            "observed_on": None if time or not self.date_chosen() else self.observed_on.date().toString("yyyy-MM-dd"),
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

