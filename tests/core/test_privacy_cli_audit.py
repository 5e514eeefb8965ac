"""`python -m desktop audit` prints the log and exits 1 when the chain is broken."""

from __future__ import annotations

from desktop import cli
from desktop.core.workspace import audit
from desktop.core.workspace.store import open_store


def test_audit_command_reports_intact_then_broken(tmp_path, capsys):
    path = tmp_path / "w.duckdb"
    with open_store(path) as store:
        audit.record(store, action="patient_viewed", patient_id="p-7")
        audit.record(store, action="file_imported", detail="obs.csv")
    assert cli.main(["audit", "--workspace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "patient_viewed patient=p-7" in out and "intact: 2 entries" in out

    with open_store(path) as store:
        store.con.execute("DELETE FROM audit_log WHERE sequence = 2")
    assert cli.main(["audit", "--workspace", str(path)]) == 1
    assert "BROKEN" in capsys.readouterr().err


def test_audit_command_missing_workspace(tmp_path, capsys):
    assert cli.main(["audit", "--workspace", str(tmp_path / "none.duckdb")]) == 2
