"""Rows DuckDB spills to its temporary directory are encrypted in an encrypted workspace.

DuckDB 1.5.5 writes spill files in plain text by default even when the database is encrypted
(checked: with ``temp_file_encryption = false`` this test finds the name in the spill file).
"""

from __future__ import annotations

from desktop.core.workspace.store import open_store

NAME = "ZebedeeMarmaduke"


def _spill(tmp_path, *, encrypt_temp: bool) -> bytes:
    temp_dir = tmp_path / "spill"
    with open_store(tmp_path / "e.duckdb", encryption_key="k" * 64) as store:
        if not encrypt_temp:
            store.con.execute("SET temp_file_encryption = false")
        store.con.execute(f"SET temp_directory = '{temp_dir}'")
        store.con.execute("SET memory_limit = '60MB'")
        store.con.execute("SET threads = 1")
        # A temporary table larger than memory stays in the spill files while it exists.
        store.con.execute(f"CREATE TEMP TABLE spilled AS SELECT i, '{NAME}' || i AS n FROM range(3000000) r(i)")
        files = list(temp_dir.glob("*"))
        assert files, "the query was meant to spill to disk"
        return b"".join(f.read_bytes() for f in files)


def test_spill_files_are_encrypted(tmp_path):
    assert NAME.encode() not in _spill(tmp_path, encrypt_temp=True)


def test_the_check_can_fail_without_temp_encryption(tmp_path):
    assert NAME.encode() in _spill(tmp_path, encrypt_temp=False)
