"""Mapping files of every wrong shape (issue 14, item 1): a ValueError naming each bad key, never a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core.importers import ColumnMapping, MeasurementColumn

from .conftest import write

GOOD = {"patient": "MRN", "time": "Visit date",
        "measurements": [{"column": "Pulse", "measurement": "Heart rate", "unit": "/min"}]}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
KEYS = ["patient", "time", "time_format", "name", "sex", "age", "birth_date", "condition", "measurement",
        "value", "unit", "patient_is_name", "measurements", "observed_on", "conditions"]


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(KEYS), value=json_values)
def test_any_value_under_any_key_is_parsed_or_refused_naming_that_key(key: str, value: object) -> None:
    data = dict(GOOD, **{key: value})
    try:
        mapping = ColumnMapping.from_json(json.dumps(data))
    except ValueError as exc:
        assert f"'{key}" in str(exc)
    else:
        assert isinstance(mapping, ColumnMapping) and mapping.patient and mapping.time


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, 2), field=st.sampled_from(["column", "measurement", "unit", "other"]),
       value=json_values)
def test_bad_measurement_entries_name_their_position(index: int, field: str, value: object) -> None:
    entries = [dict(GOOD["measurements"][0]) for _ in range(3)]  # type: ignore[index]
    entries[index][field] = value
    try:
        ColumnMapping.from_json(json.dumps(dict(GOOD, measurements=entries)))
    except ValueError as exc:
        assert f"measurements[{index}]" in str(exc)


@given(document=json_values)
def test_any_json_document_is_parsed_or_refused_with_value_error(document: object) -> None:
    try:
        ColumnMapping.from_json(json.dumps(document))
    except ValueError:
        pass


def test_every_problem_is_reported_at_once() -> None:
    data = {"patient": ["MRN"], "measurements": [{"column": 3}], "unit": 5, "colour": "red"}
    with pytest.raises(ValueError) as caught:
        ColumnMapping.from_json(json.dumps(data))
    message = str(caught.value)
    for part in ("'patient' must be a column name (text), not a list", "'time' is missing",
                 "'unit' must be text or null, not the number 5", "unknown key 'colour'",
                 "'measurements[0].column' must be text, not the number 3",
                 "'measurements[0].measurement' is missing"):
        assert part in message


def test_cli_bad_mapping_is_one_line_exit_2_and_a_json_report(tmp_path: Path) -> None:
    csv = write(tmp_path / "clinic.csv", "MRN,Visit date,Pulse\nA,2024-01-01,70\n")
    mapping = write(tmp_path / "m.json", json.dumps({"patient": "MRN", "measurements": None}))
    command = [sys.executable, "-m", "desktop", "import", "--workspace", str(tmp_path / "w.duckdb"),
               "--mapping", str(mapping), str(csv)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "'time' is missing" in run.stderr
    assert json.loads(run.stdout)["files"][0]["file"] == str(csv)


SNAPSHOT = {"patient": "Patient_ID", "observed_on": "2024-06-01",
            "conditions": [{"column": "Diabetes", "condition": "Diabetes mellitus"}]}


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, 1),
       field=st.sampled_from(["column", "condition", "true_values", "false_values", "other"]), value=json_values)
def test_bad_condition_entries_name_their_position(index: int, field: str, value: object) -> None:
    entries = [dict(SNAPSHOT["conditions"][0]) for _ in range(2)]  # type: ignore[index]
    entries[index][field] = value
    try:
        mapping = ColumnMapping.from_json(json.dumps(dict(SNAPSHOT, conditions=entries)))
    except ValueError as exc:
        assert f"conditions[{index}]" in str(exc)
    else:
        assert all(c.true_values and c.false_values for c in mapping.conditions)


@settings(max_examples=200, deadline=None)
@given(observed_on=st.text(max_size=12) | st.dates().map(str))
def test_observed_on_is_a_past_date_or_refused_naming_it(observed_on: str) -> None:
    try:
        mapping = ColumnMapping.from_json(json.dumps(dict(SNAPSHOT, observed_on=observed_on)))
    except ValueError as exc:
        assert "'observed_on'" in str(exc) or "'time' is missing" in str(exc)
    else:
        day = mapping.observed_date(date(2020, 1, 1))
        assert day is not None and day <= date.today()


def test_snapshot_mapping_problems_are_reported_at_once() -> None:
    data = {"patient": "Patient_ID", "time": "When", "observed_on": "2024-13-01",
            "measurements": [{"column": "BP", "measurement": "Systolic BP", "split": "/"},
                             {"column": "Smoking", "measurement": "Heart rate", "text": "yes"}],
            "conditions": [{"column": "Diabetes", "true_values": ["1", "yes"], "false_values": ["0", "yes"]}, 5]}
    with pytest.raises(ValueError) as caught:
        ColumnMapping.from_json(json.dumps(data))
    message = str(caught.value)
    for part in ("give either 'time' (a column) or 'observed_on'", "'observed_on' must be a date written YYYY-MM-DD",
                 "'measurements[0]': 'split' and 'part' go together", "'measurements[1].text' must be true or false",
                 "'conditions[0].condition' is missing", "'conditions[0]': 'yes' cannot mean both yes and no",
                 "'conditions[1]' must be an object"):
        assert part in message
    # Against the file's header: missing columns, and text asked of a measurement that is a number.
    mapping = ColumnMapping(patient="Patient_ID", observed_on="2024-06-01", measurements=(
        MeasurementColumn("Pulse", "Heart rate", text=True),))
    problems = mapping.problems(["Patient_ID"])
    assert "column 'Pulse' is not in the file" in problems
    assert "'measurements[0].text': Heart rate is a number, not text (column 'Pulse')" in problems


def test_a_mapping_without_time_or_observed_on_says_both_ways() -> None:
    with pytest.raises(ValueError, match="'time' is missing: give the name of the time column, or 'observed_on'"):
        ColumnMapping.from_json(json.dumps({"patient": "P", "measurements": [{"column": "x", "measurement": "y"}]}))
