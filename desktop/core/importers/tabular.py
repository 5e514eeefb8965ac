"""CSVs read through a column mapping: the wide admissions file, the long file, a snapshot (one row per patient,
one date for the file) and any other layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb

from desktop.core.clinical.measurements import load_catalog
from desktop.core.importers.mapping import FILE_MODIFIED, ColumnMapping
from desktop.core.importers.observations import REJECT, RowResult, add_missing_patients, import_observations
from desktop.core.importers.present import PRESENT_KEYS, settle_present_rows
from desktop.core.importers.rows import (
    RowsOf,
    age_years_sql,
    insert_conditions,
    row_problems,
    rows_result,
)
from desktop.core.importers.sniff import CsvFacts
from desktop.core.importers.sql import ident, literal, read_csv_sql, timestamp_sql


def _sex_sql(expr: str) -> str:
    return (
        f"CASE upper(trim({expr})) WHEN 'F' THEN 'F' WHEN 'FEMALE' THEN 'F' WHEN 'W' THEN 'F' WHEN 'WOMAN' THEN 'F' "
        f"WHEN 'M' THEN 'M' WHEN 'MALE' THEN 'M' WHEN 'MAN' THEN 'M' END"
    )


def _title_case_sql(expr: str) -> str:
    """'andrEw waTtS' -> 'Andrew Watts' (the Kaggle file's names come in random case)."""
    words = f"string_split(regexp_replace(lower(trim({expr})), '\\s+', ' ', 'g'), ' ')"
    return f"array_to_string(list_transform({words}, w -> upper(w[1]) || w[2:]), ' ')"


def _col(name: str | None) -> str:
    return f"s.{ident(name)}" if name else "NULL"


def _lit(text: str | None) -> str:
    return "NULL" if text is None else literal(text)


def _patient_id_sql(mapping: ColumnMapping) -> str:
    if not mapping.patient_is_name:
        return f"nullif(trim({_col(mapping.patient)}), '')"
    # No id in the file: the same name and sex is the same person (names are compared case-blind).
    name = f"regexp_replace(lower(trim({_col(mapping.patient)})), '\\s+', ' ', 'g')"
    sex = _sex_sql(_col(mapping.sex)) if mapping.sex else "''"
    return f"CASE WHEN coalesce({name}, '') = '' THEN NULL ELSE 'P-' || substr(md5({name} || '|' || coalesce({sex}, '')), 1, 12) END"


def import_mapped_file(
    con: duckdb.DuckDBPyConnection, facts: CsvFacts, mapping: ColumnMapping, import_id: int, *,
    update_existing: bool = False,
) -> RowResult:
    """Import one file through ``mapping``. The counts are of the file's rows (a wide row holds many values):
    a row is rejected when any of its values is, naming each problem; its other values are still stored.
    A row whose every value the workspace already held is counted as already present, so accepted + rejected
    + already present = the file's rows."""
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    day = mapping.observed_date(_modified_on(facts.path))
    if day is None:
        observed_at = timestamp_sql(_col(mapping.time), mapping.time_format)
        time_text = _col(mapping.time)
    else:  # a snapshot: every row was observed on that one day
        observed_at, time_text = f"TIMESTAMP {literal(day.isoformat())}", literal(day.isoformat())
    rows = RowsOf(reader, _patient_id_sql(mapping), observed_at, time_text)
    has_demographics = any((mapping.name, mapping.sex, mapping.age, mapping.birth_date))
    if has_demographics:
        _insert_patients(con, rows, mapping, import_id)

    if mapping.measurements:
        result = import_observations(con, _wide_source(rows, mapping), import_id)
    elif mapping.one_value_per_row:
        result = import_observations(con, _long_source(rows, mapping), import_id, by_name=True)
    else:
        result = RowResult()
    present = settle_present_rows(con, import_id, update_existing=update_existing, keep_keys=True)
    observations = result.accepted - (present.total - present.updated)  # the file's copies of unchanged ones went
    mapped_conditions = bool(mapping.conditions or mapping.condition)
    conditions = insert_conditions(con, rows, mapping, import_id) if mapped_conditions else None
    if not has_demographics:
        add_missing_patients(con, import_id)  # ids only: cheaper from the stored rows than the file
    add_missing_patients(con, import_id, "conditions")  # a snapshot row with a condition and no readings
    problems = row_problems(con, rows, mapping)
    if mapping.one_value_per_row and not problems:
        rows_present = present.total  # a row is one reading
    else:
        rejected = {rn for rn, _ in result.rejected_records} | {rn for rn, _ in problems}
        rows_present = _rows_present(con, rows, import_id, rejected) if present.total else 0
    counted = rows_result(
        con, rows, result, problems, observations=observations, conditions=conditions,
        day=day, from_file_date=mapping.observed_on == FILE_MODIFIED,
        one_value_per_row=mapping.one_value_per_row, rows_present=rows_present,
    )
    counted.settled = present
    con.execute(f"DROP TABLE IF EXISTS {PRESENT_KEYS}")
    return counted


def _rows_present(con: duckdb.DuckDBPyConnection, rows: RowsOf, import_id: int, rejected: set[int]) -> int:
    """Rows not rejected whose every value was already in the workspace: at least one of its readings was
    found present, and none of this import's readings at its patient and time is new."""
    con.execute("CREATE OR REPLACE TEMP TABLE vs_rejected_rows (rn BIGINT)")
    if rejected:
        con.execute("INSERT INTO vs_rejected_rows SELECT unnest(?)", [sorted(rejected)])
    found = con.execute(
        f"""SELECT count(*) FROM (SELECT {rows.select(True)} FROM {rows.reader} s) r
        WHERE r.rn NOT IN (SELECT rn FROM vs_rejected_rows)
          AND EXISTS (SELECT 1 FROM {PRESENT_KEYS} k WHERE k.patient_id = r.patient_id
                      AND k.observed_at = r.observed_at)
          AND NOT EXISTS (SELECT 1 FROM observations o WHERE o.import_id = ? AND o.patient_id = r.patient_id
                          AND o.observed_at = r.observed_at
                          AND NOT EXISTS (SELECT 1 FROM {PRESENT_KEYS} k WHERE k.patient_id = o.patient_id
                                          AND k.observed_at = o.observed_at AND k.code = o.code))""",
        [import_id],
    ).fetchone()
    con.execute("DROP TABLE vs_rejected_rows")
    return int(found[0]) if found else 0


def _modified_on(path: Path) -> date:
    """The file's modification date (the local calendar day): a snapshot's date when none is given."""
    return datetime.fromtimestamp(path.stat().st_mtime).date()


def _wide_source(rows: RowsOf, mapping: ColumnMapping) -> Callable[[bool], str]:
    catalog = load_catalog()
    parts: dict[tuple[str, str], int] = {}  # (column, separator) -> how many values its cells hold
    for m in mapping.measurements:
        if m.split is not None and m.part is not None:
            parts[(m.column, m.split)] = max(parts.get((m.column, m.split), 0), m.part)
    keyed = []
    for i, m in enumerate(mapping.measurements):
        known = catalog.by_name(m.measurement) or catalog.by_code(m.measurement)
        code = known.code if known else m.measurement
        unit = m.unit if m.unit is not None else (known.unit if known else None)
        # An unknown measurement is described by its name, or by its column when it is given as a bare code.
        bare_code = re.fullmatch(r"[0-9]+-[0-9]", m.measurement.strip())
        description = None if known else (m.column if bare_code else m.measurement)
        row = [literal(f"m{i}"), literal(code), _lit(unit), _lit(description), _lit("text" if m.text else None),
               _lit(m.split), str(m.part or 0), str(parts.get((m.column, m.split or ""), 0)), literal(m.column)]
        keyed.append((f"m{i}", m.column, "(" + ", ".join(row) + ")"))
    picks = ", ".join(f"{_col(column)} AS {key}" for key, column, _ in keyed)
    values = ", ".join(row for _, _, row in keyed)
    # A split cell ("120/80") must hold exactly as many values as the mapping takes from it.
    not_split = (
        f"{literal(REJECT)} || mc.col || ' ' || chr(39) || u.value_text || chr(39) || ' is not ' || mc.parts "
        f"|| ' values separated by ' || chr(39) || mc.sep || chr(39)"
    )

    def source(with_line: bool) -> str:
        return f"""
        SELECT u.rn, u.patient_id, u.observed_at, u.time_text, mc.code AS code_in,
               CASE WHEN mc.sep IS NULL THEN u.value_text
                    ELSE nullif(trim(split_part(u.value_text, mc.sep, mc.part)), '') END AS value_text,
               mc.unit AS unit_text,
               CASE WHEN mc.sep IS NOT NULL AND len(string_split(u.value_text, mc.sep)) <> mc.parts
                    THEN {not_split} ELSE mc.value_type END AS value_type,
               NULL AS encounter_id, mc.description AS description, NULL AS category
        FROM (SELECT {rows.select(with_line)}, {picks} FROM {rows.reader} s)
          UNPIVOT (value_text FOR mkey IN ({", ".join(k for k, _, _ in keyed)})) u
        JOIN (VALUES {values}) mc(mkey, code, unit, description, value_type, sep, part, parts, col)
          ON mc.mkey = u.mkey
        """

    return source


def _long_source(rows: RowsOf, mapping: ColumnMapping) -> Callable[[bool], str]:
    def source(with_line: bool) -> str:
        return f"""
        SELECT {rows.select(with_line)}, {_col(mapping.measurement)} AS code_in,
               {_col(mapping.value)} AS value_text, {_col(mapping.unit)} AS unit_text, NULL AS value_type,
               NULL AS encounter_id, {_col(mapping.measurement)} AS description, NULL AS category
        FROM {rows.reader} s
        """

    return source


def _insert_patients(con: duckdb.DuckDBPyConnection, rows: RowsOf, mapping: ColumnMapping, import_id: int) -> None:
    name = _title_case_sql(_col(mapping.name)) if mapping.name else "NULL"
    sex = _sex_sql(_col(mapping.sex)) if mapping.sex else "NULL"
    if mapping.birth_date:
        birth, estimated = f"TRY_CAST(trim({_col(mapping.birth_date)}) AS DATE)", "false"
    elif mapping.age:
        # A file gives the age on the row's day (an admission, a snapshot), not a birth date. We store what
        # that honestly implies: a birth date marked estimated (shown as an approximate age), in the middle of
        # the year of birthdays the age allows. The age on the row's day is then exactly the file's, at any
        # later day it is off by at most six months, and age-dependent ranges and scores still work. Keeping
        # the age alone would leave every later age unknown; the earliest or latest possible birthday would
        # be off by up to a whole year.
        age = age_years_sql(_col(mapping.age))
        birth, estimated = f"CAST({rows.observed_at} AS DATE) - to_years({age}) - to_months(6)", "true"
    else:
        birth, estimated = "NULL::DATE", "false"
    con.execute(
        f"""
        INSERT INTO patients (patient_id, name, sex, birth_date, birth_date_estimated, import_id)
        SELECT patient_id, any_value(name), any_value(sex), CAST(arg_max(birth, observed_at) AS DATE),
               {estimated}, {import_id}
        FROM (SELECT {rows.patient_id} AS patient_id, {name} AS name, {sex} AS sex, {birth} AS birth,
                     {rows.observed_at} AS observed_at FROM {rows.reader} s)
        WHERE patient_id IS NOT NULL
        GROUP BY patient_id
        ON CONFLICT (patient_id) DO UPDATE SET
          name = coalesce(excluded.name, patients.name), sex = coalesce(excluded.sex, patients.sex),
          birth_date = coalesce(excluded.birth_date, patients.birth_date),
          birth_date_estimated = CASE WHEN excluded.birth_date IS NULL THEN patients.birth_date_estimated
                                      ELSE excluded.birth_date_estimated END
        """
    )
