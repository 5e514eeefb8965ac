"""Issue 12's end-to-end check: after import, summary and export in an encrypted workspace, no patient name
or value is readable in the workspace file, its WAL, DuckDB's temporary directory or the captured logs.

The same scan finds the names in a plaintext workspace, so it is able to fail.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from desktop import cli, cli_security
from desktop.core.queries.observations_table import ObservationFilter, export_observations_csv
from desktop.core.workspace import audit
from desktop.core.workspace.audit import read_audit
from desktop.core.workspace.crypto import open_encrypted_workspace
from desktop.core.workspace.store import forget_workspace_key, open_store
from devtools.synthetic.generate import generate_cohort

PASSPHRASE = "kettle, moorland, seventeen swans"
SPILL_MARKER = "Zebulon-Spillfile"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> tuple[Path, list[str], list[str]]:
    """The export folder, its patients' ids, and the private strings: names and free-text values."""
    data = tmp_path_factory.mktemp("cohort")
    generate_cohort(data, patients=6, years=2, seed=12, wide_rows=20, extra_files=False)
    with open(data / "synthea" / "patients.csv", encoding="utf-8", newline="") as handle:
        patients = list(csv.DictReader(handle))
    with open(data / "synthea" / "observations.csv", encoding="utf-8", newline="") as handle:
        text_values = {row["VALUE"] for row in csv.DictReader(handle) if row["TYPE"] == "text"}
    with open(data / "admissions_wide.csv", encoding="utf-8", newline="") as handle:
        wide_names = {row["Name"] for row in csv.DictReader(handle)}
    names = {p["FIRST"] for p in patients} | {p["LAST"] for p in patients} | wide_names
    # Short values ("Yes") would match by chance in random bytes; the long ones are what a reader could use.
    private = sorted(names | {v for v in text_values if len(v) >= 12})
    return data, [p["Id"] for p in patients], private


def _leaks(folder: Path, private: list[str]) -> dict[str, list[str]]:
    """Private strings found in any file under ``folder`` (case-insensitively: names are stored tidied)."""
    found: dict[str, list[str]] = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = file.read_bytes().lower()
        hits = [s for s in private if s.lower().encode("utf-8") in content]
        if hits:
            found[file.name] = hits
    return found


def _session(workspace: Path, data: Path, patient: str, export_to: Path, private: list[str]) -> dict[str, object]:
    """Import, summary (CLI), then an export and a spill to DuckDB's temp directory (core); scans the
    workspace folder while the session is still open, when the WAL and the spill files exist."""
    assert cli.main(["import", "--workspace", str(workspace), str(data / "synthea"),
                     str(data / "admissions_wide.csv")]) in (0, 1)
    assert cli.main(["summary", "--workspace", str(workspace), "--patient", patient]) == 0
    forget_workspace_key()
    opener = (lambda: open_encrypted_workspace(workspace, PASSPHRASE)) if workspace.with_suffix(
        ".duckdb.keyslot").exists() else (lambda: open_store(workspace))
    with opener() as store:
        rows = export_observations_csv(store, ObservationFilter(), export_to)
        audit.record(store, action="data_exported", detail=f"{rows} observations to {export_to.name}")
        store.con.execute("SET memory_limit = '60MB'")
        store.con.execute("SET threads = 1")
        store.con.execute(
            f"CREATE TEMP TABLE spilled AS SELECT i, '{SPILL_MARKER}' || i AS n FROM range(3000000) r(i)"
        )
        spill = Path(str(workspace) + ".tmp")
        during = {
            "wal": Path(str(workspace) + ".wal").exists(),
            "spill_files": len(list(spill.glob("*"))) if spill.exists() else 0,
            "leaks": _leaks(workspace.parent, [*private, SPILL_MARKER]),
        }
        during["actions"] = [e.action for e in read_audit(store)]
    during["leaks_after"] = _leaks(workspace.parent, private)
    during["export_rows"] = rows
    return during


def test_encrypted_session_leaves_no_patient_data_readable(cohort, tmp_path, monkeypatch, caplog, capfd):
    data, patient_ids, private = cohort
    folder = tmp_path / "workspace"
    folder.mkdir()
    monkeypatch.chdir(folder)  # anything DuckDB writes relative to the working directory lands here too
    monkeypatch.setenv(cli_security.PASSPHRASE_ENV, PASSPHRASE)
    caplog.set_level(logging.DEBUG)
    forget_workspace_key()
    result = _session(folder / "clinic.duckdb", data, patient_ids[0], tmp_path / "export.csv", private)
    forget_workspace_key()

    assert result["export_rows"] > 0
    # The export itself holds patient data by design; that is what makes it a meaningful control here.
    assert _leaks(tmp_path, private).keys() >= {"export.csv"}
    assert result["wal"], "the session was meant to leave a WAL to check"
    assert result["spill_files"], "the session was meant to spill to DuckDB's temp directory"
    assert result["leaks"] == {}
    assert result["leaks_after"] == {}
    assert {"file_imported", "patient_viewed", "data_exported"} <= set(result["actions"])
    captured = capfd.readouterr()
    logs = (caplog.text + captured.err).lower()
    assert [s for s in private if s.lower() in logs] == []


def test_the_same_scan_finds_names_in_a_plaintext_workspace(cohort, tmp_path, monkeypatch):
    data, patient_ids, private = cohort
    folder = tmp_path / "workspace"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv(cli_security.PASSPHRASE_ENV, raising=False)
    result = _session(folder / "plain.duckdb", data, patient_ids[0], tmp_path / "export.csv", private)
    assert "plain.duckdb" in result["leaks_after"] or "plain.duckdb.wal" in result["leaks"]
