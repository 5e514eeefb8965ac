"""The one path every observation takes into the workspace: resolve the code, convert the unit,
pass the plausibility gate, and either store the row or report it with its line and reason.

Each importer only describes its file as a SELECT of long rows (see :func:`checked_sql`); the checks
live here once. Every pass streams the file through DuckDB, so memory does not grow with the file:
1. the distinct (measurement, unit) pairs and their counts, resolved once in Python with the catalog;
2. the insert of the accepted rows, each finding its pair's resolution (pairs.py);
3. only when rows were rejected: those rows with their record numbers (``row_number() OVER ()``
   streams in file order), turned into line numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from desktop.core.clinical.measurements import load_catalog, normalise_unit
from desktop.core.importers.pairs import ResolvedPairs
from desktop.core.importers.present import PresentRows
from desktop.core.importers.sql import REJECTS_TABLE, number_sql

#: A function giving the importer's SELECT; ``with_line`` asks for a real ``rn`` (record number).
SourceSql = Callable[[bool], str]

#: A source's ``value_type`` starting with this carries the reason its row is rejected.
REJECT = "reject:"


@dataclass
class RowResult:
    """What an importer did with one file. Rejected rows are by record number (1 = first data row);
    the pipeline turns them into line numbers, knowing which lines the reader skipped."""

    accepted: int = 0
    rejected_records: list[tuple[int, str]] = field(default_factory=list)
    malformed: dict[int, str] = field(default_factory=dict)  # line -> reason, from DuckDB's reader
    notes: list[str] = field(default_factory=list)
    #: readings an earlier import stored, when the importer settled them itself (mapped files)
    settled: PresentRows | None = None
    #: the file's rows counted as already present (not in ``accepted``): a wide row is present when every
    #: value it gave was already in the workspace
    rows_present: int = 0


def resolve(pairs: list[tuple[str, str]], *, by_name: bool) -> list[tuple[object, ...]]:
    """What each distinct (measurement, unit) pair of a file means: code, conversion, limits, or why not.

    ``by_name``: the measurement is a name or code from a long/mapped file ("Heart rate", "8867-4"),
    rather than a LOINC code from Synthea (where an unknown code is kept as it is).
    """
    catalog = load_catalog()
    rows: list[tuple[object, ...]] = []
    for code_key, unit_key in pairs:
        m = catalog.by_name(code_key) if by_name else catalog.by_code(code_key.strip())
        if m is None:
            rows.append((code_key, unit_key, code_key.strip(), False, False, *([None] * 8)))
            continue
        conversion = m.units.get(normalise_unit(unit_key))
        problem = None
        if conversion is None and not m.is_text:
            expected = ", ".join(sorted({u for u in m.units if u})) or m.unit
            problem = (
                f"no unit given for {m.name} (expected {expected})" if not unit_key.strip()
                else f"unit '{unit_key}' is not a unit of {m.name} (expected {expected})"
            )
        factor, offset = conversion if conversion else (None, None)
        lo, hi = m.plausible if m.plausible else (None, None)
        limits = f"{lo:g}-{hi:g} {m.unit}" if m.plausible else None
        rows.append((code_key, unit_key, m.code, True, m.is_text, factor, offset, lo, hi, problem, m.name, limits,
                     m.unit))
    return rows


def checked_sql(source: str, pairs: ResolvedPairs) -> str:
    """Every source row with its code, canonical value and, if it must be rejected, the reason.

    ``source`` has the columns: rn, patient_id (trimmed, NULL when empty), observed_at (TIMESTAMP or NULL),
    time_text, code_in, value_text, unit_text, value_type ('numeric', 'text' or NULL to decide from the value, or
    ``REJECT`` followed by a reason the source already knows, e.g. a "120/80" cell that is not two values),
    encounter_id, description, category. ``pairs`` holds every (code_in, unit_text) pair of the source.
    """
    return f"""
    SELECT *,
      CASE
        WHEN pair IS NULL THEN 'the file changed while it was being imported; import it again'
        WHEN patient_id IS NULL THEN 'patient is empty'
        WHEN observed_at IS NULL AND (time_text IS NULL OR trim(time_text) = '') THEN 'time is empty'
        WHEN observed_at IS NULL THEN 'time ''' || time_text || ''' is not a date'
        WHEN value_type IS NOT NULL AND starts_with(value_type, '{REJECT}') THEN substr(value_type, {len(REJECT) + 1})
        WHEN code = '' THEN 'measurement is empty'
        WHEN is_text THEN NULL
        WHEN num IS NULL AND (value_text IS NULL OR trim(value_text) = '') THEN 'value is empty'
        WHEN num IS NULL THEN 'value ''' || value_text || ''' is not a number'
        WHEN NOT known THEN NULL
        WHEN unit_problem IS NOT NULL THEN unit_problem
        WHEN converted < plaus_min OR converted > plaus_max THEN
          'implausible ' || m_name || ' ' || value_text || coalesce(' ' || nullif(trim(unit_text), ''), '')
          || ' (plausible ' || limits || ')'
      END AS reason,
      CASE WHEN NOT is_text THEN converted END AS value
    FROM (
      SELECT s.*, r.code, r.known, r.plaus_min, r.plaus_max, r.unit_problem, r.m_name, r.limits,
             r.stored_unit AS unit,
             CASE WHEN r.known THEN s.num * r.factor + r."offset" ELSE s.num END AS converted,
             (r.is_text OR coalesce(s.value_type = 'text', false)
              OR (NOT r.known AND s.value_type IS NULL AND s.num IS NULL AND coalesce(trim(s.value_text), '') <> ''))
               AS is_text
      FROM ({pairs.looked_up_sql(f"SELECT *, {number_sql('value_text')} AS num FROM ({source})")}) s
    )
    """


def import_observations(
    con: duckdb.DuckDBPyConnection, source: SourceSql, import_id: int, *, by_name: bool = False
) -> RowResult:
    """Insert the accepted rows of ``source`` and return the counts and the rejected rows."""
    result = RowResult()
    pairs = con.execute(
        f"""SELECT coalesce(code_in, ''), coalesce(unit_text, ''), count(*),
                   any_value(description) FILTER (description IS NOT NULL),
                   any_value(category) FILTER (category IS NOT NULL)
            FROM ({source(False)}) GROUP BY ALL"""
    ).fetchall()
    total = sum(int(p[2]) for p in pairs)
    resolved = resolve([(str(p[0]), str(p[1])) for p in pairs], by_name=by_name)
    if not resolved:  # no data rows: nothing to insert (and an ENUM needs a value)
        result.malformed = reader_rejects(con)
        return result
    lookup = ResolvedPairs(resolved)
    lookup.prepare(con)
    inserted = con.execute(
        f"""
        INSERT INTO observations
          (patient_id, observed_at, code, value_raw, unit_raw, value, unit, encounter_id, import_id)
        SELECT patient_id, observed_at, code, value_text, unit_text, value, unit, encounter_id, {import_id}
        FROM ({checked_sql(source(False), lookup)}) WHERE reason IS NULL
        """
    ).fetchone()
    result.accepted = int(inserted[0]) if inserted else 0
    result.malformed = reader_rejects(con)
    if result.accepted < total:
        result.rejected_records = [
            (int(rn), str(reason)) for rn, reason in con.execute(
                f"SELECT rn, reason FROM ({checked_sql(source(True), lookup)}) WHERE reason IS NOT NULL "
                "ORDER BY rn"
            ).fetchall()
        ]
    lookup.drop(con)
    _record_codes(con, import_id, pairs, resolved, result)
    return result


def _record_codes(
    con: duckdb.DuckDBPyConnection, import_id: int, pairs: list[tuple[object, ...]],
    resolved: list[tuple[object, ...]], result: RowResult,
) -> None:
    """Remember each stored code's description; note the measurements stored without a range."""
    stored = {r[0] for r in con.execute(
        "SELECT DISTINCT code FROM observations WHERE import_id = ?", [import_id]).fetchall()}
    described: dict[str, tuple[object, object]] = {}
    unknown: dict[str, int] = {}
    for (_code_key, _unit, count, description, category), r in zip(pairs, resolved, strict=True):
        code = str(r[2])
        if code not in stored:
            continue
        described.setdefault(code, (description, category))
        if not r[3]:
            label = str(description or code)
            unknown[label] = unknown.get(label, 0) + int(str(count))
    if described:  # one statement for all of them: a laboratory export may name thousands
        codes = list(described)
        con.execute(
            "INSERT INTO observation_codes SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[]), unnest($3::VARCHAR[]) "
            "ON CONFLICT (code) DO UPDATE SET "
            "description = coalesce(observation_codes.description, excluded.description), "
            "category = coalesce(observation_codes.category, excluded.category)",
            [codes, [described[c][0] for c in codes], [described[c][1] for c in codes]],
        )
    if unknown:
        listed = sorted(f"{name} ({n})" for name, n in unknown.items())
        result.notes.append(
            "stored as given, without units check or reference range: "
            + "; ".join(listed[:20]) + (" …" if len(listed) > 20 else "")
        )


#: The tables whose rows name a patient an import may not have listed yet.
PATIENT_ROW_TABLES = ("observations", "conditions", "medications", "allergies", "procedures", "immunizations")


def add_missing_patients(con: duckdb.DuckDBPyConnection, import_id: int, table: str = "observations") -> None:
    """People this import's rows of ``table`` name but patients does not list (yet): listed by id, so their rows
    are findable; a later patients file fills in the rest. The distinct ids first, then the ones not listed:
    DuckDB then checks each person once, not each of their rows (seven times faster on a million readings)."""
    assert table in PATIENT_ROW_TABLES, table
    con.execute(
        f"""
        INSERT INTO patients (patient_id, import_id)
        SELECT patient_id, ? FROM (SELECT DISTINCT patient_id FROM {table} WHERE import_id = ?) x
        WHERE NOT EXISTS (SELECT 1 FROM patients p WHERE p.patient_id = x.patient_id)
        """,
        [import_id, import_id],
    )


def reader_rejects(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Lines DuckDB's reader could not split into the header's columns (ragged, bad quoting)."""
    try:
        rows = con.execute(f"SELECT DISTINCT line, error_message FROM {REJECTS_TABLE} ORDER BY line").fetchall()
    except duckdb.CatalogException:
        return {}
    return {int(line): f"malformed line: {message}" for line, message in rows}


def record_lines(records: list[tuple[int, str]], skipped_lines: list[int]) -> list[tuple[int, str]]:
    """Record numbers to file lines: the header is line 1, and lines the reader skipped (blank or
    malformed) shift the rest. ``skipped_lines`` must be sorted."""
    out = []
    for record, reason in sorted(records):
        line = record + 1
        for s in skipped_lines:
            if s <= line:
                line += 1
        out.append((line, reason))
    return out


def clear_reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    for table in (REJECTS_TABLE, "vs_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
