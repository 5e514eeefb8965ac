"""Column mappings: which column is the patient, the time, and which columns are which measurement.

The wide admissions file and the long file are built-in mappings found from the header; any other CSV
is imported through a mapping the user makes once and the workspace keeps for next time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import duckdb

from desktop.core.clinical.measurements import load_catalog, normalise_name


@dataclass(frozen=True)
class MeasurementColumn:
    column: str
    measurement: str  # a LOINC code or a name the catalog knows (e.g. "Systolic BP")
    unit: str | None = None  # the unit of this column's values; None: the catalog's canonical unit


@dataclass(frozen=True)
class ColumnMapping:
    """How to read one kind of CSV. Either ``measurements`` (wide) or ``measurement``+``value`` (long)."""

    patient: str
    time: str
    time_format: str | None = None  # strptime format, e.g. "%d/%m/%Y"; None for ISO 8601
    patient_is_name: bool = False  # the patient column holds a name, not an id (admission exports)
    name: str | None = None
    sex: str | None = None
    age: str | None = None
    birth_date: str | None = None
    condition: str | None = None
    measurements: tuple[MeasurementColumn, ...] = field(default_factory=tuple)
    measurement: str | None = None
    value: str | None = None
    unit: str | None = None

    def columns_used(self) -> list[str]:
        cols = [self.patient, self.time, self.name, self.sex, self.age, self.birth_date, self.condition,
                self.measurement, self.value, self.unit]
        cols += [m.column for m in self.measurements]
        return [c for c in cols if c]

    def problems(self, header: list[str]) -> list[str]:
        """Everything wrong with this mapping for this header, all at once."""
        out = [f"column '{c}' is not in the file" for c in self.columns_used() if c not in header]
        if not self.measurements and not (self.measurement and self.value):
            out.append("map at least one measurement column, or a measurement name column and a value column")
        catalog = load_catalog()
        for m in self.measurements:
            known = catalog.by_name(m.measurement) or catalog.by_code(m.measurement)
            if known and m.unit is not None and known.convert(1.0, m.unit) is None:
                out.append(f"'{m.unit}' is not a unit of {known.name} (column '{m.column}')")
        return out

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> ColumnMapping:
        """Parse a mapping file; every problem is reported at once, naming its key (ValueError)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        if not isinstance(data, dict):
            # ValueError, not TypeError: callers catch one kind for every bad mapping file
            kind = _json_kind(data)
            raise ValueError(f"the mapping must be a JSON object {{...}}, not {kind}")  # noqa: TRY004
        problems = _shape_problems(data)
        if problems:
            raise ValueError("; ".join(problems))
        data = dict(data)
        data["measurements"] = tuple(MeasurementColumn(**m) for m in data.get("measurements") or [])
        return ColumnMapping(**data)


_TEXT_KEYS = ("time_format", "name", "sex", "age", "birth_date", "condition", "measurement", "value", "unit")
_MEASUREMENT_KEYS = {"column": True, "measurement": True, "unit": False}  # key: required


