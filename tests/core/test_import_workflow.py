"""The import workflow written once (run_import/plan_import): the CLI, dialog and benchmark call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from desktop.core.importers import ColumnMapping, MeasurementColumn, plan_import, run_import
from desktop.core.importers.mapping import saved_mapping
from desktop.core.importers.sniff import check_csv
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store

from .conftest import write

CLINIC = "MRN;Visit date;Pulse (bpm)\nA-1;03/02/2024;88\nA-2;04/02/2024;61\n"
MAPPING = ColumnMapping(patient="MRN", time="Visit date", time_format="%d/%m/%Y",
                        measurements=(MeasurementColumn("Pulse (bpm)", "Heart rate", "/min"),))


def test_run_import_imports_saves_mapping_and_reports_progress(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "clinic.csv", CLINIC)
    seen: list[tuple[float, str]] = []
    report = run_import(store, paths=[path], mapping=MAPPING, save_mapping_as="clinic",
                        state=TaskState(on_progress=lambda f, m: seen.append((f, m))))
    f = report.files[0]
    assert (f.status, f.format, f.rows_accepted, f.rows_rejected) == ("imported", "mapped", 2, 0)
    assert saved_mapping(store.con, check_csv(path).header) == MAPPING
    assert seen and seen[-1][0] == 1.0
    # The remembered mapping makes the plan recognise a second file with that header.
    second = write(tmp_path / "clinic2.csv", CLINIC.replace("A-1", "A-3"))
    planned = plan_import(store, paths=[second, path])
    assert [p.format for p in planned.files[second]] == ["mapped"]  # type: ignore[union-attr]
    assert planned.already_imported == {check_csv(path).sha256}


def test_mapping_given_with_a_folder_is_a_reported_failure_not_a_crash(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder / "clinic.csv", CLINIC)
    report = run_import(store, paths=[folder], mapping=MAPPING, save_mapping_as="clinic", state=TaskState())
    assert [f.status for f in report.files] == ["failed"]
    assert "not a folder" in (report.files[0].message or "")
    assert store.con.execute("SELECT count(*) FROM observations").fetchone() == (0,)


def test_cancelled_before_start_stores_nothing(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "clinic.csv", CLINIC)
    state = TaskState()
    state.cancel()
    report = run_import(store, paths=[path], mapping=MAPPING, save_mapping_as="clinic", state=state)
    assert [f.status for f in report.files] == ["cancelled"]
    assert saved_mapping(store.con, check_csv(path).header) is None
    assert store.con.execute("SELECT count(*) FROM observations").fetchone() == (0,)


def test_cli_save_mapping_with_a_folder_prints_the_report_and_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder / "clinic.csv", CLINIC)
    mapping_file = write(tmp_path / "m.json", MAPPING.to_json())
    run = subprocess.run(
        [sys.executable, "-m", "desktop", "import", "--workspace", str(tmp_path / "w.duckdb"),
         "--mapping", str(mapping_file), "--save-mapping", "clinic", str(folder)],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    assert report["files"][0]["status"] == "failed" and "not a folder" in report["files"][0]["message"]


def test_cli_save_mapping_with_a_missing_second_file_commits_nothing(tmp_path: Path) -> None:
    first = write(tmp_path / "clinic.csv", CLINIC)
    missing = tmp_path / "clinic-march.csv"
    mapping_file = write(tmp_path / "m.json", MAPPING.to_json())
    workspace = tmp_path / "w.duckdb"
    run = subprocess.run(
        [sys.executable, "-m", "desktop", "import", "--workspace", str(workspace),
         "--mapping", str(mapping_file), "--save-mapping", "clinic", str(first), str(missing)],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip() == f"{missing}: no such file"  # one clear line
    files = {f["file"]: f for f in json.loads(run.stdout)["files"]}
    assert files[str(missing)]["message"] == f"{missing}: no such file"
    assert files[str(first)]["status"] == "failed"
    assert "clinic-march.csv cannot be imported" in files[str(first)]["message"]
    from desktop.core.workspace.store import open_store

    with open_store(workspace) as store:
        assert store.con.execute("SELECT count(*) FROM observations").fetchone() == (0,)
        assert saved_mapping(store.con, check_csv(first).header) is None
