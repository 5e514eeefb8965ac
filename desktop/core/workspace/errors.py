"""One clear sentence for a workspace that cannot be opened: in use elsewhere, damaged, or not a workspace.

DuckDB's own messages name extensions to install or internal file offsets; a clinician needs to know which
file, what is wrong with it and what to do. The CLI prints the sentence and exits 2; the window shows it.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def describe_open_error(target: str, error: Exception) -> tuple[str, bool]:
    """(sentence, in_use) for a failure to open ``target``; ``in_use`` when another process holds its lock."""
    text = str(error)
    lock = _LOCK.search(text)
    if lock:
        program = Path(lock.group("program")).name
        return (
            (f"Cannot open workspace {target}: it is in use by another process ({program}, "
             f"PID {lock.group('pid')}); close Vitalsight there or wait for its import to finish, "
             "then try again."),
            True,
        )
    if _starts_with(target, _SQLITE_MAGIC):
        return (f"Cannot open workspace {target}: it is a SQLite database, not a Vitalsight workspace; "
                "choose a .duckdb workspace file."), False
    if "not a valid DuckDB database" in text:
        return (f"Cannot open workspace {target}: it is not a Vitalsight workspace (not a DuckDB file); "
                "choose another file."), False
    first = text.splitlines()[0] if text else type(error).__name__
    return (f"Cannot open workspace {target}: it is damaged ({first}); "
            "open a backup or another workspace."), False


def describe_damage(target: str, error: Exception) -> str:
    """A sentence for a workspace that opened but fails when read (truncated file, missing table)."""
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{target} is damaged: reading it failed ({first}); open a backup or another workspace."


#: tables every workspace has had since schema version 1; one missing means the file was damaged or edited
CORE_TABLES = ("patients", "observations", "conditions", "encounters", "imports", "import_rejections",
               "column_mappings")


def missing_core_tables(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """The core tables absent from ``database`` (checked at open, so a query never meets a missing table)."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [database]).fetchall()}
    return [t for t in CORE_TABLES if t not in present]


def _starts_with(target: str, magic: bytes) -> bool:
    try:
        with open(target, "rb") as f:
            return f.read(len(magic)) == magic
    except OSError:
        return False
