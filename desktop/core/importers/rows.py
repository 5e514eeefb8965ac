"""Row-level parts of a mapped import: yes/no condition columns, checks on a whole row, and the count of
the file's rows (accepted + rejected = rows), for files where one row holds many values (wide, snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from desktop.core.importers.mapping import ColumnMapping, ConditionColumn
from desktop.core.importers.observations import RowResult
from desktop.core.importers.sql import ident, literal, number_sql

#: Ages outside this are typing errors (an age of 200), not people.
AGE_YEARS = (0, 130)


@dataclass(frozen=True)
class RowsOf:
    """A file's rows as SQL: the reader and the expressions every part of a mapped import shares."""

    reader: str
    patient_id: str
    observed_at: str
    time_text: str

    def select(self, with_line: bool) -> str:
        """The shared columns; ``rn`` is the record number (1 = first data row) when ``with_line``."""
        rn = "row_number() OVER ()" if with_line else "NULL::BIGINT"
        return (f"{rn} AS rn, {self.patient_id} AS patient_id, {self.observed_at} AS observed_at, "
                f"{self.time_text} AS time_text")


def age_years_sql(expr: str) -> str:
    """Whole years from an age cell ("67", "67.5", "67,5"); NULL when empty or not a plausible age."""
    n = number_sql(expr)
    return f"CASE WHEN {n} BETWEEN {AGE_YEARS[0]} AND {AGE_YEARS[1]} THEN CAST(floor({n}) AS INTEGER) END"


def _values_sql(values: tuple[str, ...]) -> str:
    return ", ".join(literal(v.strip().lower()) for v in values)


def _quoted(expr: str) -> str:
    """SQL text: the cell in single quotes, as a reason shows it."""
    return f"chr(39) || trim({expr}) || chr(39)"


def _condition_problem(c: ConditionColumn) -> str:
    cell = f"s.{ident(c.column)}"
    allowed = f"{_values_sql(c.true_values)}, {_values_sql(c.false_values)}"
    words = f" is neither yes ({', '.join(c.true_values)}) nor no ({', '.join(c.false_values)})"
    return (f"CASE WHEN nullif(trim({cell}), '') IS NOT NULL AND lower(trim({cell})) NOT IN ({allowed}) "
            f"THEN {literal(c.column + ' ')} || {_quoted(cell)} || {literal(words)} END")


def row_problems(con: duckdb.DuckDBPyConnection, rows: RowsOf, mapping: ColumnMapping) -> list[tuple[int, str]]:
    """(record, reason) for what makes a whole row wrong, whatever values it holds: no patient, a bad time,
    an age that is not one, a yes/no cell that is neither. The reasons for a value (unit, plausibility) come
    from the observations path; the same words are used, so a problem found twice is said once."""
    checks = []
    # A long file's row is one value, checked on the observations path: only extra columns add checks here.
    one_value_per_row = mapping.one_value_per_row
    if not one_value_per_row:
        checks.append("CASE WHEN patient_id IS NULL THEN 'patient is empty' END")
    if mapping.time and not one_value_per_row:
        checks.append(
            "CASE WHEN observed_at IS NULL AND coalesce(trim(time_text), '') = '' THEN 'time is empty' "
            "WHEN observed_at IS NULL THEN 'time ' || chr(39) || time_text || chr(39) || ' is not a date' END"
        )
    if mapping.age:
        cell = f"s.{ident(mapping.age)}"
        words = f" is not an age in years ({AGE_YEARS[0]}-{AGE_YEARS[1]})"
        checks.append(f"CASE WHEN nullif(trim({cell}), '') IS NOT NULL AND {age_years_sql(cell)} IS NULL "
                      f"THEN {literal(mapping.age + ' ')} || {_quoted(cell)} || {literal(words)} END")
    checks += [_condition_problem(c) for c in mapping.conditions]
    if not checks:
        return []
    found = con.execute(
        f"""SELECT rn, reasons FROM (
              SELECT rn, list_filter([{", ".join(checks)}], x -> x IS NOT NULL) AS reasons
              FROM (SELECT {rows.select(True)}, s.* FROM {rows.reader} s) s)
            WHERE len(reasons) > 0 ORDER BY rn"""
    ).fetchall()
    return [(int(rn), str(reason)) for rn, reasons in found for reason in reasons]


