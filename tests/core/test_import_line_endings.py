"""Line endings as real exports have them: a Synthea CSV whose rows were appended with CRLF endings after
LF rows used to make the whole folder fail, with DuckDB's error pinned on the wrong file."""

from __future__ import annotations

from pathlib import Path

from desktop.core.importers import import_paths
from desktop.core.workspace.store import Store

from .conftest import snapshot, write
from .test_bad_input import assert_every_row_accounted
from .test_import_synthea import CONDITIONS_CURRENT, ENCOUNTERS, OBSERVATIONS_CURRENT, PATIENTS_CURRENT

APPENDED = "2021-04-27T04:31:58Z,147204fd-51eb-7e98-56bd-609556919b9d,e9,vital-signs,8867-4,Heart rate,{v},/min,numeric"


def _folder(root: Path, observations: str) -> Path:
    folder = root / "export"
    write(folder / "patients.csv", PATIENTS_CURRENT)
    write(folder / "encounters.csv", ENCOUNTERS)
    write(folder / "conditions.csv", CONDITIONS_CURRENT)
    write(folder / "observations.csv", observations)
    return folder


def test_rows_appended_with_crlf_after_lf_rows(store: Store, tmp_path: Path) -> None:
    # LF rows, then three rows appended by a Windows tool (CRLF), one of them implausible.
    observations = OBSERVATIONS_CURRENT + "".join(APPENDED.format(v=v) + "\r\n" for v in (88, 900, 91))
    report = import_paths(store, [_folder(tmp_path, observations)])
    by_name = {Path(f.file).name: f for f in report.files}
    assert {f.status for f in report.files} == {"imported"}, [f.message for f in report.files]
    obs = by_name["observations.csv"]
    assert obs.rows_accepted == 13
    assert {"line": 15, "reason": "implausible Heart rate 900 /min (plausible 1-300 /min)"} in obs.rejections
    assert any("line endings change at line 14" in n for n in obs.notes)
    assert_every_row_accounted(observations, obs)
    rates = store.con.execute("SELECT value FROM observations WHERE encounter_id = 'e9' ORDER BY value").fetchall()
    assert rates == [(88.0,), (91.0,)]


def test_crlf_header_then_lf_rows(store: Store, tmp_path: Path) -> None:
    lines = OBSERVATIONS_CURRENT.splitlines(keepends=True)
    observations = lines[0].replace("\n", "\r\n") + lines[1].replace("\n", "\r\n") + "".join(lines[2:])
    f = import_paths(store, [write(tmp_path / "observations.csv", observations)]).files[0]
    assert f.status == "imported" and any("line endings change at line 3" in n for n in f.notes)
    assert_every_row_accounted(observations, f)


def test_all_crlf_is_read_by_duckdb_without_a_note(store: Store, tmp_path: Path) -> None:
    observations = OBSERVATIONS_CURRENT.replace("\n", "\r\n")
    f = import_paths(store, [write(tmp_path / "observations.csv", observations)]).files[0]
    assert f.status == "imported" and not any("line endings" in n for n in f.notes)
    assert_every_row_accounted(observations, f)


def test_an_unreadable_file_is_named_with_its_line_and_the_others_say_why(store: Store, tmp_path: Path) -> None:
    lines = OBSERVATIONS_CURRENT.splitlines(keepends=True)
    lines[4] = lines[4].replace("Heart rate", "Heart\rrate")  # a stray CR inside line 5
    before = snapshot(store)
    report = import_paths(store, [_folder(tmp_path, "".join(lines))])
    by_name = {Path(f.file).name: f.message or "" for f in report.files}
    assert {f.status for f in report.files} == {"failed"}
    assert by_name["observations.csv"].startswith(f"{tmp_path / 'export' / 'observations.csv'}: line 5 holds a "
                                                  "carriage return")
    for other in ("patients.csv", "encounters.csv", "conditions.csv"):
        assert by_name[other].startswith(f"{other} was not imported either: observations.csv beside it failed")
    assert snapshot(store) == before
