"""Small SQL helpers shared by the importers."""

from __future__ import annotations

from pathlib import Path

REJECTS_TABLE = "vs_reject_errors"
REJECTS_SCAN = "vs_reject_scans"


def ident(name: str) -> str:
    """A quoted SQL identifier (column names come from files and may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_csv_sql(path: Path, header: list[str], delimiter: str) -> str:
    """DuckDB's own CSV reader, every column as text, malformed lines kept aside with their line numbers.

    The columns are given explicitly (we already read the header), so DuckDB's sniffer cannot guess
    differently from what the user sees in the file.
    """
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    return (
        f"read_csv({literal(str(path))}, header = true, delim = {literal(delimiter)}, quote = '\"', "
        f"escape = '\"', columns = {columns}, auto_detect = false, store_rejects = true, "
        f"rejects_table = {literal(REJECTS_TABLE)}, rejects_scan = {literal(REJECTS_SCAN)})"
    )


def number_sql(expr: str) -> str:
    """A number from text; a decimal comma (37,5) is accepted, thousands separators are not."""
    return (
        f"TRY_CAST(CASE WHEN contains({expr}, ',') THEN regexp_replace(trim({expr}), '^(-?[0-9]+),([0-9]+)$', '\\1.\\2') "
        f"ELSE trim({expr}) END AS DOUBLE)"
    )


def timestamp_sql(expr: str, fmt: str | None = None) -> str:
    """A UTC timestamp from ISO text (offsets converted to UTC), or with an explicit strptime format."""
    if fmt:
        return f"TRY_STRPTIME(trim({expr}), {literal(fmt)})"
    # Plain and 'Z' times parse on DuckDB's fast path; only times with an offset need the ICU parser.
    text = f"trim({expr})"
    return (
        f"CASE WHEN length({text}) <= 19 OR suffix({text}, 'Z') THEN TRY_CAST({text} AS TIMESTAMP) "
        f"ELSE TRY_CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP) END"
    )
