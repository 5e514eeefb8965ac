"""Snapshot files (issue 14, item 5): one row per patient, no time column, yes/no condition columns and
words for smoking status, imported through a mapping with one date for the whole file."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.importers import ColumnMapping, import_paths, run_import
from desktop.core.importers.mapping import FILE_MODIFIED, saved_mapping
from desktop.core.importers.sniff import check_csv
from desktop.core.queries.patients import list_patients
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import SNAPSHOT_HEADER, generate_cohort

from .conftest import write

MAPPING = {
    "patient": "Patient_ID", "observed_on": "2024-06-01", "age": "Age", "sex": "Gender",
    "measurements": [
        {"column": "Blood_Pressure", "measurement": "Systolic BP", "unit": "mm[Hg]"},
        {"column": "Cholesterol", "measurement": "Total cholesterol", "unit": "mg/dL"},
        {"column": "BMI", "measurement": "BMI"},
        {"column": "Smoking_Status", "measurement": "72166-2", "text": True},
    ],
    "conditions": [
        {"column": "Diabetes", "condition": "Diabetes mellitus", "true_values": ["1", "yes", "true"],
         "false_values": ["0", "no", "false"]},
        {"column": "Heart_Disease", "condition": "Heart disease"},
    ],
}
# Rows as a hand-edited export holds them, after the generated ones: (row, the reason it is rejected or None).
MESSY = [
    ("X-1,44,F,131,201,maybe,0,24.1,Never", "Diabetes 'maybe' is neither yes (1, yes, true) nor no (0, no, false)"),
    ("X-2,abc,Male,120,190,0,0,22.0,Current", "Age 'abc' is not an age in years (0-130)"),
    (",50,Male,140,210,1,0,27.0,Former", "patient is empty"),
    ("X-3,61,Female,128,5000,0,1,29.5,Former", "implausible Total cholesterol 5000 mg/dL (plausible 30-1000 mg/dL)"),
    ("X-4,38,Male,n/a,180,0,0,26.0,Never", "value 'n/a' is not a number"),
    ("X-5,70,male,145,220, Yes ,1,,", None),  # case and spaces in a yes; empty BMI and smoking: nothing stored
    ("X-6,29,Female,,,,,,", None),  # nothing but who and how old
    ("X-7,52,Female,122,199,0,0,23.4,Smokes 1-9 a day", None),  # any words are a text value
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cohort")
    generate_cohort(out, patients=40, years=2, seed=11, wide_rows=0)
    return out / "snapshot.csv"


def messy_snapshot(generated: Path, dest: Path) -> tuple[Path, list[list[str]]]:
    """The generated snapshot with the messy rows appended, CRLF line ends as Excel writes them."""
    with generated.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == SNAPSHOT_HEADER
    lines = [",".join(r) for r in rows] + [row for row, _ in MESSY]
    write(dest, "\r\n".join(lines) + "\r\n")
    return dest, rows[1:]


def check_snapshot_report(report: dict[str, object], generated_rows: list[list[str]]) -> None:
    first_messy = len(generated_rows) + 2  # header, then the generated rows
    expected = {first_messy + i: reason for i, (_, reason) in enumerate(MESSY) if reason}
    assert {r["line"]: r["reason"] for r in report["rejections"]} == expected  # type: ignore[union-attr]
    assert report["rows_rejected"] == len(expected)
    assert report["rows_accepted"] == len(generated_rows) + len(MESSY) - len(expected)  # every row counted
    notes = " ".join(report["notes"])  # type: ignore[arg-type]
    assert "every value and condition is dated 2024-06-01, the one date given for this file" in notes


def test_snapshot_imports_every_row_accounted_for(store: Store, tmp_path: Path, generated: Path) -> None:
    path, rows = messy_snapshot(generated, tmp_path / "heart.csv")
    report = run_import(store, paths=[path], mapping=ColumnMapping.from_json(json.dumps(MAPPING)),
                        state=TaskState()).files[0]
    assert report.status == "imported"
    check_snapshot_report(vars(report), rows)
    con = store.con
    # Every generated row's four values are stored, dated the one day, with no unit problem.
    stored = dict(con.execute("SELECT code, count(*) FROM observations WHERE patient_id LIKE 'P%' GROUP BY 1").fetchall())
    assert stored == {"8480-6": len(rows), "2093-3": len(rows), "39156-5": len(rows), "72166-2": len(rows)}
    assert con.execute("SELECT DISTINCT observed_at::VARCHAR FROM observations").fetchall() == [("2024-06-01 00:00:00",)]
    # Smoking status is kept as the file's words, like Synthea's text observations.
    smoking = con.execute("SELECT value_raw, value FROM observations WHERE patient_id = 'P0001' AND code = '72166-2'")
    assert smoking.fetchone() == (rows[0][8], None)
    assert con.execute("SELECT value_raw FROM observations WHERE patient_id = 'X-7' AND code = '72166-2'").fetchone() == (
        "Smokes 1-9 a day",)
    # A condition row for each yes, dated the snapshot's day; none for a no, an empty cell or a "maybe".
    conditions = set(con.execute("SELECT patient_id, description, onset::VARCHAR FROM conditions").fetchall())
    want = {(r[0], "Diabetes mellitus", "2024-06-01") for r in rows if r[5] == "1"}
    want |= {(r[0], "Heart disease", "2024-06-01") for r in rows if r[6] == "1"}
    want |= {("X-5", "Diabetes mellitus", "2024-06-01"), ("X-5", "Heart disease", "2024-06-01"),
             ("X-3", "Heart disease", "2024-06-01")}  # X-3's cholesterol is rejected, its heart disease kept
    assert conditions == want
    # The rejected "maybe" stored no diabetes, and the row's other values are still there.
    assert con.execute("SELECT count(*) FROM observations WHERE patient_id = 'X-1'").fetchone() == (4,)
    # Every patient with an id is listed, those from the messy rows included.
    ids = {p["id"] for p in list_patients(store, limit=1000)}
    assert ids == {r[0] for r in rows} | {f"X-{i}" for i in range(1, 8)}


def test_age_is_stored_as_an_estimated_birth_date_mid_year(store: Store, tmp_path: Path) -> None:
    """Age 63 on 2024-06-01: born between 1960-06-02 and 1961-06-01; stored as 1960-12-01, marked estimated."""
    path = write(tmp_path / "s.csv", ",".join(SNAPSHOT_HEADER) + "\nA,63,Female,120,190,0,0,22.0,Never\n"
                 "B,0.5,Male,,,,,,\nC,,Male,,,,,,\n")
    import_paths(store, [path], mapping=ColumnMapping.from_json(json.dumps(MAPPING)))
    births = dict(store.con.execute("SELECT patient_id, birth_date::VARCHAR FROM patients").fetchall())
    assert births == {"A": "1960-12-01", "B": "2023-12-01", "C": None}
    estimated = dict(store.con.execute("SELECT patient_id, birth_date_estimated FROM patients").fetchall())
    assert estimated["A"] is True and estimated["B"] is True
    a = next(p for p in list_patients(store) if p["id"] == "A")
    assert a["age_estimated"] is True and a["age"] in (63 + (date.today() - date(2024, 6, 1)).days // 365,
                                                       63 + (date.today() - date(2024, 6, 1)).days // 365 + 1)


def test_blood_pressure_split_into_systolic_and_diastolic(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "kaggle.csv", ",".join(SNAPSHOT_HEADER) + "\nA,50,Male,120/80,190,0,0,22.0,Never\n"
                 "B,60,Female, 135 / 85 ,200,1,0,25.0,Former\nC,70,Male,128,210,0,1,27.0,Current\n"
                 "D,40,Male,120/80/70,180,0,0,21.0,Never\n")
    mapping = dict(MAPPING, measurements=[
        {"column": "Blood_Pressure", "measurement": "Systolic BP", "split": "/", "part": 1},
        {"column": "Blood_Pressure", "measurement": "Diastolic BP", "split": "/", "part": 2},
    ])
    report = import_paths(store, [path], mapping=ColumnMapping.from_json(json.dumps(mapping))).files[0]
    assert (report.rows_accepted, report.rows_rejected) == (2, 2)
    assert report.rejections == [
        {"line": 4, "reason": "Blood_Pressure '128' is not 2 values separated by '/'"},
        {"line": 5, "reason": "Blood_Pressure '120/80/70' is not 2 values separated by '/'"},
    ]
    bp = set(store.con.execute("SELECT patient_id, code, value FROM observations").fetchall())
    assert bp == {("A", "8480-6", 120.0), ("A", "8462-4", 80.0), ("B", "8480-6", 135.0), ("B", "8462-4", 85.0)}
    # C's one number is not guessed to be systolic, but C's heart disease is kept.
    assert store.con.execute("SELECT patient_id FROM conditions WHERE patient_id = 'C'").fetchall() == [("C",)]


def test_remembered_snapshot_mapping_dates_each_later_file_by_its_own_modification(
    store: Store, tmp_path: Path
) -> None:
    first = write(tmp_path / "2024.csv", ",".join(SNAPSHOT_HEADER) + "\nA,50,Male,120,190,1,0,22.0,Never\n")
    run_import(store, paths=[first], mapping=ColumnMapping.from_json(json.dumps(MAPPING)), save_mapping_as="heart",
               state=TaskState())
    remembered = saved_mapping(store.con, check_csv(first).header)
    assert remembered is not None and remembered.observed_on == FILE_MODIFIED  # not 2024-06-01 for every file
    later = write(tmp_path / "2025.csv", ",".join(SNAPSHOT_HEADER) + "\nA,51,Male,125,195,1,1,22.5,Never\n")
    stamp = datetime(2025, 3, 4, 12, 0).timestamp()
    os.utime(later, (stamp, stamp))
    report = import_paths(store, [later]).files[0]
    assert (report.format, report.rows_accepted) == ("mapped", 1)
    assert any("dated 2025-03-04, the file's modification date" in n for n in report.notes)
    onsets = dict(store.con.execute("SELECT description, onset::VARCHAR FROM conditions").fetchall())
    assert onsets == {"Diabetes mellitus": "2024-06-01", "Heart disease": "2025-03-04"}  # diabetes not twice


def test_cli_imports_the_messy_snapshot_with_every_row_in_its_report(tmp_path: Path, generated: Path) -> None:
    path, rows = messy_snapshot(generated, tmp_path / "heart.csv")
    mapping = write(tmp_path / "M.json", json.dumps(MAPPING))
    workspace = tmp_path / "w.duckdb"
    run = subprocess.run([sys.executable, "-m", "desktop", "import", "--workspace", str(workspace),
                          "--mapping", str(mapping), str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr  # imported, some rows rejected
    report = json.loads(run.stdout)["files"][0]
    assert report["status"] == "imported" and report["format"] == "mapped"
    check_snapshot_report(report, rows)
    with open_store(workspace) as store:
        assert store.con.execute("SELECT count(*) FROM import_rejections").fetchone() == (len(report["rejections"]),)


def test_readme_snapshot_mapping_example_imports_a_kaggle_file(store: Store, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("A **snapshot**", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    mapping = ColumnMapping.from_json(example)
    path = write(tmp_path / "kaggle.csv", ",".join(SNAPSHOT_HEADER) + "\nK1,58,Male,142/91,236,Yes,0,29.1,Current\n")
    report = import_paths(store, [path], mapping=mapping).files[0]
    assert (report.rows_accepted, report.rows_rejected) == (1, 0)
    values = dict(store.con.execute("SELECT code, coalesce(value::VARCHAR, value_raw) FROM observations").fetchall())
    assert values == {"8480-6": "142.0", "8462-4": "91.0", "2093-3": "236.0", "72166-2": "Current"}
    assert store.con.execute("SELECT description FROM conditions").fetchall() == [("Diabetes mellitus",)]


CELLS = {  # what real snapshot exports hold in each column, good and bad
    "Patient_ID": ["P1", "P2", "p 3", "", " ", "Ä-4", "5"],
    "Age": ["0", "45", "67.5", "", "abc", "-3", "131", "1e2"],
    "Gender": ["Male", "female", "F", "", "other"],
    "Blood_Pressure": ["120", "120/80", "", "high", "0", "400"],
    "Cholesterol": ["190", "", "5000", "4,5", "n/a"],
    "Diabetes": ["0", "1", "yes", "No", "", "maybe", " TRUE "],
    "Heart_Disease": ["0", "1", "", "2"],
    "BMI": ["22.5", "", "abc", "9999"],
    "Smoking_Status": ["Never", "Former", "", "1", "Smokes, daily"],
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(*(st.sampled_from(v) for v in CELLS.values())), min_size=0, max_size=12))
def test_any_snapshot_rows_are_each_accepted_or_rejected_with_their_line(rows: list[tuple[str, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, open_store(":memory:") as store:
        lines = [",".join(f'"{c}"' if "," in c else c for c in row) for row in rows]
        path = write(Path(tmp) / "s.csv", ",".join(SNAPSHOT_HEADER) + "\n" + "".join(f"{ln}\n" for ln in lines))
        report = import_paths(store, [path], mapping=ColumnMapping.from_json(json.dumps(MAPPING))).files[0]
        assert report.status == "imported", report.message
        assert report.rows_accepted + report.rows_rejected == len(rows)
        for r in report.rejections:  # each names a real line, once, with a reason true of that row
            line = int(str(r["line"]))
            assert 2 <= line <= len(rows) + 1
            row = dict(zip(CELLS, rows[line - 2], strict=True))
            reason = str(r["reason"])
            if row["Patient_ID"].strip() == "":
                assert "patient is empty" in reason
            if row["Diabetes"] == "maybe":
                assert "Diabetes 'maybe' is neither yes" in reason
            if row["Age"] in ("abc", "-3", "131"):
                assert f"Age '{row['Age']}' is not an age in years" in reason
        assert len({r["line"] for r in report.rejections}) == report.rows_rejected
        rejected = {int(str(r["line"])) - 2 for r in report.rejections}
        for i, row in enumerate(rows):  # an accepted row had nothing wrong that the checks know of
            if i not in rejected:
                assert row[0].strip() and row[5] != "maybe" and row[1] not in ("abc", "-3", "131")
