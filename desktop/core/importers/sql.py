"""Small SQL helpers shared by the importers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

REJECTS_TABLE = "vs_reject_errors"
REJECTS_SCAN = "vs_reject_scans"


def ident(name: str) -> str:
    """A quoted SQL identifier (column names come from files and may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: How the pipeline has arranged for a file to be read, by path: set for one file's import (reading.py).
#: Importers keep calling read_csv_sql(path, header, delimiter) whatever the file's encoding or line endings.
READ_AS: dict[str, str] = {}


def read_csv_sql(path: Path, header: list[str], delimiter: str) -> str:
    """DuckDB's own CSV reader, every column as text, malformed lines kept aside with their line numbers.

    The columns are given explicitly (we already read the header), so DuckDB's sniffer cannot guess
    differently from what the user sees in the file. A file the pipeline staged or gave an encoding to
    (see reading.py) is read the way it arranged.
    """
    arranged = READ_AS.get(str(path))
    if arranged is not None:
        return arranged
    return csv_reader_sql(path, header, delimiter)


def csv_reader_sql(path: Path, header: list[str], delimiter: str, encoding: str | None = None) -> str:
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    encoded = f"encoding = {literal(encoding)}, " if encoding else ""
    return (
        f"read_csv({literal(str(path))}, header = true, delim = {literal(delimiter)}, quote = '\"', "
        f"escape = '\"', columns = {columns}, auto_detect = false, {encoded}store_rejects = true, "
        f"rejects_table = {literal(REJECTS_TABLE)}, rejects_scan = {literal(REJECTS_SCAN)})"
    )


def number_sql(expr: str) -> str:
    """A number from text; a decimal comma (37,5) is accepted, thousands separators are not.

    DuckDB's casts ignore surrounding spaces, so no trim() is spent on the million rows that have none.
    """
    return (
        f"TRY_CAST(CASE WHEN contains({expr}, ',') THEN regexp_replace(trim({expr}), '^(-?[0-9]+),([0-9]+)$', '\\1.\\2') "
        f"ELSE {expr} END AS DOUBLE)"
    )


def timestamp_sql(expr: str, fmt: str | None = None) -> str:
    """A UTC timestamp from ISO text (offsets converted to UTC), or with an explicit strptime format."""
    if fmt:
        return f"TRY_STRPTIME(trim({expr}), {literal(fmt)})"
    # Through TIMESTAMPTZ: a plain TIMESTAMP cast would silently drop a '+02:00' offset. The TIMESTAMPTZ cast
    # costs as much as reading the file, so text of the plain ISO shapes (a date; a date and time to the minute or
    # second; the same ending in 'Z' for UTC, as Synthea writes) with no '+'/'-' offset takes the plain cast,
    # which gives the same instant for it; anything else goes through TIMESTAMPTZ.
    # A '+' anywhere, or a '-' after the date, may be an offset ('+' never is part of a plain date: looked for in
    # the whole text, which is cheaper than cutting it); such text takes the TIMESTAMPTZ cast, right for any text.
    plain = (f"(length({expr}) IN (10, 16, 19) OR (length({expr}) = 20 AND ends_with({expr}, 'Z'))) "
             f"AND strpos({expr}, '+') = 0 AND NOT contains(substr({expr}, 11), '-')")
    return (f"CASE WHEN {plain} THEN TRY_CAST({expr} AS TIMESTAMP) "
            f"ELSE TRY_CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP) END")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, types: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Many rows in one statement, a list per column: DuckDB's executemany runs one statement a row (20,000
    rejected lines took 1.6 s that way, 0.05 s this way)."""
    if not rows:
        return
    columns = [list(c) for c in zip(*rows, strict=True)]
    picks = ", ".join(f"unnest(${i + 1}::{kind}[])" for i, kind in enumerate(types))
    con.execute(f"INSERT INTO {table} SELECT {picks}", columns)
