"""Wide admission files, long files and user-mapped layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.importers import ColumnMapping, MeasurementColumn, import_paths, save_mapping
from desktop.core.importers.sniff import check_csv
from desktop.core.queries.patients import list_patients
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store

from .conftest import write

WIDE_HEADER = (
    "Name,Age,Gender,Blood Type,Medical Condition,Date of Admission,Doctor,Hospital,Insurance Provider,"
    "Billing Amount,Room Number,Admission Type,Discharge Date,Medication,Test Results,Systolic BP,Diastolic BP,"
    "Heart Rate,BMI,SpO2,Creatinine,CRP,WBC Count,Hemoglobin\n"
)
WIDE_ROWS = (
    "Bobby JacksOn,30,Male,B-,Cancer,2024-01-31,Matthew Smith,Sons and Miller,Blue Cross,18856.281305978155,328,"
    "Urgent,2024-02-02,Paracetamol,Normal,150,95,110,22.5,93,1.1,35.5,14000,12.1\n"
    "andrEw waTtS,28,Female,O+,Diabetes,2020-11-18,Kevin Wells,\"Hernandez Rogers and Vang,\",Medicare,"
    "37909.78241,450,Elective,2020-12-18,Ibuprofen,Abnormal,118,76,72,31.0,98,0.9,3.0,7000,13.0\n"
    "ANDREW WATTS,29,Female,O+,Obesity,2021-11-20,Kevin Wells,\"Hernandez Rogers and Vang,\",Medicare,"
    "100.0,450,Elective,2021-12-18,Ibuprofen,Normal,121,78,74,32.0,97,0.8,2.0,6500,12.9\n"
    "Carl Zed,50,Male,A+,Hypertension,2023-05-05,Dr X,General,Aetna,10.0,101,Emergency,2023-05-06,Aspirin,"
    "Normal,150,95,999,27.0,,1.0,4.0,8000,14.5\n"
)


def test_wide_file_names_units_conditions(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "healthcare_dataset.csv", WIDE_HEADER + WIDE_ROWS)
    report = import_paths(store, [path]).files[0]
    assert report.format == "wide-admissions"
    # Counted in rows: 4 rows, line 5's heart rate of 999 is rejected (its other values are kept).
    assert (report.rows_accepted, report.rows_rejected) == (3, 1)
    assert [(r["line"], r["reason"][:24]) for r in report.rejections] == [(5, "implausible Heart rate 9")]
    # 4 rows x 9 measurements, less one empty SpO2 cell and the rejected heart rate.
    assert store.con.execute("SELECT count(*) FROM observations").fetchone() == (34,)
    assert ("34 observations and 4 conditions stored from 4 rows; the values of a rejected row that passed their "
            "checks were stored") in report.notes
    patients = {p["name"]: p for p in list_patients(store)}
    assert set(patients) == {"Bobby Jackson", "Andrew Watts", "Carl Zed"}  # case-blind: one Andrew Watts
    andrew = patients["Andrew Watts"]
    assert andrew["sex"] == "F" and andrew["age_estimated"] is True
    assert andrew["conditions"] == ["Diabetes", "Obesity"]
    wbc = store.con.execute(
        "SELECT value, unit, value_raw FROM observations o JOIN patients p USING (patient_id) "
        "WHERE p.name = 'Bobby Jackson' AND code = '6690-2'").fetchone()
    assert wbc == (14.0, "10*3/uL", "14000")  # cells/uL in the file, 10^9/L stored


def test_wide_file_flags_by_sex(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "admissions.csv", WIDE_HEADER + WIDE_ROWS)
    import_paths(store, [path])
    pid = next(p["id"] for p in list_patients(store) if p["name"] == "Bobby Jackson")
    latest = {r["code"]: r for r in patient_summary(store, str(pid))["latest"]}  # type: ignore[union-attr]
    assert latest["718-7"]["flag"] == "L"  # 12.1 g/dL is low for a man (13.2-16.6)
    assert latest["6690-2"]["flag"] == "H"
    assert patient_summary(store, str(pid))["bp_category"] == "Hypertension stage 2"


LONG = """patient,time,measurement,value,unit
p1,2024-01-01T08:00:00,Heart rate,72,/min
p1,2024-01-01T08:00:00,Glucose,7.0,mmol/L
p1,2024-01-01T08:00:00,Temperature,37.2,°C
p1,2024-01-01T08:00:00,8480-6,128,mmHg
p1,2024-01-01T08:00:00,Peak flow,410,L/min
p1,2024-01-02,Weight,154,lb
p2,2024-01-02T10:00:00+02:00,Heart rate,80,bpm
p1,not a date,Heart rate,70,/min
p1,2024-01-03,Glucose,,mg/dL
p1,2024-01-03,Creatinine,1.0,
,2024-01-03,Heart rate,60,/min
"""


def test_long_file(store: Store, tmp_path: Path) -> None:
    report = import_paths(store, [write(tmp_path / "long.csv", LONG)]).files[0]
    assert report.format == "long"
    assert report.rows_accepted == 7
    reasons = {r["line"]: r["reason"] for r in report.rejections}
    assert reasons == {
        9: "time 'not a date' is not a date",
        10: "value is empty",
        11: "no unit given for Creatinine (expected mg/dl, umol/l)",
        12: "patient is empty",
    }
    offset_time = store.con.execute("SELECT observed_at::VARCHAR FROM observations WHERE patient_id = 'p2'").fetchone()
    assert offset_time == ("2024-01-02 08:00:00",)  # +02:00 stored as UTC
    assert sorted(p["id"] for p in list_patients(store)) == ["p1", "p2"]
    values = dict(store.con.execute("SELECT code, round(value, 2) FROM observations").fetchall())
    assert values["2339-0"] == pytest.approx(126.11)
    assert values["29463-7"] == pytest.approx(69.85)
    assert values["8480-6"] == 128
    assert values["Peak flow"] == 410  # unknown measurement: kept as given, reported in notes
    assert any("Peak flow" in n for n in report.notes)


def test_unrecognised_layout_through_a_saved_mapping(store: Store, tmp_path: Path) -> None:
    text = "MRN;Visit date;Pulse (bpm);Temp F\nA-1;03/02/2024;88;101,3\nA-2;04/02/2024;61;98,2\n"
    path = write(tmp_path / "clinic_export.csv", text)
    first = import_paths(store, [path]).files[0]
    assert first.status == "failed" and "match no format" in (first.message or "")
    mapping = ColumnMapping(
        patient="MRN", time="Visit date", time_format="%d/%m/%Y",
        measurements=(MeasurementColumn("Pulse (bpm)", "Heart rate", "/min"),
                      MeasurementColumn("Temp F", "8310-5", "[degF]")),
    )
    save_mapping(store.con, check_csv(path).header, "clinic export", mapping)
    again = import_paths(store, [path]).files[0]
    assert (again.format, again.rows_accepted, again.rows_rejected) == ("mapped", 2, 0)  # rows, not values
    assert store.con.execute("SELECT count(*) FROM observations").fetchone() == (4,)
    temp = store.con.execute(
        "SELECT round(value, 1), observed_at::DATE::VARCHAR FROM observations WHERE patient_id = 'A-1' AND code = '8310-5'"
    ).fetchone()
    assert temp == (38.5, "2024-02-03")  # decimal comma, °F to °C, day-first date


def test_mapping_that_does_not_fit_is_refused_whole(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "id,when,hr\n1,2024-01-01,70\n")
    mapping = ColumnMapping(patient="id", time="date", measurements=(MeasurementColumn("hr", "Heart rate", "kg"),))
    report = import_paths(store, [path], mapping=mapping).files[0]
    assert report.status == "failed"
    assert "column 'date' is not in the file" in (report.message or "")
    assert "'kg' is not a unit of Heart rate" in (report.message or "")


def test_long_file_with_a_yes_no_condition_column_counts_each_row_once(store: Store, tmp_path: Path) -> None:
    text = ("patient,time,measurement,value,unit,Diabetic\np1,2024-01-01,Heart rate,72,/min,yes\n"
            "p1,2024-01-02,Heart rate,900,/min,yes\np2,2024-01-02,Heart rate,70,/min,perhaps\n"
            "p3,2024-01-02,Heart rate,71,/min,no\n")
    path = write(tmp_path / "long.csv", text)
    mapping = ColumnMapping.from_json(
        '{"patient": "patient", "time": "time", "measurement": "measurement", "value": "value", "unit": "unit",'
        ' "conditions": [{"column": "Diabetic", "condition": "Diabetes mellitus"}]}')
    report = import_paths(store, [path], mapping=mapping).files[0]
    assert (report.rows_accepted, report.rows_rejected) == (2, 2)
    assert [r["line"] for r in report.rejections] == [3, 4]
    assert "Diabetic 'perhaps' is neither yes" in str(report.rejections[1]["reason"])
    assert store.con.execute("SELECT patient_id, onset::VARCHAR FROM conditions").fetchall() == [("p1", "2024-01-01")]
