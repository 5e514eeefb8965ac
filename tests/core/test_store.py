from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.workspace.migrations import MIGRATIONS, SCHEMA_VERSION
from desktop.core.workspace.store import (
    STORAGE_VERSION,
    Store,
    WorkspaceError,
    migrate,
    new_connection,
    open_store,
)


def test_new_workspace_is_at_current_schema(tmp_path: Path) -> None:
    with open_store(tmp_path / "w.duckdb") as store:
        assert store.schema_version() == SCHEMA_VERSION
        tables = {r[0] for r in store.con.execute("SHOW TABLES").fetchall()}
    assert {"patients", "observations", "conditions", "encounters", "imports"} <= tables


def _storage_version(store) -> str:  # type: ignore[no-untyped-def]
    row = store.con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'ws'").fetchone()
    return str(row[0])


def test_a_new_workspace_is_written_in_the_current_storage_format_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    # DuckDB's default for a new file is v1.0.0, whose text compression writes an import about half as fast.
    with open_store(tmp_path / "new.duckdb") as store:
        assert _storage_version(store).startswith(STORAGE_VERSION)
    old = tmp_path / "old.duckdb"  # written as the app wrote workspaces before, in DuckDB's default format
    con = new_connection(encrypted=False)
    con.execute(f"ATTACH '{old}' AS ws")
    con.execute("USE ws")
    migrate(Store(con, str(old)))
    con.execute("INSERT INTO patients (patient_id) VALUES ('p1')")
    con.close()
    with open_store(old) as store:  # read and written in the format it has
        assert _storage_version(store).startswith("v1.0.0")
        store.con.execute("INSERT INTO patients (patient_id) VALUES ('p2')")
        assert store.con.execute("SELECT count(*) FROM patients").fetchone()[0] == 2


def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with open_store(path) as store:
        store.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p1', 'Annabelle Quixote-Vandersloot')")
    with open_store(path) as store:
        assert store.con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
        assert store.con.execute("SELECT name FROM patients").fetchone()[0] == "Annabelle Quixote-Vandersloot"


def test_workspace_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with open_store(path) as store:
        store.con.execute("INSERT INTO schema_version VALUES (?, 'future', now()::TIMESTAMP)", [SCHEMA_VERSION + 1])
    with pytest.raises(WorkspaceError, match="newer|knows up to"):
        open_store(path)


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with open_store(tmp_path / "w.duckdb") as store:
        with pytest.raises(RuntimeError), store.transaction() as con:
            con.execute("INSERT INTO patients (patient_id) VALUES ('p1')")
            raise RuntimeError("boom")
        assert store.con.execute("SELECT count(*) FROM patients").fetchone()[0] == 0


def test_encrypted_workspace_needs_its_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.duckdb"
    with open_store(path, encryption_key="correct horse") as store:
        store.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p1', 'Annabelle Quixote-Vandersloot')")
    assert b"Quixote-Vandersloot" not in path.read_bytes()
    with pytest.raises(WorkspaceError):
        open_store(path)
    with open_store(path, encryption_key="correct horse") as store:
        assert store.con.execute("SELECT name FROM patients").fetchone()[0] == "Annabelle Quixote-Vandersloot"


def test_unreadable_workspace_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "not-a-db.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(WorkspaceError, match="Cannot open workspace"):
        open_store(path)


def _old_format_workspace(path: Path) -> None:
    """A workspace as an earlier Vitalsight wrote it: DuckDB's default v1.0.0 format, with rows."""
    con = new_connection(encrypted=False)
    con.execute(f"ATTACH '{path}' AS ws")
    con.execute("USE ws")
    migrate(Store(con, str(path)))
    con.execute("INSERT INTO patients (patient_id, name) VALUES ('p1', 'Ana'), ('p2', 'Ben')")
    con.execute("INSERT INTO observations (patient_id, observed_at, code, value, import_id) "
                "SELECT 'p1', TIMESTAMP '2020-01-01' + to_hours(i), '8867-4', 60 + i % 40, 0 FROM range(5000) t(i)")
    con.close()


def test_an_older_workspace_is_rewritten_in_the_current_format_with_every_row_and_said_once(tmp_path: Path) -> None:
    from desktop.core.workspace.audit import read_audit
    from desktop.core.workspace.rewrite import storage_version, upgrade_storage

    path = tmp_path / "old.duckdb"
    _old_format_workspace(path)
    result = upgrade_storage(path)
    assert result.row_counts["main.observations"] == 5000 and "rows verified" in result.message
    with open_store(path) as store:
        assert storage_version(store.con).startswith(STORAGE_VERSION)
        assert store.con.execute("SELECT count(*), sum(value) FROM observations").fetchone() == (
            5000, sum(60 + i % 40 for i in range(5000)))
        assert any(e.action == "workspace_storage_upgraded" for e in read_audit(store))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.duckdb"]   # no copy or log left beside it
    again = upgrade_storage(path)
    assert "already in the current storage format" in again.message and not again.row_counts


def test_a_copy_that_does_not_verify_leaves_the_older_workspace_as_it_was(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from desktop.core.workspace import rewrite

    path = tmp_path / "old.duckdb"
    _old_format_workspace(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    real_copy = rewrite._copy_database

    def lossy_copy(source, destination, *, source_key, key):  # type: ignore[no-untyped-def]
        real_copy(source, destination, source_key=source_key, key=key)
        with open_store(destination) as copy:
            copy.con.execute("DELETE FROM observations WHERE value > 90")

    monkeypatch.setattr(rewrite, "_copy_database", lossy_copy)
    with pytest.raises(WorkspaceError, match="did not verify"):
        rewrite.upgrade_storage(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.duckdb"]



def test_the_command_line_upgrades_an_older_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop.cli import main

    path = tmp_path / "old.duckdb"
    _old_format_workspace(path)
    assert main(["upgrade-storage", "--workspace", str(path)]) == 0
    assert "rows verified" in capsys.readouterr().out
    assert main(["upgrade-storage", "--workspace", str(path)]) == 0
    assert "already in the current storage format" in capsys.readouterr().out
    assert main(["upgrade-storage", "--workspace", str(tmp_path / "missing.duckdb")]) == 2
