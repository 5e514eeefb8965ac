"""A workspace rewritten whole into a new file: copied by DuckDB (``COPY FROM DATABASE``), written in the current
storage format, verified (every table's row count and the catalog), recorded in the copy's audit log, and only
then renamed over the old file. The rename is the commit point (keyslot.recover_interrupted_rewrite finishes or
undoes an interrupted one), so a failure at any step leaves the workspace exactly as it was.

Encrypting a workspace, changing its passphrase (crypto.py) and bringing a plaintext workspace to the current
storage format (:func:`upgrade_storage`) are this one step with different keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from desktop.core.workspace import audit
from desktop.core.workspace.keyslot import (
    KeySlot,
    file_is_encrypted,
    pending_slot_path,
    recover_interrupted_rewrite,
    rewrite_path,
    slot_path,
    write_slot_atomically,
)
from desktop.core.workspace.store import (
    STORAGE_VERSION,
    WORKSPACE_ALIAS,
    WorkspaceError,
    _sql_string,
    new_connection,
    open_store,
    remember_workspace_key,
)


@dataclass(frozen=True)
class RewriteResult:
    path: Path
    row_counts: dict[str, int]
    message: str


def rewrite_workspace(target: Path, *, source_key: str | None, key: str | None, slot: KeySlot | None,
                      action: str) -> dict[str, int]:
    """Rewrite ``target`` (opened with ``source_key``) into a copy under ``key`` (None: not encrypted) with its key
    ``slot``; returns the row counts verified. Raises WorkspaceError, the workspace unchanged."""
    recover_interrupted_rewrite(target)
    rewrite = rewrite_path(target)
    # A writable open brings the schema up to date and, on close, checkpoints the WAL into the file,
    # so no log of the old file is left beside the new one.
    with open_store(target, encryption_key=source_key) as source:
        source.con.execute("CHECKPOINT")
        expected = _row_counts(source.con, WORKSPACE_ALIAS)
        expected_catalog = _catalog(source.con, WORKSPACE_ALIAS)
    if Path(str(target) + ".wal").exists():
        raise WorkspaceError(f"{target} is still in use (its log could not be written back); close it first.")
    copy_name = "encrypted copy" if key is not None else "copy"
    try:
        _copy_database(target, rewrite, source_key=source_key, key=key)
        with open_store(rewrite, encryption_key=key, read_only=True) as copy:
            found, found_catalog = _row_counts(copy.con, WORKSPACE_ALIAS), _catalog(copy.con, WORKSPACE_ALIAS)
        if found != expected or found_catalog != expected_catalog:
            raise WorkspaceError(f"The {copy_name} of {target} did not verify (row counts or schema differ); "
                                 "the workspace was not changed.")
        with open_store(rewrite, encryption_key=key) as copy:
            audit.record(copy, action=action, detail=f"workspace {target.name}")
        if slot is not None:
            write_slot_atomically(pending_slot_path(target), slot)
    except BaseException:
        for leftover in (rewrite, Path(str(rewrite) + ".wal"), pending_slot_path(target)):
            leftover.unlink(missing_ok=True)
        raise
    os.replace(rewrite, target)  # the commit point
    if slot is not None and key is not None:
        os.replace(pending_slot_path(target), slot_path(target))
        remember_workspace_key(target, key)
    return expected


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format the open workspace is written in ("v1.0.0+", "v1.5.0+")."""
    row = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?",
                      [WORKSPACE_ALIAS]).fetchone()
    return str(row[0]) if row and row[0] else ""


def upgrade_storage(path: str | Path) -> RewriteResult:
    """Bring a workspace written by an earlier Vitalsight (DuckDB's v1.0.0 format) to the current storage format,
    whose text compression writes imports about twice as fast. An encrypted workspace already has it."""
    target = Path(path).expanduser()
    if not target.exists():
        raise WorkspaceError(f"{target}: no such workspace")
    if file_is_encrypted(target) or slot_path(target).exists():
        return RewriteResult(target, {}, f"{target} is encrypted, and encrypted workspaces are always written in "
                                         f"the current storage format ({STORAGE_VERSION}); nothing was changed.")
    with open_store(target, read_only=True) as store:
        version = storage_version(store.con)
    if version.startswith(STORAGE_VERSION):
        return RewriteResult(target, {}, f"{target} is already in the current storage format ({version}); "
                                         "nothing was changed.")
    counts = rewrite_workspace(target, source_key=None, key=None, slot=None, action="workspace_storage_upgraded")
    return RewriteResult(target, counts, f"Rewrote {target} in storage format {STORAGE_VERSION} (it was "
                                         f"{version or 'older'}); {sum(counts.values())} rows verified.")


def _copy_database(source: Path, destination: Path, *, source_key: str | None, key: str | None) -> None:
    con = new_connection(encrypted=source_key is not None or key is not None)
    try:
        source_options = "READ_ONLY" + (f", ENCRYPTION_KEY {_sql_string(source_key)}" if source_key else "")
        encrypted = f"ENCRYPTION_KEY {_sql_string(key)}, " if key is not None else ""
        con.execute(f"ATTACH {_sql_string(str(source))} AS src ({source_options})")
        con.execute(f"ATTACH {_sql_string(str(destination))} AS dst ({encrypted}"
                    f"STORAGE_VERSION {_sql_string(STORAGE_VERSION)})")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute("DETACH src")
        con.execute("DETACH dst")
    except duckdb.Error as exc:
        raise WorkspaceError(f"Could not write the {'encrypted ' if key is not None else ''}copy of {source}: "
                             f"{exc}. The workspace was not changed.") from exc
    finally:
        con.close()


def _row_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND NOT temporary "
        "ORDER BY ALL", [database]
    ).fetchall()
    counts = {}
    for schema, table in tables:
        row = con.execute(f'SELECT count(*) FROM "{database}"."{schema}"."{table}"').fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def _catalog(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[object, ...]]]:
    """Tables, views, indexes and sequences (with their position), to check a copy lost none of them."""
    queries = {
        "tables": "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = ? AND NOT temporary",
        "views": "SELECT view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal "
                 "AND NOT temporary",
        "indexes": "SELECT index_name, sql FROM duckdb_indexes() WHERE database_name = ?",
        "sequences": "SELECT sequence_name, start_value, last_value FROM duckdb_sequences() WHERE database_name = ?",
    }
    return {name: sorted(con.execute(sql, [database]).fetchall(), key=repr) for name, sql in queries.items()}
