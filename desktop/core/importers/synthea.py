"""Synthea CSV exports, across versions: columns are found by name, never by position.

Handles observations with and without CATEGORY, conditions with and without SYSTEM, patients with and
without MIDDLE/FIPS/INCOME; VALUE is cast only where TYPE is numeric; blood pressure arrives as two rows.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from desktop.core.importers.entities import KeyedTable, stage_and_insert
from desktop.core.importers.observations import RowResult, add_missing_patients, import_observations
from desktop.core.importers.sniff import CsvFacts
from desktop.core.importers.sql import ident, read_csv_sql, timestamp_sql
from desktop.core.importers.synthea_history import (
    HISTORY_IMPORTERS,
    import_allergies_file,
    is_older_allergies_file,
)

REQUIRED = {
    "synthea-patients": {"id", "birthdate", "first", "last", "gender"},
    "synthea-encounters": {"id", "start", "patient", "encounterclass"},
    "synthea-conditions": {"start", "patient", "code", "description"},
    "synthea-observations": {"date", "patient", "code", "value", "units", "type"},
}

# Order matters inside a folder: patients first, so observations attach to real people.
FOLDER_ORDER = ("synthea-patients", "synthea-encounters", "synthea-conditions", "synthea-observations",
                *HISTORY_IMPORTERS)


class _Columns:
    """Header lookup by case-insensitive name; absent optional columns read as NULL."""

    def __init__(self, header: list[str]) -> None:
        self._by_lower = {h.lower(): h for h in header}

    def __call__(self, name: str) -> str:
        actual = self._by_lower.get(name.lower())
        return f"s.{ident(actual)}" if actual else "NULL"


def _rn(with_line: bool) -> str:
    return "row_number() OVER ()" if with_line else "NULL::BIGINT"


def import_observations_file(con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int) -> RowResult:
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)

    def source(with_line: bool) -> str:
        return f"""
        SELECT {_rn(with_line)} AS rn, nullif(trim({col('PATIENT')}), '') AS patient_id,
               {timestamp_sql(col('DATE'))} AS observed_at, {col('DATE')} AS time_text,
               {col('CODE')} AS code_in, {col('VALUE')} AS value_text,
               {col('UNITS')} AS unit_text, lower(trim({col('TYPE')})) AS value_type,
               nullif({col('ENCOUNTER')}, '') AS encounter_id, {col('DESCRIPTION')} AS description,
               nullif({col('CATEGORY')}, '') AS category
        FROM {reader} s
        """

    result = import_observations(con, source, import_id)
    add_missing_patients(con, import_id)
    return result


def _clean_name(expr: str) -> str:
    """Synthea appends digits to names (Eustolia154); a clinician should read Eustolia."""
    return f"nullif(trim(regexp_replace(coalesce({expr}, ''), '[0-9]+$', '')), '')"


def import_patients_file(
    con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int, *, update_existing: bool = False
) -> RowResult:
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    select_sql = f"""
        SELECT row_number() OVER () AS rn, trim({col('Id')}) AS patient_id,
          concat_ws(' ', {_clean_name(col('PREFIX'))}, {_clean_name(col('FIRST'))}, {_clean_name(col('MIDDLE'))},
                    {_clean_name(col('LAST'))}) AS name,
          CASE upper(trim({col('GENDER')})) WHEN 'F' THEN 'F' WHEN 'M' THEN 'M' END AS sex,
          {col('BIRTHDATE')} AS birth_text, TRY_CAST(trim({col('BIRTHDATE')}) AS DATE) AS birth_date,
          {col('DEATHDATE')} AS death_text, TRY_CAST(trim({col('DEATHDATE')}) AS DATE) AS death_date
        FROM {reader} s
    """
    reason = """CASE
        WHEN patient_id IS NULL OR patient_id = '' THEN 'patient Id is empty'
        WHEN birth_date IS NULL THEN 'BIRTHDATE ''' || coalesce(birth_text, '') || ''' is not a date'
        WHEN death_date IS NULL AND coalesce(trim(death_text), '') <> '' THEN 'DEATHDATE ''' || death_text || ''' is not a date'
        WHEN count(*) OVER (PARTITION BY patient_id) > 1 AND rn <> max(rn) OVER (PARTITION BY patient_id)
          THEN 'patient ' || patient_id || ' appears again further down; the last row is kept'
      END"""
    insert_sql = f"""
        INSERT INTO patients (patient_id, name, sex, birth_date, birth_date_estimated, death_date, import_id)
        SELECT patient_id, name, sex, birth_date, false, death_date, {import_id} FROM vs_ok
        ON CONFLICT (patient_id) DO UPDATE SET name = excluded.name, sex = excluded.sex,
          birth_date = excluded.birth_date, birth_date_estimated = false, death_date = excluded.death_date
    """
    # A patient known only from observations (no name, no birth date) is filled in, not "already present".
    keyed = KeyedTable("patients", "patient_id", {"name": "name", "sex": "sex", "birth_date": "birth_date",
                                                  "death_date": "death_date"},
                       placeholder="t.name IS NULL AND t.birth_date IS NULL")
    return stage_and_insert(con, select_sql=select_sql, reason_sql=reason, insert_sql=insert_sql, keyed=keyed,
                            update_existing=update_existing)


def import_conditions_file(con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int) -> RowResult:
    if is_older_allergies_file(facts.path):
        result = import_allergies_file(con, facts, import_id)
        result.notes.append("an older Synthea allergies file (the conditions header): stored as allergies")
        return result
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    select_sql = f"""
        SELECT row_number() OVER () AS rn, trim({col('PATIENT')}) AS patient_id,
          {col('START')} AS start_text, TRY_CAST(TRY_CAST(trim({col('START')}) AS TIMESTAMP) AS DATE) AS onset,
          TRY_CAST(TRY_CAST(trim({col('STOP')}) AS TIMESTAMP) AS DATE) AS resolved,
          trim({col('CODE')}) AS code, nullif(trim({col('SYSTEM')}), '') AS code_system,
          trim({col('DESCRIPTION')}) AS description, nullif({col('ENCOUNTER')}, '') AS encounter_id
        FROM {reader} s
    """
    reason = """CASE
        WHEN patient_id IS NULL OR patient_id = '' THEN 'PATIENT is empty'
        WHEN onset IS NULL THEN 'START ''' || coalesce(start_text, '') || ''' is not a date'
        WHEN description IS NULL OR description = '' THEN 'DESCRIPTION is empty'
      END"""
    insert_sql = f"""
        INSERT INTO conditions (patient_id, onset, resolved, code, code_system, description, encounter_id, import_id)
        SELECT patient_id, onset, resolved, code, coalesce(code_system, 'SNOMED-CT'), description, encounter_id,
               {import_id} FROM vs_ok
    """
    result = stage_and_insert(con, select_sql=select_sql, reason_sql=reason, insert_sql=insert_sql)
    add_missing_patients(con, import_id, "conditions")
    return result


def import_encounters_file(
    con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int, *, update_existing: bool = False
) -> RowResult:
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    select_sql = f"""
        SELECT row_number() OVER () AS rn, trim({col('Id')}) AS encounter_id, trim({col('PATIENT')}) AS patient_id,
          {col('START')} AS start_text, {timestamp_sql(col('START'))} AS started_at,
          {timestamp_sql(col('STOP'))} AS ended_at, {col('ENCOUNTERCLASS')} AS encounter_class,
          {col('CODE')} AS code, {col('DESCRIPTION')} AS description,
          nullif({col('REASONDESCRIPTION')}, '') AS reason_text
        FROM {reader} s
    """
    reason = """CASE
        WHEN encounter_id IS NULL OR encounter_id = '' THEN 'encounter Id is empty'
        WHEN patient_id IS NULL OR patient_id = '' THEN 'PATIENT is empty'
        WHEN started_at IS NULL THEN 'START ''' || coalesce(start_text, '') || ''' is not a date'
        WHEN rn <> min(rn) OVER (PARTITION BY encounter_id) THEN 'encounter ' || encounter_id || ' appears twice'
      END"""
    insert_sql = f"""
        INSERT INTO encounters (encounter_id, patient_id, started_at, ended_at, encounter_class, code,
                                description, reason, import_id)
        SELECT encounter_id, patient_id, started_at, ended_at, encounter_class, code, description, reason_text,
               {import_id} FROM vs_ok
        ON CONFLICT (encounter_id) DO NOTHING
    """
    keyed = KeyedTable("encounters", "encounter_id", {
        "patient_id": "patient_id", "started_at": "started_at", "ended_at": "ended_at",
        "encounter_class": "encounter_class", "code": "code", "description": "description", "reason": "reason_text"})
    return stage_and_insert(con, select_sql=select_sql, reason_sql=reason, insert_sql=insert_sql, keyed=keyed,
                            update_existing=update_existing)


#: importers of files whose rows carry an Id: they settle rows already present themselves
KEYED_IMPORTERS = {"synthea-patients", "synthea-encounters"}

#: format -> importer(con, facts, import_id); the keyed ones also take ``update_existing=``
IMPORTERS: dict[str, Callable[..., RowResult]] = {
    "synthea-patients": import_patients_file,
    "synthea-encounters": import_encounters_file,
    "synthea-conditions": import_conditions_file,
    "synthea-observations": import_observations_file,
    **HISTORY_IMPORTERS,
}
