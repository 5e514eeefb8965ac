"""Re-importing rows the workspace already holds (issue 14, item 2): a corrected Synthea export whose
encounter or patient Ids are already stored. Every row is accounted for (accepted, rejected, or already
present: unchanged or with different values); the stored values change only when the user asks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from desktop.core.importers import import_paths, run_import
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store

from .conftest import snapshot, write
from .test_bad_input import assert_every_row_accounted

HEADER = ("Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,BASE_ENCOUNTER_COST,"
          "TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION\n")


def encounters(n: int = 40, *, changed: frozenset[int] = frozenset(), first: int = 0) -> str:
    """``n`` encounters; those in ``changed`` corrected (another class and reason, as a re-export has)."""
    rows = []
    for i in range(first, first + n):
        klass, reason = ("emergency", "Chest pain") if i in changed else ("wellness", "")
        rows.append(f"enc-{i:03d},2020-01-{1 + i % 28:02d}T10:00:00Z,2020-01-{1 + i % 28:02d}T10:30:00Z,"
                    f"pat-{i % 5},o1,p1,py1,{klass},162673000,General examination,129.16,129.16,0.0,,{reason}\n")
    return HEADER + "".join(rows)


def _classes(store: Store) -> dict[str, str]:
    return dict(store.con.execute("SELECT encounter_id, encounter_class FROM encounters").fetchall())


def test_corrected_encounters_are_counted_not_dropped(store: Store, tmp_path: Path) -> None:
    import_paths(store, [write(tmp_path / "a" / "encounters.csv", encounters())])
    before, stored = snapshot(store), _classes(store)
    corrected = encounters(changed=frozenset(range(10)))
    f = import_paths(store, [write(tmp_path / "b" / "encounters.csv", corrected)]).files[0]
    assert (f.status, f.rows_accepted, f.rows_rejected) == ("imported", 0, 0)
    assert (f.rows_already_present, f.rows_present_unchanged, f.rows_present_different, f.rows_updated) == (
        40, 30, 10, 0)
    assert "the file has a header but no data rows" not in f.notes
    assert any("10 with different values, kept as stored" in n for n in f.notes)
    different = [p for p in f.already_present if p["values"] == "different"]
    assert [(p["line"], p["key"], p["updated"]) for p in different] == [
        (i + 2, f"enc-{i:03d}", False) for i in range(10)]
    assert_every_row_accounted(corrected, f)
    assert _classes(store) == stored  # nothing changed without the user's say-so
    assert {k: v for k, v in snapshot(store).items() if k != "imports"} == {
        k: v for k, v in before.items() if k != "imports"}


def test_update_existing_takes_the_files_values_and_counts_them(store: Store, tmp_path: Path) -> None:
    import_paths(store, [write(tmp_path / "a" / "encounters.csv", encounters())])
    mixed = encounters(changed=frozenset({3, 7}))[:-1] + "\n" + encounters(3, first=40).removeprefix(HEADER)
    mixed += ",2020-02-01T10:00:00Z,,pat-1,o1,p1,py1,wellness,1,x,0,0,0,,\n"  # no Id: rejected
    path = write(tmp_path / "b" / "encounters.csv", mixed)
    report = run_import(store, paths=[path], update_existing=True, state=TaskState())
    f = report.files[0]
    assert (f.rows_accepted, f.rows_rejected, f.rows_already_present, f.rows_updated) == (3, 1, 40, 2)
    assert f.rejections == [{"line": 45, "reason": "encounter Id is empty"}]
    assert_every_row_accounted(mixed, f)
    classes = _classes(store)
    assert classes["enc-003"] == classes["enc-007"] == "emergency" and classes["enc-004"] == "wellness"
    assert store.con.execute("SELECT reason FROM encounters WHERE encounter_id = 'enc-007'").fetchone() == (
        "Chest pain",)
    assert len(classes) == 43
    assert any("2 with different values, updated to the file's values" in n for n in f.notes)


def test_update_is_undone_with_the_folder_it_came_in(store: Store, tmp_path: Path) -> None:
    import_paths(store, [write(tmp_path / "a" / "encounters.csv", encounters())])
    stored = _classes(store)
    folder = tmp_path / "export"
    write(folder / "encounters.csv", encounters(changed=frozenset(range(40))))
    # Fails inside the transaction, after the encounters were updated (files go in format order).
    write(folder / "observations.csv", "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UNITS,TYPE\n2020-01-01,p,e,1,x,u,n\n")
    report = run_import(store, paths=[folder], update_existing=True, state=TaskState())
    assert {f.status for f in report.files} == {"failed"}
    by_name = {Path(f.file).name: f.message or "" for f in report.files}
    assert "lacks the required column VALUE" in by_name["observations.csv"]
    assert by_name["encounters.csv"].startswith("encounters.csv was not imported either: observations.csv")
    assert _classes(store) == stored  # the update went back with the failed folder: all or nothing


def test_patients_already_present_and_filled_in_stand_ins(store: Store, tmp_path: Path) -> None:
    # Observations first: pat-9 is known only by Id (a stand-in a patients file fills in).
    write(tmp_path / "o" / "observations.csv",
          "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
          "2020-01-01T10:00:00Z,pat-9,e1,8867-4,Heart rate,70,/min,numeric\n")
    import_paths(store, [tmp_path / "o" / "observations.csv"])
    header = "Id,BIRTHDATE,DEATHDATE,FIRST,LAST,GENDER\n"
    first = header + "pat-1,1950-01-01,,Ann1,Lee2,F\npat-2,1960-01-01,,Bo3,Ray4,M\n"
    import_paths(store, [write(tmp_path / "p1" / "patients.csv", first)])
    again = header + "pat-1,1950-01-01,,Ann1,Lee2,F\npat-2,1960-01-01,2024-05-01,Bo3,Ray4,M\npat-9,1970-01-01,,Cy,Oh,F\n"
    f = import_paths(store, [write(tmp_path / "p2" / "patients.csv", again)]).files[0]
    assert (f.rows_accepted, f.rows_present_unchanged, f.rows_present_different, f.rows_updated) == (1, 1, 1, 0)
    assert store.con.execute("SELECT name FROM patients WHERE patient_id = 'pat-9'").fetchone() == ("Cy Oh",)
    assert store.con.execute("SELECT death_date FROM patients WHERE patient_id = 'pat-2'").fetchone() == (None,)
    assert_every_row_accounted(again, f)
    f = run_import(store, paths=[write(tmp_path / "p3" / "patients.csv", again + "\n")], update_existing=True,
                   state=TaskState()).files[0]
    assert (f.rows_present_unchanged, f.rows_present_different, f.rows_updated) == (2, 1, 1)
    assert str(store.con.execute("SELECT death_date FROM patients WHERE patient_id = 'pat-2'").fetchone()[0]) == (
        "2024-05-01")


def test_cli_reports_every_row_and_updates_on_request(tmp_path: Path) -> None:
    workspace = str(tmp_path / "w.duckdb")
    base = [sys.executable, "-m", "desktop", "import", "--workspace", workspace]
    first = subprocess.run([*base, str(write(tmp_path / "a" / "encounters.csv", encounters()))],
                           capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    corrected = str(write(tmp_path / "b" / "encounters.csv", encounters(changed=frozenset({0}))))
    kept = subprocess.run([*base, corrected], capture_output=True, text=True, check=False)
    f = json.loads(kept.stdout)["files"][0]
    assert kept.returncode == 1  # a row's new values were left out: not a clean import
    assert (f["rows_already_present"], f["rows_present_different"], f["rows_updated"]) == (40, 1, 0)
    updated = subprocess.run([*base, "--update-existing", str(write(tmp_path / "c" / "encounters.csv",
                                                                    encounters(changed=frozenset({0})) + "\n"))],
                             capture_output=True, text=True, check=False)
    f = json.loads(updated.stdout)["files"][0]
    assert updated.returncode == 0, updated.stdout
    assert (f["rows_present_different"], f["rows_updated"]) == (1, 1)
    assert f["already_present"][0] == {"line": 2, "key": "enc-000", "values": "different", "updated": True}


OBS_HEADER = "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"


def observations(values: dict[int, int]) -> str:
    """A heart rate per day (the key is patient, time and measurement), with the given values."""
    return OBS_HEADER + "".join(
        f"2020-01-{1 + d % 28:02d}T{10 + d // 28:02d}:00:00Z,pat-1,e{d},8867-4,Heart rate,{v},/min,numeric\n"
        for d, v in sorted(values.items()))


def _rates(store: Store) -> list[float]:
    """Every stored heart rate, day by day (encounter e<day>)."""
    return [r[0] for r in store.con.execute(
        "SELECT value FROM observations ORDER BY CAST(substr(encounter_id, 2) AS INTEGER)").fetchall()]


def test_observations_already_stored_are_not_doubled(store: Store, tmp_path: Path) -> None:
    import_paths(store, [write(tmp_path / "a.csv", observations({d: 70 for d in range(40)}))])
    corrected = {**{d: 70 for d in range(40)}, 3: 95, 4: 96, 40: 71, 41: 72}  # two changed, two new
    text = observations(corrected)
    f = import_paths(store, [write(tmp_path / "b.csv", text)]).files[0]
    assert (f.rows_accepted, f.rows_rejected, f.rows_already_present) == (2, 0, 40)
    assert (f.rows_present_unchanged, f.rows_present_different, f.rows_updated) == (38, 2, 0)
    assert_every_row_accounted(text, f)
    assert len(_rates(store)) == 42 and _rates(store)[3:5] == [70.0, 70.0]
    assert {p["values"] for p in f.already_present} == {"unchanged", "different"}
    assert any("2 with different values, kept as stored" in n for n in f.notes)
    f = run_import(store, paths=[write(tmp_path / "c.csv", text + "\n")], update_existing=True,
                   state=TaskState()).files[0]
    assert (f.rows_accepted, f.rows_already_present, f.rows_updated) == (0, 42, 2)
    assert len(_rates(store)) == 42 and _rates(store)[3:5] == [95.0, 96.0]
    assert store.con.execute("SELECT rows_accepted FROM imports ORDER BY import_id").fetchall() == [
        (40,), (2,), (0,)]
