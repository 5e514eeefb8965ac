"""Synthea exports across versions. The observation rows are real Synthea output (shared clinical
reference, section 3.1): this is the format of an export we did not write."""

from __future__ import annotations

from pathlib import Path

from desktop.core.importers import import_paths
from desktop.core.queries.patients import list_patients
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store

from .conftest import snapshot, write

PATIENTS_CURRENT = (
    "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,"
    "GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE,INCOME\n"
    "8a60afd2-aa03-d75c-c7f4-e01c3297825d,1961-02-11,,999-53-4455,S99929123,X17585209X,Mr.,Lyndon118,Jo42,"
    "Eustolia154,,,M,white,nonhispanic,M,Boston Massachusetts US,558 Grant Gateway,Boston,Massachusetts,"
    "Suffolk County,25025,02108,42.35,-71.06,883249.37,3251.2,61530\n"
    "147204fd-51eb-7e98-56bd-609556919b9d,2016-07-30,,999-32-1234,,,,Tad84,,Kirlin939,,,,white,hispanic,M,"
    "Quincy Massachusetts US,12 Elm St,Quincy,Massachusetts,Norfolk County,25021,02169,42.25,-71.0,1200.5,10.0,48000\n"
)
PATIENTS_OLD = (
    "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,GENDER,"
    "BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE\n"
    "ac71ad72-4172-803c-4e82-448f043d8db3,1950-05-01,2022-02-01,999-1,,,Mrs.,Ana12,Ruiz34,,,M,white,hispanic,F,"
    "Lowell,1 Main,Lowell,Massachusetts,Middlesex County,01850,42.6,-71.3,1.0,2.0\n"
)
OBSERVATIONS_CURRENT = """DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,vital-signs,39156-5,Body Mass Index,30.3,kg/m2,numeric
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,vital-signs,8462-4,Diastolic Blood Pressure,85.0,mm[Hg],numeric
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,vital-signs,8480-6,Systolic Blood Pressure,115.0,mm[Hg],numeric
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,vital-signs,8867-4,Heart rate,71.0,/min,numeric
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,laboratory,2339-0,Glucose,87.2,mg/dL,numeric
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,laboratory,38483-4,Creatinine,1.0,mg/dL,numeric
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,laboratory,6298-4,Potassium,4.9,mmol/L,numeric
2018-05-27T06:21:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,laboratory,4548-4,Hemoglobin A1c/Hemoglobin.total in Blood,6.1,%,numeric
2021-04-27T04:31:58Z,147204fd-51eb-7e98-56bd-609556919b9d,6ad2b252-d4e8-dc22-dbff-84205c49dab1,vital-signs,2708-6,Oxygen saturation in Arterial blood,79.3,%,numeric
2021-04-27T04:31:58Z,147204fd-51eb-7e98-56bd-609556919b9d,6ad2b252-d4e8-dc22-dbff-84205c49dab1,laboratory,1988-5,C reactive protein [Mass/volume] in Serum or Plasma,8.6,mg/L,numeric
2013-11-10T15:01:44Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,34aeefbf-0790-357c-2958-807e646492b7,social-history,72166-2,Tobacco smoking status,Ex-smoker (finding),,text
2019-01-01T00:00:00Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,,,,QALY,,,numeric
"""
OBSERVATIONS_OLD = """DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE
2022-01-20T06:19:41Z,ac71ad72-4172-803c-4e82-448f043d8db3,974fa2f8-5e99-d8ab-09d0-3afcf244cafd,8310-5,Body temperature,38.9,Cel,numeric
2022-01-20T06:19:41Z,ac71ad72-4172-803c-4e82-448f043d8db3,974fa2f8-5e99-d8ab-09d0-3afcf244cafd,2160-0,Creatinine [Mass/volume] in Serum or Plasma,1.3,mg/dL,numeric
"""
CONDITIONS_CURRENT = """START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION
2015-03-01,,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,http://snomed.info/sct,59621000,Essential hypertension (disorder)
2016-03-01,2016-03-20,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,SNOMED-CT,444814009,Viral sinusitis (disorder)
"""
CONDITIONS_OLD = """START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION
2010-01-01,,ac71ad72-4172-803c-4e82-448f043d8db3,974fa2f8-5e99-d8ab-09d0-3afcf244cafd,431855005,Chronic kidney disease stage 1 (disorder)
"""
ENCOUNTERS = """Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION
c65f6a85-edb8-5423-6166-856ccb67c837,2018-05-27T06:21:43Z,2018-05-27T06:36:43Z,8a60afd2-aa03-d75c-c7f4-e01c3297825d,o1,p1,py1,wellness,162673000,General examination of patient (procedure),129.16,129.16,0.0,,
"""
MEDICATIONS = """START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION
2018-05-27T06:21:43Z,,8a60afd2-aa03-d75c-c7f4-e01c3297825d,py1,c65f6a85-edb8-5423-6166-856ccb67c837,314076,lisinopril 10 MG Oral Tablet,1.0,0.0,12,12.0,59621000,Hypertension
"""
CAREPLANS = """Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION
cp1,2018-05-27,,8a60afd2-aa03-d75c-c7f4-e01c3297825d,c65f6a85-edb8-5423-6166-856ccb67c837,443402002,Lifestyle education regarding hypertension (procedure),59621000,Hypertension
"""


def _current_export(root: Path) -> Path:
    folder = root / "synthea-current"
    write(folder / "patients.csv", PATIENTS_CURRENT)
    write(folder / "observations.csv", OBSERVATIONS_CURRENT)
    write(folder / "conditions.csv", CONDITIONS_CURRENT)
    write(folder / "encounters.csv", ENCOUNTERS)
    write(folder / "medications.csv", MEDICATIONS)
    write(folder / "careplans.csv", CAREPLANS)
    return folder


