"""Synthea medications, allergies, procedures and immunizations: both layouts, bad rows with their lines,
re-import, the schema-4 gap in older workspaces, and the queries the patient view and the assistant read."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from desktop.core.importers import detect_format, import_paths
from desktop.core.queries.medications import has_history_tables, patient_history, workspace_as_of
from desktop.core.workspace.store import Store, open_store

from .conftest import snapshot, write

P1 = "8a60afd2-aa03-d75c-c7f4-e01c3297825d"
P2 = "ac71ad72-4172-803c-4e82-448f043d8db3"
ENC = "c65f6a85-edb8-5423-6166-856ccb67c837"

MEDICATIONS = f"""START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION
2015-03-01T09:00:00Z,,{P1},py1,{ENC},314076,lisinopril 10 MG Oral Tablet,1.0,0.0,12,12.0,59621000,Essential hypertension (disorder)
2016-03-01T09:00:00Z,2016-03-11T09:00:00Z,{P1},py1,{ENC},308182,Amoxicillin 250 MG Oral Capsule,3.2,0.0,1,3.2,444814009,Viral sinusitis (disorder)
2018-01-01T09:00:00Z,2030-01-01T09:00:00Z,{P1},py1,{ENC},860975,24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet,2.0,0.0,24,48.0,,
2019-05-01T09:00:00Z,2019-04-01T09:00:00Z,{P1},py1,{ENC},198405,Ibuprofen 100 MG Oral Tablet,1.0,0.0,1,1.0,,
yesterday,,{P1},py1,{ENC},198405,Ibuprofen 100 MG Oral Tablet,1.0,0.0,1,1.0,,
2019-05-01T09:00:00Z,,,py1,{ENC},198405,Ibuprofen 100 MG Oral Tablet,1.0,0.0,1,1.0,,
2019-05-01T09:00:00Z,,{P1},py1,{ENC},198405,Ibuprofen 100 MG Oral Tablet,1.0,0.0,many,1.0,,
2019-05-01T09:00:00Z,,{P1},py1,{ENC},198405,,1.0,0.0,1,1.0,,
"""
ALLERGIES = f"""START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2
2010-02-03,,{P1},{ENC},419199007,SNOMED-CT,Allergy to substance (finding),allergy,environment,,,,,,
2011-02-03,,{P1},{ENC},762952008,SNOMED-CT,Peanut (substance),allergy,food,39579001,Anaphylaxis (disorder),SEVERE,247472004,Wheal (finding),MILD
2012-02-03,2014-01-01,{P1},{ENC},7984,RxNorm,Penicillin V,allergy,medication,271807003,Eruption of skin (disorder),MODERATE,,,
2013-02-03,,{P1},{ENC},1191,RxNorm,Aspirin,intolerance,medication,43116000,Eczema (disorder),MILD,,,
"""
PROCEDURES = f"""START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION
2018-05-27T06:21:43Z,2018-05-27T06:36:43Z,{P1},{ENC},SNOMED-CT,430193006,Medication reconciliation (procedure),400.0,,
2019-05-27T06:21:43Z,2019-05-27T06:36:43Z,{P1},{ENC},SNOMED-CT,710824005,Assessment of health and social care needs (procedure),400.0,,
2019-06-27T06:21:43Z,2019-06-27T06:01:43Z,{P1},{ENC},SNOMED-CT,710824005,Assessment of health and social care needs (procedure),400.0,,
"""
IMMUNIZATIONS = f"""DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST
2018-05-27T06:21:43Z,{P1},{ENC},140,Influenza  seasonal  injectable  preservative free,136.00
2019-05-27T06:21:43Z,{P1},{ENC},140,Influenza  seasonal  injectable  preservative free,136.00
2019-13-45T06:21:43Z,{P1},{ENC},140,Influenza  seasonal  injectable  preservative free,136.00
"""
OBSERVATIONS = f"""DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE
2020-06-01T08:00:00Z,{P1},{ENC},vital-signs,8867-4,Heart rate,71.0,/min,numeric
"""
# Synthea 1.x/2.x: COST instead of BASE_COST and no PAYER; procedures with one DATE; allergies with exactly the
# conditions header (only the file name tells them apart).
MEDICATIONS_OLD = f"""START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,COST,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION
2020-01-01,,{P2},e1,314076,lisinopril 10 MG Oral Tablet,1.0,12,12.0,59621000,Hypertension
2012-01-01,2012-02-01,{P2},e1,308182,Amoxicillin 250 MG Oral Capsule,3.2,1,3.2,,
"""
ALLERGIES_OLD = f"""START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION
2001-04-01,,{P2},e1,300916003,Latex allergy
2002-04-01,,{P2},e1,,
"""
PROCEDURES_OLD = f"""DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,COST,REASONCODE,REASONDESCRIPTION
2019-02-01T10:00:00Z,{P2},e1,73761001,Colonoscopy,500.0,,
"""
IMMUNIZATIONS_OLD = f"""DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,COST
2019-02-01T10:00:00Z,{P2},e1,113,Td (adult) preservative free,140.52
"""
CONDITIONS_OLD = f"""START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION
2010-01-01,,{P2},e1,431855005,Chronic kidney disease stage 1 (disorder)
"""


def _current(root: Path) -> Path:
    folder = root / "current"
    for name, text in (("medications", MEDICATIONS), ("allergies", ALLERGIES), ("procedures", PROCEDURES),
                       ("immunizations", IMMUNIZATIONS), ("observations", OBSERVATIONS)):
        write(folder / f"{name}.csv", text)
    return folder


def _old(root: Path) -> Path:
    folder = root / "old"
    for name, text in (("medications", MEDICATIONS_OLD), ("allergies", ALLERGIES_OLD),
                       ("procedures", PROCEDURES_OLD), ("immunizations", IMMUNIZATIONS_OLD),
                       ("conditions", CONDITIONS_OLD)):
        write(folder / f"{name}.csv", text)
    return folder


def _rows(text: str) -> int:
    return len(text.strip().splitlines()) - 1


def test_current_layout_every_row_accounted_for(store: Store, tmp_path: Path) -> None:
    report = import_paths(store, [_current(tmp_path)])
    by_name = {Path(f.file).stem: f for f in report.files}
    for name, text in (("medications", MEDICATIONS), ("allergies", ALLERGIES), ("procedures", PROCEDURES),
                       ("immunizations", IMMUNIZATIONS)):
        f = by_name[name]
        assert f.format == f"synthea-{name}" and f.status == "imported", f
        assert f.rows_accepted + f.rows_rejected == _rows(text), name
    meds = {r["line"]: r["reason"] for r in by_name["medications"].rejections}
    assert meds == {
        5: "STOP 2019-04-01T09:00:00Z is before START 2019-05-01T09:00:00Z",
        6: "START 'yesterday' is not a date",
        7: "PATIENT is empty",
        8: "DISPENSES 'many' is not a whole number",
        9: "DESCRIPTION is empty",
    }
    assert by_name["procedures"].rejections == [
        {"line": 4, "reason": "STOP 2019-06-27T06:01:43Z is before START 2019-06-27T06:21:43Z"}]
    assert by_name["immunizations"].rejections == [
        {"line": 4, "reason": "DATE '2019-13-45T06:21:43Z' is not a date"}]
    assert store.con.execute("SELECT count(*) FROM medications").fetchone()[0] == 3
    peanut = store.con.execute(
        "SELECT allergy_type, category, reaction1, severity1, reaction2, severity2 FROM allergies "
        "WHERE code = '762952008'").fetchone()
    assert peanut == ("allergy", "food", "Anaphylaxis (disorder)", "SEVERE", "Wheal (finding)", "MILD")
    # A person met only in these files is still findable.
    assert store.con.execute("SELECT count(*) FROM patients WHERE patient_id = ?", [P1]).fetchone()[0] == 1


def test_older_layouts(store: Store, tmp_path: Path) -> None:
    report = import_paths(store, [_old(tmp_path)])
    by_name = {Path(f.file).stem: f for f in report.files}
    assert by_name["medications"].format == "synthea-medications" and by_name["medications"].rows_accepted == 2
    assert by_name["procedures"].format == "synthea-procedures" and by_name["procedures"].rows_accepted == 1
    assert by_name["immunizations"].format == "synthea-immunizations"
    assert by_name["immunizations"].rows_accepted == 1
    # The conditions header: the real conditions file stays conditions, allergies.csv goes to allergies.
    assert by_name["conditions"].rows_accepted == 1
    allergies = by_name["allergies"]
    assert allergies.rows_accepted == 1 and allergies.rejections == [{"line": 3, "reason": "DESCRIPTION is empty"}]
    assert any("older Synthea allergies" in n for n in allergies.notes)
    assert store.con.execute("SELECT description, reaction1 FROM allergies").fetchall() == [("Latex allergy", None)]
    assert store.con.execute("SELECT count(*) FROM conditions").fetchone()[0] == 1
    started = store.con.execute("SELECT started_at FROM procedures").fetchone()[0]
    assert started == datetime(2019, 2, 1, 10, 0)


def test_reimport_adds_nothing(store: Store, tmp_path: Path) -> None:
    folder = _current(tmp_path)
    import_paths(store, [folder])
    before = snapshot(store)
    again = import_paths(store, [folder])
    assert {f.status for f in again.files} == {"already imported"}
    assert snapshot(store) == before


def test_a_failed_import_leaves_no_history_rows(store: Store, tmp_path: Path) -> None:
    folder = _current(tmp_path)
    write(folder / "patients.csv", "Id,BIRTHDATE,FIRST,LAST\np1,2000-01-01,A,B\n")  # lacks GENDER: fails
    before = snapshot(store)
    report = import_paths(store, [folder])
    assert any(f.status == "failed" for f in report.files)
    assert snapshot(store) == before


@pytest.mark.parametrize(("header", "expected"), [
    ("Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION", "synthea-other"),  # careplans
    ("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,QUANTITY", "unknown"),  # supplies
    ("START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UDI", "unknown"),  # devices
    ("START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION",
     "synthea-procedures"),
    ("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION", "synthea-procedures"),
    ("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST", "synthea-immunizations"),
    ("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UNITS,TYPE", "unknown"),  # observations without VALUE
    ("START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,COST,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION",
     "synthea-medications"),
])
def test_detected_by_header(header: str, expected: str) -> None:
    assert detect_format(header.split(","))[0] == expected


def test_active_and_past_at_the_workspace_latest_date(store: Store, tmp_path: Path) -> None:
    import_paths(store, [_current(tmp_path)])
    assert workspace_as_of(store) == datetime(2020, 6, 1, 8, 0)  # the heart rate, not today
    history = patient_history(store, patient_id=P1)
    active = [m.description for m in history.active_medications]
    # No STOP, or a STOP after the workspace's latest date: both taken then.
    assert active == ["24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
                      "lisinopril 10 MG Oral Tablet"]
    assert [m.description for m in history.past_medications] == ["Amoxicillin 250 MG Oral Capsule"]
    assert history.active_medications[1].reason == "Essential hypertension (disorder)"
    # Penicillin resolved in 2014 is not current; the severe one comes first; a blank reaction reads as none.
    allergies = history.allergies
    assert [a.substance for a in allergies] == ["Peanut (substance)", "Allergy to substance (finding)", "Aspirin"]
    assert allergies[0].severe and allergies[0].reaction_text() == "Anaphylaxis (disorder), severe; Wheal (finding), mild"
    assert allergies[1].reactions == () and allergies[1].reaction_text() == ""
    assert history.procedures_total == 2 and history.recent_procedures[0].at == datetime(2019, 5, 27, 6, 21, 43)
    assert history.immunizations_total == 2


def test_as_of_an_earlier_date(store: Store, tmp_path: Path) -> None:
    import_paths(store, [_current(tmp_path)])
    history = patient_history(store, patient_id=P1, as_of=datetime(2016, 3, 5))
    assert [m.description for m in history.active_medications] == ["Amoxicillin 250 MG Oral Capsule",
                                                                    "lisinopril 10 MG Oral Tablet"]
    assert "Penicillin V" not in {a.substance for a in history.allergies}  # resolved in 2014
    earlier = patient_history(store, patient_id=P1, as_of=datetime(2012, 6, 1)).allergies
    assert {a.substance for a in earlier} == {"Allergy to substance (finding)", "Peanut (substance)", "Penicillin V"}


def test_judged_at_death(store: Store, tmp_path: Path) -> None:
    import_paths(store, [_current(tmp_path)])
    store.con.execute("UPDATE patients SET death_date = DATE '2017-01-01' WHERE patient_id = ?", [P1])
    history = patient_history(store, patient_id=P1)
    assert history.as_of is not None and history.as_of.date() == datetime(2017, 1, 1).date()
    assert [m.description for m in history.active_medications] == ["lisinopril 10 MG Oral Tablet"]


def test_a_workspace_from_before_schema_4_gets_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with open_store(path) as store:
        store.con.execute("DROP TABLE medications; DROP TABLE allergies; DROP TABLE procedures; "
                          "DROP TABLE immunizations; DELETE FROM schema_version WHERE version = 4")
        assert not has_history_tables(store)
        assert patient_history(store, patient_id="nobody").active_medications == []
    with open_store(path) as store:
        assert has_history_tables(store)
        assert store.con.execute("SELECT count(*) FROM schema_version WHERE version = 4").fetchone()[0] == 1


def test_a_corrected_export_is_counted_not_doubled(store: Store, tmp_path: Path) -> None:
    import_paths(store, [_current(tmp_path)])
    before = snapshot(store)
    corrected = tmp_path / "corrected"
    # The same medications with one STOP added, plus one new row; the file is new (other bytes).
    text = MEDICATIONS.replace(f"2015-03-01T09:00:00Z,,{P1}", f"2015-03-01T09:00:00Z,2020-01-01T00:00:00Z,{P1}")
    text += f"2020-02-01T09:00:00Z,,{P1},py1,{ENC},197361,amlodipine 5 MG Oral Tablet,1.0,0.0,1,1.0,,\n"
    write(corrected / "medications.csv", text)
    report = import_paths(store, [corrected / "medications.csv"]).files[0]
    assert report.rows_accepted == 1 and report.rows_rejected == 5
    assert report.rows_already_present == 3 and report.rows_present_different == 1
    assert report.rows_accepted + report.rows_rejected + report.rows_already_present == _rows(text)
    assert snapshot(store)["medications"] == before["medications"] + 1
    stop = store.con.execute("SELECT stopped_at FROM medications WHERE code = '314076'").fetchall()
    assert stop == [(None,)]  # kept as stored unless the user asks to update
    # Asked to update (another copy of the corrected file: same bytes would be "already imported").
    write(corrected / "again.csv", MEDICATIONS.replace(f"2015-03-01T09:00:00Z,,{P1}",
                                                       f"2015-03-01T09:00:00Z,2020-01-01T00:00:00Z,{P1}"))
    updated = import_paths(store, [corrected / "again.csv"], update_existing=True).files[0]
    assert updated.rows_updated == 1 and updated.rows_accepted == 0
    stop = store.con.execute("SELECT stopped_at FROM medications WHERE code = '314076'").fetchall()
    assert stop == [(datetime(2020, 1, 1),)]
