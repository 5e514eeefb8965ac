"""The one path every observation takes into the workspace: resolve the code, convert the unit,
pass the plausibility gate, and either store the row or report it with its line and reason.

Each importer only describes its file as a SELECT of long rows (see :func:`checked_sql`); the checks
live here once. The file is scanned by DuckDB twice: once to insert the accepted rows (streaming, so
memory does not grow with the file) and once to collect per-code counts and the rejected rows with
their line numbers (``row_number() OVER ()`` streams in file order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from desktop.core.catalog import load_catalog, normalise_name
from desktop.core.importers.sql import REJECTS_TABLE, normalised_name_sql, normalised_unit_sql, number_sql

#: A function giving the importer's SELECT; ``with_line`` asks for a real ``rn`` (record number).
SourceSql = Callable[[bool], str]


@dataclass
class RowResult:
    accepted: int = 0
    rejections: list[tuple[int | None, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def create_lookup_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Temp tables the checks join against, made from the catalog (per connection, outside transactions)."""
    catalog = load_catalog()
    con.execute("CREATE OR REPLACE TEMP TABLE vs_units (code VARCHAR, unit_norm VARCHAR, factor DOUBLE, \"offset\" DOUBLE)")
    con.executemany("INSERT INTO vs_units VALUES (?, ?, ?, ?)", catalog.unit_rows())
    con.execute("CREATE OR REPLACE TEMP TABLE vs_codes (code_in VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO vs_codes VALUES (?, ?)", catalog.code_alias_rows())
    con.execute("CREATE OR REPLACE TEMP TABLE vs_names (name_norm VARCHAR, code VARCHAR)")
    names = {}
    for m in catalog.measurements:
        # A long file may name a measurement ("Heart rate") or give its LOINC code ("8867-4").
        for n in (m.name, m.short, *m.aliases, m.code, *m.codes):
            names[normalise_name(n)] = m.code
    con.executemany("INSERT INTO vs_names VALUES (?, ?)", list(names.items()))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE vs_catalog (code VARCHAR, name VARCHAR, unit VARCHAR, is_text BOOLEAN, "
        "plaus_min DOUBLE, plaus_max DOUBLE, expected_units VARCHAR)"
    )
    rows = []
    for m in catalog.measurements:
        expected = ", ".join(sorted({u for u in m.units if u})) or m.unit
        lo, hi = m.plausible if m.plausible else (None, None)
        rows.append((m.code, m.name, m.unit, m.is_text, lo, hi, expected))
    con.executemany("INSERT INTO vs_catalog VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _plain(expr: str) -> str:
    """A limit as a person writes it: 300, not 300.0."""
    return f"regexp_replace({expr}::VARCHAR, '\\.0$', '')"


def checked_sql(source: str) -> str:
    """Every source row with its resolved code, canonical value and, if it must be rejected, the reason.

    ``source`` has the columns: rn, patient_id, observed_at (TIMESTAMP or NULL), time_text, code_in,
    by_name (code_in is a measurement name rather than a code), value_text, unit_text, value_type
    ('numeric', 'text' or NULL to decide from the value), encounter_id, description, category.
    """
    unit_norm = normalised_unit_sql("s.unit_text")
    name_norm = normalised_name_sql("s.code_in")
    return f"""
    SELECT *,
      CASE
        WHEN patient_id IS NULL OR trim(patient_id) = '' THEN 'patient is empty'
        WHEN observed_at IS NULL AND (time_text IS NULL OR trim(time_text) = '') THEN 'time is empty'
        WHEN observed_at IS NULL THEN 'time ''' || time_text || ''' is not a date'
        WHEN code IS NULL OR trim(code) = '' THEN 'measurement is empty'
        WHEN is_text THEN NULL
        WHEN value_text IS NULL OR trim(value_text) = '' THEN 'value is empty'
        WHEN num IS NULL THEN 'value ''' || value_text || ''' is not a number'
        WHEN NOT known THEN NULL
        WHEN factor IS NULL AND coalesce(trim(unit_text), '') = '' THEN
          'no unit given for ' || m_name || ' (expected ' || expected_units || ')'
        WHEN factor IS NULL THEN
          'unit ''' || unit_text || ''' is not a unit of ' || m_name || ' (expected ' || expected_units || ')'
        WHEN num * factor + "offset" < plaus_min OR num * factor + "offset" > plaus_max THEN
          'implausible ' || m_name || ' ' || value_text || coalesce(' ' || nullif(trim(unit_text), ''), '')
          || ' (plausible ' || {_plain('plaus_min')} || '-' || {_plain('plaus_max')} || ' ' || m_unit || ')'
      END AS reason,
      CASE WHEN is_text THEN NULL WHEN known THEN num * factor + "offset" ELSE num END AS value,
      CASE WHEN known THEN m_unit ELSE nullif(trim(unit_text), '') END AS unit
    FROM (
      SELECT s.*, {number_sql('s.value_text')} AS num,
        coalesce(cat.code, trim(s.code_in)) AS code,
        cat.code IS NOT NULL AS known,
        cat.name AS m_name, cat.unit AS m_unit, cat.plaus_min, cat.plaus_max, cat.expected_units,
        u.factor, u."offset",
        (coalesce(s.value_type, '') = 'text' OR coalesce(cat.is_text, false)
          OR (cat.code IS NULL AND s.value_type IS NULL AND {number_sql('s.value_text')} IS NULL
              AND coalesce(trim(s.value_text), '') <> '')) AS is_text
      FROM ({source}) s
      LEFT JOIN vs_codes ca ON NOT s.by_name AND ca.code_in = trim(s.code_in)
      LEFT JOIN vs_names nm ON s.by_name AND nm.name_norm = {name_norm}
      LEFT JOIN vs_catalog cat ON cat.code = coalesce(ca.code, nm.code)
      LEFT JOIN vs_units u ON u.code = cat.code AND u.unit_norm = {unit_norm}
    )
    """


def import_observations(con: duckdb.DuckDBPyConnection, source: SourceSql, import_id: int) -> RowResult:
    """Insert the accepted rows of ``source`` and return the counts and the rejected rows."""
    result = RowResult()
    inserted = con.execute(
        f"""
        INSERT INTO observations
          (patient_id, observed_at, code, value_raw, unit_raw, value, unit, encounter_id, import_id)
        SELECT patient_id, observed_at, code, value_text, unit_text, value, unit, encounter_id, {import_id}
        FROM ({checked_sql(source(False))}) WHERE reason IS NULL
        """
    ).fetchone()
    result.accepted = int(inserted[0]) if inserted else 0
    reader_rejects = _reader_rejects(con)
    per_code = con.execute(
        f"""
        SELECT code, any_value(description) FILTER (description IS NOT NULL),
               any_value(category) FILTER (category IS NOT NULL), bool_or(known),
               count(*) FILTER (reason IS NULL),
               list([rn::VARCHAR, reason] ORDER BY rn) FILTER (reason IS NOT NULL)
        FROM ({checked_sql(source(True))}) GROUP BY ALL
        """
    ).fetchall()
    unknown_codes = []
    rejected: list[tuple[int, str]] = []
    for code, description, category, known, accepted, rejects in per_code:
        if accepted and code:
            con.execute(
                "INSERT INTO observation_codes VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
                "description = coalesce(observation_codes.description, excluded.description), "
                "category = coalesce(observation_codes.category, excluded.category)",
                [code, description, category],
            )
            if not known:
                unknown_codes.append(f"{description or code} ({accepted})")
        for rn, reason in rejects or []:
            rejected.append((int(rn), reason))
    result.rejections = [(line, reason) for line, reason in _lines(rejected, reader_rejects)]
    result.rejections.extend(reader_rejects.values())
    result.rejections.sort(key=lambda r: (r[0] is None, r[0] or 0))
    if unknown_codes:
        result.notes.append(
            "stored as given, without units check or reference range: " + "; ".join(sorted(unknown_codes)[:20])
            + (" …" if len(unknown_codes) > 20 else "")
        )
    return result


def _reader_rejects(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[int, str]]:
    """Lines DuckDB's reader could not split into the header's columns (ragged, bad quoting)."""
    try:
        rows = con.execute(f"SELECT DISTINCT line, error_message FROM {REJECTS_TABLE} ORDER BY line").fetchall()
    except duckdb.CatalogException:
        return {}
    return {int(line): (int(line), f"malformed line: {message}") for line, message in rows}


def _lines(rejected: list[tuple[int, str]], reader_rejects: dict[int, tuple[int, str]]) -> list[tuple[int, str]]:
    """Record numbers to file lines: the header is line 1, and lines the reader skipped shift the rest."""
    skipped = sorted(reader_rejects)
    out = []
    for record, reason in sorted(rejected):
        line = record + 1
        for s in skipped:
            if s <= line:
                line += 1
        out.append((line, reason))
    return out


def clear_reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    for table in (REJECTS_TABLE, "vs_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
