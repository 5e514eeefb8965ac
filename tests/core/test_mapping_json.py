"""Mapping files of every wrong shape (issue 14, item 1): a ValueError naming each bad key, never a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core.importers import ColumnMapping

from .conftest import write

GOOD = {"patient": "MRN", "time": "Visit date",
        "measurements": [{"column": "Pulse", "measurement": "Heart rate", "unit": "/min"}]}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
KEYS = ["patient", "time", "time_format", "name", "sex", "age", "birth_date", "condition", "measurement",
        "value", "unit", "patient_is_name", "measurements"]


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
