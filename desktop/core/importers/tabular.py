"""CSVs read through a column mapping: the wide admissions file, the long file, and any other layout."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from desktop.core.clinical.measurements import load_catalog
from desktop.core.importers.mapping import ColumnMapping
from desktop.core.importers.observations import RowResult, add_missing_patients, import_observations
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


def _patient_id_sql(mapping: ColumnMapping) -> str:
    if not mapping.patient_is_name:
        return f"nullif(trim({_col(mapping.patient)}), '')"
    # No id in the file: the same name and sex is the same person (names are compared case-blind).
    name = f"regexp_replace(lower(trim({_col(mapping.patient)})), '\\s+', ' ', 'g')"
    sex = _sex_sql(_col(mapping.sex)) if mapping.sex else "''"
    return f"CASE WHEN coalesce({name}, '') = '' THEN NULL ELSE 'P-' || substr(md5({name} || '|' || coalesce({sex}, '')), 1, 12) END"


def import_mapped_file(
    con: duckdb.DuckDBPyConnection, facts: CsvFacts, mapping: ColumnMapping, import_id: int
) -> RowResult:
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    patient_id = _patient_id_sql(mapping)
    observed_at = timestamp_sql(_col(mapping.time), mapping.time_format)
    has_demographics = any((mapping.name, mapping.sex, mapping.age, mapping.birth_date))
    if has_demographics:
        _insert_patients(con, reader, mapping, patient_id, observed_at, import_id)

    if mapping.measurements:
        source = _wide_source(reader, mapping, patient_id, observed_at)
        result = import_observations(con, source, import_id)
    else:
        source = _long_source(reader, mapping, patient_id, observed_at)
        result = import_observations(con, source, import_id, by_name=True)
    if not has_demographics:
        add_missing_patients(con, import_id)  # ids only: cheaper from the stored rows than the file
    if mapping.condition:
        _insert_conditions(con, reader, mapping, patient_id, observed_at, import_id)
    return result


def _wide_source(reader: str, mapping: ColumnMapping, patient_id: str, observed_at: str) -> Callable[[bool], str]:
    catalog = load_catalog()
    keyed = []
    for i, m in enumerate(mapping.measurements):
        known = catalog.by_name(m.measurement) or catalog.by_code(m.measurement)
        code = known.code if known else m.measurement
        unit = m.unit if m.unit is not None else (known.unit if known else None)
        keyed.append((f"m{i}", m.column, code, unit))
    picks = ", ".join(f"{_col(column)} AS {key}" for key, column, _, _ in keyed)
    values = ", ".join(
        f"({literal(key)}, {literal(code)}, {literal(unit) if unit is not None else 'NULL'})" for key, _, code, unit in keyed
    )

    def source(with_line: bool) -> str:
        rn = "row_number() OVER ()" if with_line else "NULL::BIGINT"
        return f"""
        SELECT u.rn, u.patient_id, u.observed_at, u.time_text, mc.code AS code_in,
               u.value_text, mc.unit AS unit_text, NULL AS value_type, NULL AS encounter_id,
               NULL AS description, NULL AS category
        FROM (
          SELECT {rn} AS rn, {patient_id} AS patient_id, {observed_at} AS observed_at,
                 {_col(mapping.time)} AS time_text, {picks}
          FROM {reader} s
        ) UNPIVOT (value_text FOR mkey IN ({", ".join(k for k, _, _, _ in keyed)})) u
        JOIN (VALUES {values}) mc(mkey, code, unit) ON mc.mkey = u.mkey
        """

    return source


def _long_source(reader: str, mapping: ColumnMapping, patient_id: str, observed_at: str) -> Callable[[bool], str]:
    def source(with_line: bool) -> str:
        rn = "row_number() OVER ()" if with_line else "NULL::BIGINT"
        return f"""
        SELECT {rn} AS rn, {patient_id} AS patient_id, {observed_at} AS observed_at,
               {_col(mapping.time)} AS time_text, {_col(mapping.measurement)} AS code_in,
               {_col(mapping.value)} AS value_text, {_col(mapping.unit)} AS unit_text, NULL AS value_type,
               NULL AS encounter_id, {_col(mapping.measurement)} AS description, NULL AS category
        FROM {reader} s
        """

    return source


def _insert_patients(
    con: duckdb.DuckDBPyConnection, reader: str, mapping: ColumnMapping, patient_id: str, observed_at: str,
    import_id: int,
) -> None:
    name = _title_case_sql(_col(mapping.name)) if mapping.name else "NULL"
    sex = _sex_sql(_col(mapping.sex)) if mapping.sex else "NULL"
    if mapping.birth_date:
        birth, estimated = f"TRY_CAST(trim({_col(mapping.birth_date)}) AS DATE)", "false"
    elif mapping.age:
        # An admission file gives the age on that day; the birth date is estimated from the latest one.
        age = f"TRY_CAST(trim({_col(mapping.age)}) AS INTEGER)"
        birth, estimated = f"CAST({observed_at} AS DATE) - to_years({age})", "true"
    else:
        birth, estimated = "NULL::DATE", "false"
    con.execute(
        f"""
        INSERT INTO patients (patient_id, name, sex, birth_date, birth_date_estimated, import_id)
        SELECT patient_id, any_value(name), any_value(sex), CAST(arg_max(birth, observed_at) AS DATE),
               {estimated}, {import_id}
        FROM (SELECT {patient_id} AS patient_id, {name} AS name, {sex} AS sex, {birth} AS birth,
                     {observed_at} AS observed_at FROM {reader} s)
        WHERE patient_id IS NOT NULL
        GROUP BY patient_id
        ON CONFLICT (patient_id) DO UPDATE SET
          name = coalesce(excluded.name, patients.name), sex = coalesce(excluded.sex, patients.sex),
          birth_date = coalesce(excluded.birth_date, patients.birth_date),
          birth_date_estimated = CASE WHEN excluded.birth_date IS NULL THEN patients.birth_date_estimated
                                      ELSE excluded.birth_date_estimated END
        """
    )


def _insert_conditions(
    con: duckdb.DuckDBPyConnection, reader: str, mapping: ColumnMapping, patient_id: str, observed_at: str,
    import_id: int,
) -> None:
    con.execute(
        f"""
        INSERT INTO conditions (patient_id, onset, code, code_system, description, import_id)
        SELECT patient_id, min(CAST(observed_at AS DATE)), NULL, NULL, description, {import_id}
        FROM (SELECT {patient_id} AS patient_id, {observed_at} AS observed_at,
                     nullif(trim({_col(mapping.condition)}), '') AS description FROM {reader} s) c
        WHERE patient_id IS NOT NULL AND description IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM conditions k WHERE k.patient_id = c.patient_id
                          AND lower(k.description) = lower(c.description))
        GROUP BY patient_id, description
        """
    )
