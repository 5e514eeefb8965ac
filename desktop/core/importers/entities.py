"""Importing the small per-entity files (patients, conditions, encounters): stage, check, insert.

These files are a tiny fraction of an export next to observations, so they are staged in a temp table
with their record numbers; rejected rows are reported with their line like every other row.

A row whose key (patient Id, encounter Id) the workspace already holds is neither inserted nor silently
dropped: it is counted as already present, unchanged or with different values, and the different ones
replace the stored values only when the user asked for it (``update_existing``), in the import's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from desktop.core.importers.observations import RowResult, reader_rejects
from desktop.core.importers.sql import ident


@dataclass(frozen=True)
class KeyedTable:
    """A workspace table whose rows have a key, and which of its columns a file's row gives."""

    table: str
    key: str  # the same name in the table and in the staged rows
    #: table column -> staged column, compared to tell "unchanged" from "different values"
    compared: dict[str, str]
    #: SQL over the stored row (alias t) true when it is a stand-in a file fills in (counted as accepted)
    placeholder: str | None = None


@dataclass
class KeyedResult(RowResult):
    #: (record number, key, unchanged?) for each row whose key the workspace already held
    present: list[tuple[int, str, bool]] = field(default_factory=list)
    updated: int = 0


def stage_and_insert(
    con: duckdb.DuckDBPyConnection,
    *,
    select_sql: str,
    reason_sql: str,
    insert_sql: str,
    keyed: KeyedTable | None = None,
    update_existing: bool = False,
) -> KeyedResult:
    """Stage ``select_sql`` (with ``rn``) as ``vs_stage``, reject rows where ``reason_sql`` is not NULL,
    then run ``insert_sql`` (which reads the accepted rows from ``vs_ok``). With ``keyed``, rows whose key
    the table holds are counted as present; ``update_existing`` gives the different ones the file's values."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE vs_stage AS SELECT *, {reason_sql} AS reason FROM ({select_sql})")
    result = KeyedResult()
    if keyed is not None:
        _find_present(con, keyed)
        con.execute("CREATE OR REPLACE TEMP VIEW vs_ok AS SELECT * FROM vs_stage WHERE reason IS NULL "
                    "AND rn NOT IN (SELECT rn FROM vs_present)")
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW vs_ok AS SELECT * FROM vs_stage WHERE reason IS NULL")
    row = con.execute(insert_sql).fetchone()
    result.accepted = int(row[0]) if row else 0
    result.malformed = reader_rejects(con)
    rejected = con.execute("SELECT rn, reason FROM vs_stage WHERE reason IS NOT NULL ORDER BY rn").fetchall()
    result.rejected_records = [(int(rn), str(reason)) for rn, reason in rejected]
    if keyed is not None:
        present = con.execute("SELECT rn, key, unchanged FROM vs_present ORDER BY rn").fetchall()
        result.present = [(int(rn), str(key), bool(same)) for rn, key, same in present]
        if update_existing and not all(same for _, _, same in result.present):
            result.updated = _update_present(con, keyed)
        con.execute("DROP TABLE vs_present")
    con.execute("DROP VIEW vs_ok")
    con.execute("DROP TABLE vs_stage")
    return result


def _find_present(con: duckdb.DuckDBPyConnection, keyed: KeyedTable) -> None:
    same = " AND ".join(f"t.{ident(t)} IS NOT DISTINCT FROM s.{ident(s)}" for t, s in keyed.compared.items())
    stand_in = f"AND NOT coalesce({keyed.placeholder}, false)" if keyed.placeholder else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE vs_present AS
        SELECT s.rn, s.{ident(keyed.key)} AS key, ({same or 'true'}) AS unchanged
        FROM vs_stage s JOIN {keyed.table} t ON t.{ident(keyed.key)} = s.{ident(keyed.key)}
        WHERE s.reason IS NULL {stand_in}"""
    )


def _update_present(con: duckdb.DuckDBPyConnection, keyed: KeyedTable) -> int:
    """The stored rows take the file's values, in the import's transaction (all or nothing with it)."""
    assignments = ", ".join(f"{ident(t)} = s.{ident(s)}" for t, s in keyed.compared.items())
    key = ident(keyed.key)
    row = con.execute(
        f"""UPDATE {keyed.table} AS t SET {assignments}
        FROM (SELECT v.* FROM vs_stage v JOIN vs_present p ON p.rn = v.rn WHERE NOT p.unchanged) s
        WHERE t.{key} = s.{key}"""
    ).fetchone()
    return int(row[0]) if row else 0
