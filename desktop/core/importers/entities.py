"""Importing the small per-entity files (patients, conditions, encounters): stage, check, insert.

These files are a tiny fraction of an export next to observations, so they are staged in a temp table
with their record numbers; rejected rows are reported with their line like every other row.
"""

from __future__ import annotations

import duckdb

from desktop.core.importers.observations import RowResult, reader_rejects


def stage_and_insert(
    con: duckdb.DuckDBPyConnection,
    *,
    select_sql: str,
    reason_sql: str,
    insert_sql: str,
) -> RowResult:
    """Stage ``select_sql`` (with ``rn``) as ``vs_stage``, reject rows where ``reason_sql`` is not NULL,
    then run ``insert_sql`` (which reads the accepted rows from ``vs_ok``)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE vs_stage AS SELECT *, {reason_sql} AS reason FROM ({select_sql})")
    con.execute("CREATE OR REPLACE TEMP VIEW vs_ok AS SELECT * FROM vs_stage WHERE reason IS NULL")
    result = RowResult()
    row = con.execute(insert_sql).fetchone()
    result.accepted = int(row[0]) if row else 0
    result.malformed = reader_rejects(con)
    rejected = con.execute("SELECT rn, reason FROM vs_stage WHERE reason IS NOT NULL ORDER BY rn").fetchall()
    result.rejected_records = [(int(rn), str(reason)) for rn, reason in rejected]
    con.execute("DROP VIEW vs_ok")
    con.execute("DROP TABLE vs_stage")
    return result
