"""A workspace in use elsewhere or damaged: one clear sentence, exit 2, never a traceback.

Issue 14, items 3b and 7 (command line side)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.workspace.store import WorkspaceError, WorkspaceInUse, open_store

from .conftest import write

OBS = ("DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
       "2020-01-01T10:00:00Z,p1,e1,8867-4,Heart rate,70,/min,numeric\n")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "desktop", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_workspace_in_use_names_the_other_process_and_still_prints_the_report(tmp_path: Path) -> None:
    workspace = tmp_path / "w.duckdb"
    csv = write(tmp_path / "obs.csv", OBS)
    with open_store(workspace):  # this test process holds the lock, as a running window or import would
        run = cli("import", "--workspace", str(workspace), str(csv))
        patients = cli("patients", "--workspace", str(workspace))
    assert run.returncode == 2 and patients.returncode == 2
    for result in (run, patients):
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert "in use by another process" in lines[0] and "PID" in lines[0]
    report = json.loads(run.stdout)
    assert report["ok"] is False and report["files"][0]["file"] == str(csv)
    assert report["files"][0]["status"] == "failed"


def test_in_use_is_its_own_error_kind(tmp_path: Path) -> None:
    workspace = tmp_path / "w.duckdb"
    with open_store(workspace):
        code = (f"from desktop.core.workspace.store import open_store, WorkspaceInUse\n"
                f"try:\n    open_store({str(workspace)!r})\n"
                "except WorkspaceInUse as e:\n    print('in use', e)\n")
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.stdout.startswith("in use"), run.stderr
    assert issubclass(WorkspaceInUse, WorkspaceError)


def _junk(path: Path) -> None:
    path.write_bytes(b"x" * 5000)


def _sqlite(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE patients (id TEXT)")
    con.commit()
    con.close()


def _truncated(path: Path) -> None:
    with open_store(path) as store:
        store.con.execute("INSERT INTO patients (patient_id) SELECT 'p' || i FROM range(20000) t(i)")
    data = path.read_bytes()
    path.write_bytes(data[:65536])  # past the headers, short of the blocks they point at


def _no_patients_table(path: Path) -> None:
    with open_store(path) as store:
        store.con.execute("DROP TABLE patients CASCADE")


@pytest.mark.parametrize("damage", [_junk, _sqlite, _truncated, _no_patients_table])
@pytest.mark.parametrize("command", ["patients", "summary", "import"])
def test_damaged_workspace_is_one_sentence_and_exit_2(tmp_path: Path, damage, command: str) -> None:
    workspace = tmp_path / "w.duckdb"
    try:
        damage(workspace)
    except Exception as exc:  # noqa: BLE001 - some damage cannot even be made on this DuckDB; say so
        pytest.fail(f"could not build the damaged file: {exc}")
    extra = {"patients": [], "summary": ["--patient", "p1"], "import": [str(write(tmp_path / "o.csv", OBS))]}
    run = cli(command, "--workspace", str(workspace), *extra[command])
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(workspace) in lines[0]
    assert "INSTALL" not in lines[0]
    if command == "import":
        assert json.loads(run.stdout)["ok"] is False


# Issue 22: a file that is not a Vitalsight workspace is never written ----------------------------------------


def _foreign_duckdb(path: Path) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE people (id INTEGER, last VARCHAR)")
    con.execute("INSERT INTO people VALUES (1, 'Okafor')")
    con.close()
    return path


def _bytes(path: Path) -> dict[str, bytes]:
    """The file and anything DuckDB might leave beside it."""
    return {p.name: p.read_bytes() for p in sorted(path.parent.glob(path.name + "*"))}


@pytest.mark.parametrize("command", [
    ["summary", "--patient", "1"], ["patients"], ["import", "OBS"], ["audit"],
])
def test_another_programs_duckdb_file_is_refused_and_left_byte_identical(tmp_path: Path, command: list[str]) -> None:
    foreign = _foreign_duckdb(tmp_path / "their.duckdb")
    before = _bytes(foreign)
    args = [str(write(tmp_path / "obs.csv", OBS)) if a == "OBS" else a for a in command]
    run = cli(args[0], "--workspace", str(foreign), *args[1:])
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "is not a Vitalsight workspace" in run.stderr and "nothing was changed" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert _bytes(foreign) == before
    if command[0] == "import":
        report = json.loads(run.stdout)
        assert report["files"][0]["status"] == "failed" and report["committed"] == []


def test_open_store_refuses_without_writing(tmp_path: Path) -> None:
    foreign = _foreign_duckdb(tmp_path / "their.duckdb")
    before = _bytes(foreign)
    for read_only in (False, True):
        with pytest.raises(WorkspaceError, match="not a Vitalsight workspace"):
            open_store(foreign, read_only=read_only)
    assert _bytes(foreign) == before


def test_an_empty_schema_version_is_named_plainly(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM schema_version")
    con.close()
    before = _bytes(path)
    with pytest.raises(WorkspaceError, match="its schema version is empty") as caught:
        open_store(path)
    assert "already exists" not in str(caught.value)
    assert _bytes(path) == before


def test_only_a_path_that_does_not_exist_is_created(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no such workspace"):
        open_store(tmp_path / "missing.duckdb", create=False)
    assert not (tmp_path / "missing.duckdb").exists()
    empty = tmp_path / "empty.duckdb"
    empty.write_bytes(b"")
    with pytest.raises(WorkspaceError, match="the file is empty"):
        open_store(empty)
    assert empty.read_bytes() == b""
    open_store(tmp_path / "new.duckdb").close()  # File > New, import to a new path
    open_store(tmp_path / "new.duckdb", create=False).close()


def test_an_import_with_a_wrong_passphrase_still_prints_its_report(tmp_path: Path) -> None:
    import os

    workspace, csv = tmp_path / "w.duckdb", write(tmp_path / "obs.csv", OBS)
    env = {**os.environ, "VITALSIGHT_PASSPHRASE": "the right passphrase, long enough"}
    first = subprocess.run([sys.executable, "-m", "desktop", "import", "--workspace", str(workspace), str(csv)],
                           capture_output=True, text=True, check=False, env=env)
    assert first.returncode == 0, first.stderr
    before = _bytes(workspace)
    env["VITALSIGHT_PASSPHRASE"] = "a wrong passphrase, also long"
    run = subprocess.run([sys.executable, "-m", "desktop", "import", "--workspace", str(workspace), str(csv)],
                         capture_output=True, text=True, check=False, env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] is False and report["files"][0]["file"] == str(csv)
    assert "passphrase" in report["files"][0]["message"] and "not correct" in report["files"][0]["message"]
    assert _bytes(workspace) == before
