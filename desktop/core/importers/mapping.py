"""Column mappings: which column is the patient, the time, and which columns are which measurement.

The wide admissions file and the long file are built-in mappings found from the header; any other CSV
is imported through a mapping the user makes once and the workspace keeps for next time.

A snapshot file (one row per patient, no time column, e.g. the Kaggle heart-disease files) is mapped with
``observed_on`` (one date for the whole file) instead of ``time``, and its yes/no columns with
``conditions``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date

import duckdb

from desktop.core.clinical.measurements import load_catalog, normalise_name


@dataclass(frozen=True)
class MeasurementColumn:
    column: str
    measurement: str  # a LOINC code or a name the catalog knows (e.g. "Systolic BP")
    unit: str | None = None  # the unit of this column's values; None: the catalog's canonical unit
    #: the values are words (smoking status "Former"), stored as written like Synthea's text observations
    text: bool = False
    #: the cell holds several values ("120/80"): ``split`` separates them, ``part`` (1, 2, ...) is this one
    split: str | None = None
    part: int | None = None


DEFAULT_TRUE = ("1", "yes", "y", "true")
DEFAULT_FALSE = ("0", "no", "n", "false")


@dataclass(frozen=True)
class ConditionColumn:
    """A yes/no column meaning "has this condition" (Diabetes 0/1). An empty cell says nothing; a value that
    is neither a true nor a false value ("maybe") rejects the row, naming the column and the value."""

    column: str
    condition: str  # the condition's name as the patient view shows it, e.g. "Diabetes mellitus"
    true_values: tuple[str, ...] = DEFAULT_TRUE  # compared case-blind, spaces trimmed
    false_values: tuple[str, ...] = DEFAULT_FALSE


#: ``observed_on`` meaning "the file's modification date": what a remembered snapshot mapping keeps, since
#: a date belongs to one file, not to every later file with the same columns.
FILE_MODIFIED = "file-modified"


@dataclass(frozen=True)
class ColumnMapping:
    """How to read one kind of CSV. Either ``measurements`` (wide) or ``measurement``+``value`` (long);
    either a ``time`` column or ``observed_on``, one date for the whole file (a snapshot)."""

    patient: str
    time: str | None = None
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
    observed_on: str | None = None  # "YYYY-MM-DD" or FILE_MODIFIED: every row was observed that day
    conditions: tuple[ConditionColumn, ...] = field(default_factory=tuple)

    def columns_used(self) -> list[str]:
        cols = [self.patient, self.time, self.name, self.sex, self.age, self.birth_date, self.condition,
                self.measurement, self.value, self.unit]
        cols += [m.column for m in self.measurements] + [c.column for c in self.conditions]
        return list(dict.fromkeys(c for c in cols if c))

    def problems(self, header: list[str]) -> list[str]:
        """Everything wrong with this mapping for this header, all at once, each naming its key."""
        out = [f"column '{c}' is not in the file" for c in self.columns_used() if c not in header]
        out += _date_problems(self.time, self.observed_on)
        if not self.measurements and not (self.measurement and self.value) and not self.conditions:
            out.append("map at least one measurement column, or a measurement name column and a value column, "
                       "or a yes/no condition column ('conditions')")
        catalog = load_catalog()
        for i, m in enumerate(self.measurements):
            known = catalog.by_name(m.measurement) or catalog.by_code(m.measurement)
            if known and m.unit is not None and known.convert(1.0, m.unit) is None:
                out.append(f"'{m.unit}' is not a unit of {known.name} (column '{m.column}')")
            if known and m.text and not known.is_text:
                out.append(f"'measurements[{i}].text': {known.name} is a number, not text (column '{m.column}')")
        return out

    @property
    def one_value_per_row(self) -> bool:
        """A long layout: each row is one reading (a wide or snapshot row holds many)."""
        return not self.measurements and bool(self.measurement and self.value)

    def observed_date(self, modified: date) -> date | None:
        """The one date of a snapshot file (``modified``: the file's modification date), None with a time
        column."""
        if not self.observed_on:
            return None
        return modified if self.observed_on == FILE_MODIFIED else date.fromisoformat(self.observed_on)

    def for_later_files(self) -> ColumnMapping:
        """The mapping to remember for files with the same header: a snapshot's date is the file's own."""
        if not self.observed_on:
            return self
        return replace(self, observed_on=FILE_MODIFIED)

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
        data["conditions"] = tuple(
            ConditionColumn(column=c["column"], condition=c["condition"],
                            true_values=tuple(c.get("true_values", DEFAULT_TRUE)),
                            false_values=tuple(c.get("false_values", DEFAULT_FALSE)))
            for c in data.get("conditions") or []
        )
        return ColumnMapping(**data)


_TEXT_KEYS = ("time_format", "name", "sex", "age", "birth_date", "condition", "measurement", "value", "unit",
              "observed_on")
_MEASUREMENT_KEYS = {"column": True, "measurement": True, "unit": False}  # key: required
_CONDITION_KEYS = {"column": True, "condition": True}


def _date_problems(time: object, observed_on: object) -> list[str]:
    """A time column or one date for the file: exactly one of them, and the date a real, past day."""
    out: list[str] = []
    if time and observed_on:
        out.append("give either 'time' (a column) or 'observed_on' (one date for the whole file), not both")
    elif not time and not observed_on:
        return [("'time' is missing: give the name of the time column, or 'observed_on' (\"YYYY-MM-DD\", one "
                 "date for the whole file) when the file has none")]
    if not isinstance(observed_on, str) or observed_on in ("", FILE_MODIFIED):
        return out
    try:
        day = date.fromisoformat(observed_on) if len(observed_on) == 10 else None
    except ValueError:
        day = None
    if day is None:
        out.append(f"'observed_on' must be a date written YYYY-MM-DD (or \"{FILE_MODIFIED}\": the file's "
                   f"modification date), not {observed_on!r}")
    elif day > date.today():
        out.append(f"'observed_on' {observed_on} is in the future")
    return out


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
    known = {"patient", "time", "patient_is_name", "measurements", "conditions", *_TEXT_KEYS}
    out += [f"unknown key '{k}'" for k in data if k not in known]
    if "patient" not in data:
        out.append("'patient' is missing: give the name of the patient column")
    elif not isinstance(data["patient"], str) or not data["patient"]:
        out.append(f"'patient' must be a column name (text), not {_json_kind(data['patient'])}")
    if "time" in data and data["time"] is not None and (not isinstance(data["time"], str) or not data["time"]):
        out.append(f"'time' must be a column name (text), not {_json_kind(data['time'])}")
    elif "observed_on" not in data or isinstance(data["observed_on"], str):
        out += _date_problems(data.get("time"), data.get("observed_on"))
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
        out += [f"'{where}': unknown key '{k}'" for k in m if k not in {*_MEASUREMENT_KEYS, "text", "split", "part"}]
        out += _text_key_problems(m, where, _MEASUREMENT_KEYS)
        out += _measurement_option_problems(m, where)
    out += _condition_problems(data.get("conditions"))
    return out


def _text_key_problems(entry: dict[str, object], where: str, keys: dict[str, bool]) -> list[str]:
    out = []
    for key, required in keys.items():
        value = entry.get(key)
        if key not in entry and required:
            out.append(f"'{where}.{key}' is missing")
        elif key in entry and not (isinstance(value, str) and value) and (required or value is not None):
            out.append(f"'{where}.{key}' must be text, not {_json_kind(value)}")
    return out


def _measurement_option_problems(m: dict[str, object], where: str) -> list[str]:
    out = []
    if "text" in m and not isinstance(m["text"], bool):
        out.append(f"'{where}.text' must be true or false, not {_json_kind(m['text'])}")
    split, part = m.get("split"), m.get("part")
    if split is not None and not (isinstance(split, str) and split):
        out.append(f"'{where}.split' must be the text between the values (e.g. \"/\"), not {_json_kind(split)}")
    if part is not None and (isinstance(part, bool) or not isinstance(part, int) or part < 1):
        out.append(f"'{where}.part' must be 1 for the first value, 2 for the second..., not {_json_kind(part)}")
    elif (split is None) != (part is None):
        out.append(f"'{where}': 'split' and 'part' go together (e.g. \"split\": \"/\", \"part\": 2 for the 80 "
                   "of 120/80)")
    return out


def _condition_problems(conditions: object) -> list[str]:
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        return [f"'conditions' must be a list of objects, not {_json_kind(conditions)}"]
    out = []
    for i, c in enumerate(conditions):
        where = f"conditions[{i}]"
        if not isinstance(c, dict):
            out.append(f"'{where}' must be an object with 'column' and 'condition', not {_json_kind(c)}")
            continue
        values_keys = ("true_values", "false_values")
        out += [f"'{where}': unknown key '{k}'" for k in c if k not in {*_CONDITION_KEYS, *values_keys}]
        out += _text_key_problems(c, where, _CONDITION_KEYS)
        lists: dict[str, list[str]] = {}
        for key, default in zip(values_keys, (DEFAULT_TRUE, DEFAULT_FALSE), strict=True):
            v = c.get(key, list(default))
            if isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v):
                lists[key] = [x.strip().lower() for x in v]
            else:
                out.append(f"'{where}.{key}' must be a list of texts (e.g. [\"1\", \"yes\"]), not {_json_kind(v)}")
        both = sorted(set(lists.get("true_values", [])) & set(lists.get("false_values", [])))
        if both:
            out.append(f"'{where}': {', '.join(repr(b) for b in both)} cannot mean both yes and no")
    return out


def header_signature(header: list[str]) -> str:
    return "|".join(h.strip().lower() for h in header)


def save_mapping(con: duckdb.DuckDBPyConnection, header: list[str], name: str, mapping: ColumnMapping) -> None:
    """Remember ``mapping`` for files with this header (a snapshot's date becomes each file's own date)."""
    mapping = mapping.for_later_files()
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