def _json_kind(value: object) -> str:
    """How a JSON value is called in a message: 'a list', 'null', 'the number 3'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a list" if isinstance(value, list) else "an object"


def _shape_problems(data: dict[str, object]) -> list[str]:
    """Each key whose value has the wrong JSON type, missing or unknown, in words."""
    out: list[str] = []
    known = {"patient", "time", "patient_is_name", "measurements", *_TEXT_KEYS}
    out += [f"unknown key '{k}'" for k in data if k not in known]
    for key in ("patient", "time"):
        if key not in data:
            out.append(f"'{key}' is missing: give the name of the {key} column")
        elif not isinstance(data[key], str) or not data[key]:
            out.append(f"'{key}' must be a column name (text), not {_json_kind(data[key])}")
    for key in _TEXT_KEYS:
        if key in data and data[key] is not None and not isinstance(data[key], str):
            out.append(f"'{key}' must be text or null, not {_json_kind(data[key])}")
    if "patient_is_name" in data and not isinstance(data["patient_is_name"], bool):
        out.append(f"'patient_is_name' must be true or false, not {_json_kind(data['patient_is_name'])}")
    measurements = data.get("measurements")
    if measurements is not None and not isinstance(measurements, list):
        out.append(f"'measurements' must be a list of objects, not {_json_kind(measurements)}")
    for i, m in enumerate(measurements if isinstance(measurements, list) else []):
        where = f"measurements[{i}]"
        if not isinstance(m, dict):
            out.append(f"'{where}' must be an object with 'column' and 'measurement', not {_json_kind(m)}")
            continue
        out += [f"'{where}': unknown key '{k}'" for k in m if k not in _MEASUREMENT_KEYS]
        for key, required in _MEASUREMENT_KEYS.items():
            value = m.get(key)
            if key not in m and required:
                out.append(f"'{where}.{key}' is missing")
            elif key in m and not (isinstance(value, str) and value) and (required or value is not None):
                out.append(f"'{where}.{key}' must be text, not {_json_kind(value)}")
    return out


def header_signature(header: list[str]) -> str:
    return "|".join(h.strip().lower() for h in header)


def save_mapping(con: duckdb.DuckDBPyConnection, header: list[str], name: str, mapping: ColumnMapping) -> None:
    con.execute(
        "INSERT INTO column_mappings VALUES (?, ?, ?, now()::TIMESTAMP) ON CONFLICT (header_signature) "
        "DO UPDATE SET name = excluded.name, mapping_json = excluded.mapping_json, saved_at = excluded.saved_at",
        [header_signature(header), name, mapping.to_json()],
    )


def saved_mapping(con: duckdb.DuckDBPyConnection, header: list[str]) -> ColumnMapping | None:
    row = con.execute(
        "SELECT mapping_json FROM column_mappings WHERE header_signature = ?", [header_signature(header)]
    ).fetchone()
    return ColumnMapping.from_json(row[0]) if row else None


# The wide admissions layout (Kaggle healthcare dataset + SanAssist vitals): columns with no unit in
# the header carry these units. WBC Count is cells/uL there (3,000-50,000), not 10^9/L.
_WIDE_DEFAULT_UNITS = {
    "systolic bp": "mm[Hg]", "diastolic bp": "mm[Hg]", "heart rate": "/min", "bmi": "kg/m2", "spo2": "%",
    "creatinine": "mg/dL", "crp": "mg/L", "wbc count": "cells/uL", "hemoglobin": "g/dL",
}
_WIDE_REQUIRED = ("name", "age", "gender", "date of admission")


def _unit_from_header(column: str) -> str | None:
    """'Weight (lb)' -> 'lb'; 'Glucose [mmol/L]' -> 'mmol/L'."""
    text = column.strip()
    for open_, close in (("(", ")"), ("[", "]")):
        if text.endswith(close) and open_ in text:
            return text[text.rindex(open_) + 1 : -1].strip() or None
    return None


def wide_mapping(header: list[str]) -> ColumnMapping | None:
    lower = {h.strip().lower(): h for h in header}
    if not all(k in lower for k in _WIDE_REQUIRED):
        return None
    catalog = load_catalog()
    measurements = []
    for h in header:
        m = catalog.by_name(h)
        if m is None or h.strip().lower() in {"name", "age"}:
            continue
        unit = _unit_from_header(h) or _WIDE_DEFAULT_UNITS.get(normalise_name(h))
        measurements.append(MeasurementColumn(column=h, measurement=m.code, unit=unit))
    return ColumnMapping(
        patient=lower["name"], time=lower["date of admission"], patient_is_name=True, name=lower["name"],
        sex=lower["gender"], age=lower["age"], condition=lower.get("medical condition"),
        measurements=tuple(measurements),
    )


_LONG_ALIASES = {
    "patient": ("patient", "patient_id", "patientid", "subject_id", "mrn", "patient id"),
    "time": ("time", "datetime", "date", "timestamp", "observed_at", "charttime", "date_time"),
    "measurement": ("measurement", "test", "parameter", "item", "analyte", "vital", "observation", "code"),
    "value": ("value", "result", "valuenum", "reading"),
    "unit": ("unit", "units", "valueuom", "uom"),
}


def long_mapping(header: list[str]) -> ColumnMapping | None:
    lower = {h.strip().lower(): h for h in header}
    found: dict[str, str] = {}
    for role, names in _LONG_ALIASES.items():
        for n in names:
            if n in lower:
                found[role] = lower[n]
                break
    if not all(r in found for r in ("patient", "time", "measurement", "value")):
        return None
    return ColumnMapping(
        patient=found["patient"], time=found["time"], measurement=found["measurement"], value=found["value"],
        unit=found.get("unit"),
    )