def insert_conditions(con: duckdb.DuckDBPyConnection, rows: RowsOf, mapping: ColumnMapping, import_id: int) -> int:
    """Store the conditions the file names: a condition column's text, and each yes/no column that says yes.

    Dated by the row (a snapshot's one date): the file says the patient had it then, not when it began.
    A condition the patient already has (same name, case-blind) is not added twice.
    """
    sources = []
    base = f"SELECT {rows.patient_id} AS patient_id, {rows.observed_at} AS observed_at"
    if mapping.condition:
        sources.append(f"{base}, nullif(trim(s.{ident(mapping.condition)}), '') AS description FROM {rows.reader} s")
    for c in mapping.conditions:
        sources.append(f"{base}, {literal(c.condition)} AS description FROM {rows.reader} s "
                       f"WHERE lower(trim(s.{ident(c.column)})) IN ({_values_sql(c.true_values)})")
    if not sources:
        return 0
    inserted = con.execute(
        f"""
        INSERT INTO conditions (patient_id, onset, code, code_system, description, import_id)
        SELECT patient_id, min(CAST(observed_at AS DATE)), NULL, NULL, description, {import_id}
        FROM ({" UNION ALL ".join(sources)}) c
        WHERE patient_id IS NOT NULL AND observed_at IS NOT NULL AND description IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM conditions k WHERE k.patient_id = c.patient_id
                          AND lower(k.description) = lower(c.description))
        GROUP BY patient_id, description
        """
    ).fetchone()
    return int(inserted[0]) if inserted else 0


def rows_result(
    con: duckdb.DuckDBPyConnection, rows: RowsOf, values: RowResult, problems: list[tuple[int, str]], *,
    observations: int, conditions: int | None, day: date | None, from_file_date: bool, one_value_per_row: bool,
    rows_present: int = 0,
) -> RowResult:
    """The file's rows counted: each rejected once with all its reasons, ``rows_present`` already in the
    workspace, the rest accepted (so the three add up to the rows, by construction); the values stored, and
    a snapshot's date, said in the notes."""
    reasons: dict[int, list[str]] = {}
    for rn, reason in sorted(values.rejected_records + problems):
        if reason not in reasons.setdefault(rn, []):
            reasons[rn].append(reason)
    if one_value_per_row:  # every row gave one value, accepted or rejected: no pass over the file to count
        total = values.accepted + len({rn for rn, _ in values.rejected_records})
    else:
        total_row = con.execute(f"SELECT count(*) FROM {rows.reader}").fetchone()
        total = int(total_row[0]) if total_row else 0
    result = RowResult(malformed=values.malformed, notes=list(values.notes))
    result.rejected_records = [(rn, "; ".join(r)) for rn, r in sorted(reasons.items())]
    result.rows_present = rows_present
    result.accepted = total - len(reasons) - rows_present
    if day is not None:
        source = ("the file's modification date, as the file has no time column" if from_file_date
                  else "the one date given for this file (observed_on)")
        result.notes.append(f"every value and condition is dated {day.isoformat()}, {source}")
    if one_value_per_row and conditions is None:
        return result  # a row is a value: the counts say it all
    stored = f"{observations:,} observation{'s' if observations != 1 else ''}"
    if conditions is not None:
        stored += f" and {conditions:,} condition{'s' if conditions != 1 else ''}"
    note = f"{stored} stored from {total:,} row{'s' if total != 1 else ''}"
    if reasons and (observations or conditions) and not one_value_per_row:
        note += "; the values of a rejected row that passed their checks were stored"  # counted as rejected
    result.notes.append(note)
    return result
