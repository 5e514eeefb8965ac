"""How one file is read: DuckDB's CSV reader with the file's encoding, or, where that reader cannot read the
file right, a table staged from Python's csv module with the same rows and the same rejected lines.

DuckDB 1.5's reader reads UTF-8, Latin-1 and UTF-16 little-endian (``encoding`` option; other encodings
need the ``encodings`` extension, which an offline laptop cannot install). It cannot read:
- UTF-16 big-endian (it returns no rows at all, silently);
- Windows-1252's signs at 0x80-0x9F;
- a file whose line endings change part-way (rows appended with CRLF after LF rows): its strict parser
  fails on the whole file, and its lenient one drops fields and misnumbers lines.
Those files are staged in a temporary table (never a plain temporary file: an encrypted workspace must
not leave patient rows on disk). Windows-1252 with any of its 0x80-0x9F signs (€, curly quotes, dashes) is
staged too: DuckDB's Latin-1 refuses those bytes ("File is not latin-1 encoded"); without them it is Latin-1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from desktop.core.importers.errors import ImportFailed
from desktop.core.importers.sniff import CsvFacts
from desktop.core.importers.sql import READ_AS, REJECTS_TABLE, csv_reader_sql, ident, insert_rows

STAGED_TABLE = "vs_staged_csv"
_BATCH = 50_000
_DUCKDB_ENCODING = {"utf-8": None, "latin-1": "latin-1", "utf-16-le": "utf-16"}
_PYTHON_CODEC = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "windows-1252": "cp1252", "utf-16-le": "utf-16-le",
                 "utf-16-be": "utf-16-be"}


def needs_staging(facts: CsvFacts) -> bool:
    return facts.mixed_endings_from is not None or facts.encoding not in _DUCKDB_ENCODING


@contextmanager
def arranged_reading(con: duckdb.DuckDBPyConnection, facts: CsvFacts) -> Iterator[None]:
    """While the file is imported, ``read_csv_sql(facts.path, ...)`` reads it the right way."""
    key = str(facts.path)
    if needs_staging(facts):
        _stage(con, facts)
        READ_AS[key] = f"(SELECT * EXCLUDE (vs_line) FROM {STAGED_TABLE})"
    else:
        READ_AS[key] = csv_reader_sql(facts.path, facts.header, facts.delimiter, _DUCKDB_ENCODING[facts.encoding])
    try:
        yield
        con.execute(f"DROP TABLE IF EXISTS {STAGED_TABLE}")  # after a failure the rollback removes it
    finally:
        READ_AS.pop(key, None)


def _stage(con: duckdb.DuckDBPyConnection, facts: CsvFacts) -> None:
    """The file's rows, as text, in file order; records with the wrong number of fields set aside, numbered
    and worded as DuckDB's reader numbers and words them, so the pipeline reports them the same way."""
    width = len(facts.header)
    columns = ", ".join(f"{ident(h)} VARCHAR" for h in facts.header)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} ({columns}, vs_line BIGINT)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {REJECTS_TABLE} (line BIGINT, error_message VARCHAR)")
    insert = f"INSERT INTO {STAGED_TABLE} SELECT {', '.join(f'unnest(${i + 1})' for i in range(width + 1))}"
    batch: list[list[object]] = [[] for _ in range(width + 1)]
    rejects: list[tuple[int, str]] = []
    with facts.path.open(encoding=_PYTHON_CODEC[facts.encoding], newline="") as fh:
        reader = csv.reader(fh, delimiter=facts.delimiter, quotechar='"', doublequote=True)
        try:
            next(reader, None)  # the header, already read by check_csv
            unit = 1  # numbered as DuckDB numbers them: records and blank lines (see report._Units)
            for row in reader:
                unit += 1
                if not row:
                    continue  # an empty line: DuckDB's reader skips it too (check_csv listed it)
                if len(row) != width:
                    rejects.append((unit, f"Expected Number of Columns: {width} Found: {len(row)}"))
                    continue
                for i, value in enumerate(row):
                    batch[i].append(value if value != "" else None)
                batch[width].append(unit)
                if len(batch[width]) >= _BATCH:
                    con.execute(insert, batch)
                    batch = [[] for _ in range(width + 1)]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFailed(f"{facts.path}: line {reader.line_num + 1} cannot be read as CSV: {exc}") from None
        except OSError as exc:
            raise ImportFailed(f"{facts.path}: cannot be read ({exc.strerror or exc})") from None
    if batch[width]:
        con.execute(insert, batch)
    insert_rows(con, REJECTS_TABLE, ("BIGINT", "VARCHAR"), rejects)