def test_current_export_folder(store: Store, tmp_path: Path) -> None:
    report = import_paths(store, [_current_export(tmp_path)])
    by_format = {f.format: f for f in report.files}
    assert by_format["synthea-patients"].rows_accepted == 2
    assert by_format["synthea-observations"].rows_accepted == 11
    assert by_format["synthea-observations"].rows_rejected == 1  # the QALY row without a code
    assert by_format["synthea-other"].status == "skipped"  # careplans: recognised, not used
    assert by_format["synthea-medications"].rows_accepted == 1  # read since issue 14 item 6
    assert by_format["synthea-conditions"].rows_accepted == 2
    assert by_format["synthea-encounters"].rows_accepted == 1
    patients = {p["id"]: p for p in list_patients(store)}
    adult = patients["8a60afd2-aa03-d75c-c7f4-e01c3297825d"]
    assert adult["name"] == "Mr. Lyndon Jo Eustolia"  # Synthea's digits stripped
    assert adult["conditions"] == ["Essential hypertension (disorder)"]  # the resolved sinusitis is not active


def test_value_cast_only_where_type_is_numeric(store: Store, tmp_path: Path) -> None:
    import_paths(store, [_current_export(tmp_path)])
    value_raw, value = store.con.execute("SELECT value_raw, value FROM observations WHERE code = '72166-2'").fetchone()
    assert value_raw == "Ex-smoker (finding)" and value is None


def test_blood_pressure_rows_make_a_category(store: Store, tmp_path: Path) -> None:
    import_paths(store, [_current_export(tmp_path)])
    summary = patient_summary(store, "8a60afd2-aa03-d75c-c7f4-e01c3297825d")
    assert summary["bp_category"] == "Hypertension stage 1"  # 115/85: the diastolic decides
    latest = {r["code"]: r for r in summary["latest"]}  # type: ignore[union-attr]
    assert latest["8462-4"]["flag"] == "H"
    assert latest["39156-5"]["flag"] == "H"
    assert latest["2339-0"]["flag"] == "N"


def test_child_values_stored_without_flags(store: Store, tmp_path: Path) -> None:
    import_paths(store, [_current_export(tmp_path)])
    summary = patient_summary(store, "147204fd-51eb-7e98-56bd-609556919b9d")
    latest = {r["code"]: r for r in summary["latest"]}  # type: ignore[union-attr]
    assert latest["59408-5"]["value"] == 79.3
    assert latest["59408-5"]["flag"] is None
    assert summary["news2"]["score"] is None  # type: ignore[index]


def test_older_export_without_category_system_middle(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "synthea-old"
    write(folder / "patients.csv", PATIENTS_OLD)
    write(folder / "observations.csv", OBSERVATIONS_OLD)
    write(folder / "conditions.csv", CONDITIONS_OLD)
    report = import_paths(store, [folder])
    assert report.ok, report.to_dict()
    code, value = store.con.execute("SELECT code, value FROM observations WHERE code = '38483-4'").fetchone()
    assert (code, value) == ("38483-4", 1.3)  # 2160-0 stored under the canonical creatinine code
    summary = patient_summary(store, "ac71ad72-4172-803c-4e82-448f043d8db3")
    assert summary["patient"]["deceased"] == "2022-02-01"  # type: ignore[index]
    latest = {r["code"]: r for r in summary["latest"]}  # type: ignore[union-attr]
    assert latest["38483-4"]["flag"] == "H"  # a woman: 1.3 is above 1.1
    assert latest["8310-5"]["flag"] == "H"


def test_observations_alone_create_findable_patients(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "obs.csv", OBSERVATIONS_OLD)
    report = import_paths(store, [path])
    assert report.files[0].rows_accepted == 2
    assert [p["id"] for p in list_patients(store)] == ["ac71ad72-4172-803c-4e82-448f043d8db3"]
    patients = write(tmp_path / "patients.csv", PATIENTS_OLD)
    import_paths(store, [patients])
    assert list_patients(store)[0]["name"] == "Mrs. Ana Ruiz"


def test_importing_the_same_export_twice_adds_nothing(store: Store, tmp_path: Path) -> None:
    folder = _current_export(tmp_path)
    import_paths(store, [folder])
    before = snapshot(store)
    again = import_paths(store, [folder])
    assert {f.status for f in again.files} <= {"already imported", "skipped"}
    assert snapshot(store) == before


def test_fahrenheit_and_implausible_values(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "obs.csv", (
        "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
        "2020-01-01T10:00:00Z,p1,e1,8310-5,Body temperature,100.4,[degF],numeric\n"
        "2020-01-01T10:00:00Z,p1,e1,8867-4,Heart rate,400,/min,numeric\n"
        "2020-01-01T10:00:00Z,p1,e1,8310-5,Body temperature,98.6,Cel,numeric\n"
        "2020-01-01T10:00:00Z,p1,e1,2339-0,Glucose,5.5,furlongs,numeric\n"
    ))
    report = import_paths(store, [path]).files[0]
    assert report.rows_accepted == 1
    assert store.con.execute("SELECT round(value, 1), unit, value_raw, unit_raw FROM observations").fetchone() == (
        38.0, "Cel", "100.4", "[degF]")
    reasons = {r["line"]: r["reason"] for r in report.rejections}
    assert reasons[3].startswith("implausible Heart rate 400")
    assert reasons[4].startswith("implausible Body temperature 98.6 Cel")
    assert "'furlongs' is not a unit of Glucose" in reasons[5]
