"""Synthea medications, allergies, procedures and immunizations: what a patient takes, reacts to, and had done.

Columns are found by name, so every Synthea version reads: older procedures.csv has one DATE where newer
ones have START and STOP; older medications.csv has COST where newer ones have BASE_COST (neither is kept);
older allergies.csv has exactly the conditions header (see :func:`is_older_allergies_file`). Every row is
stored, rejected with its line and reason, or counted as already present (a re-import of a corrected export:
:data:`HISTORY_NATURAL_KEYS`), like the other Synthea files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from desktop.core.importers.entities import stage_and_insert
from desktop.core.importers.observations import RowResult, add_missing_patients
from desktop.core.importers.present import NaturalKey
from desktop.core.importers.sniff import CsvFacts
from desktop.core.importers.sql import ident, read_csv_sql, timestamp_sql

#: Columns each file must have (lower case); the header decides the format, never the file name.
HISTORY_REQUIRED = {
    "synthea-medications": {"start", "patient", "code", "description", "dispenses"},
    "synthea-allergies": {"start", "patient", "code", "description", "reaction1"},
    "synthea-procedures": {"patient", "encounter", "code", "description", "reasoncode"},
    "synthea-immunizations": {"date", "patient", "encounter", "code", "description"},
}
#: Columns that say a file is another Synthea file with the same required ones (careplans, devices, supplies,
#: imaging studies: those stay "recognised, not used"; an observations file that lost a column: that one is
#: reported as the observations file it nearly is).
_OBSERVATION_COLUMNS = {"value", "units"}  # (allergies have a TYPE of their own)
HISTORY_EXCLUDED = {
    "synthea-medications": {"id"} | _OBSERVATION_COLUMNS,
    "synthea-allergies": {"id"} | _OBSERVATION_COLUMNS,
    "synthea-procedures": {"id", "dispenses", "udi", "quantity"} | _OBSERVATION_COLUMNS,
    "synthea-immunizations": {"id", "reasoncode", "quantity", "udi"} | _OBSERVATION_COLUMNS,
}


def history_kind(cols: set[str]) -> str | None:
    """Which of the four files a header (lower-cased column names) is, or None."""
    for name, required in HISTORY_REQUIRED.items():
        if required <= cols and not HISTORY_EXCLUDED[name] & cols:
            if name == "synthea-procedures" and not {"start", "date"} & cols:
                continue
            return name
    return None


def is_older_allergies_file(path: Path) -> bool:
    """Synthea before 3.0 wrote allergies.csv with the conditions header (START, STOP, PATIENT, ENCOUNTER, CODE,
    DESCRIPTION): no column tells them apart, so only here, where the header cannot decide, the export's own
    file name does."""
    return path.stem.strip().lower() in ("allergies", "allergy")


class _Columns:
    """Header lookup by case-insensitive name; absent optional columns read as NULL."""

    def __init__(self, header: list[str]) -> None:
        self._by_lower = {h.lower(): h for h in header}

    def __call__(self, *names: str) -> str:
        """The first of ``names`` the file has (DATE for an older START), else NULL."""
        for name in names:
            actual = self._by_lower.get(name.lower())
            if actual:
                return f"s.{ident(actual)}"
        return "NULL"


# Staged columns never use the name "reason": stage_and_insert adds that column for the rejection.
def _text(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def _date_reasons(column: str, text: str, parsed: str, *, required: bool) -> str:
    """The CASE branches for a date column: missing (when required) or not a date."""
    out = f"WHEN {parsed} IS NULL AND coalesce(trim({text}), '') <> '' THEN '{column} ''' || {text} || ''' is not a date'\n"
    if required:
        out += f"WHEN {parsed} IS NULL THEN '{column} is empty'\n"
    return out


def import_medications_file(con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int) -> RowResult:
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    select_sql = f"""
        SELECT row_number() OVER () AS rn, trim({col('PATIENT')}) AS patient_id,
          {col('START')} AS start_text, {timestamp_sql(col('START'))} AS started_at,
          {col('STOP')} AS stop_text, {timestamp_sql(col('STOP'))} AS stopped_at,
          {_text(col('CODE'))} AS code, {_text(col('DESCRIPTION'))} AS description,
          {col('DISPENSES')} AS dispenses_text, TRY_CAST(trim({col('DISPENSES')}) AS INTEGER) AS dispenses,
          {_text(col('REASONCODE'))} AS reason_code, {_text(col('REASONDESCRIPTION'))} AS reason_text,
          {_text(col('ENCOUNTER'))} AS encounter_id
        FROM {reader} s
    """
    reason = f"""CASE
        WHEN patient_id IS NULL OR patient_id = '' THEN 'PATIENT is empty'
        {_date_reasons('START', 'start_text', 'started_at', required=True)}
        {_date_reasons('STOP', 'stop_text', 'stopped_at', required=False)}
        WHEN stopped_at < started_at THEN 'STOP ' || trim(stop_text) || ' is before START ' || trim(start_text)
        WHEN description IS NULL THEN 'DESCRIPTION is empty'
        WHEN dispenses IS NULL AND coalesce(trim(dispenses_text), '') <> ''
          THEN 'DISPENSES ''' || dispenses_text || ''' is not a whole number'
      END"""
    insert_sql = f"""
        INSERT INTO medications (patient_id, started_at, stopped_at, code, description, dispenses, reason_code,
                                 reason, encounter_id, import_id)
        SELECT patient_id, started_at, stopped_at, code, description, dispenses, reason_code, reason_text,
               encounter_id, {import_id} FROM vs_ok
    """
    result = stage_and_insert(con, select_sql=select_sql, reason_sql=reason, insert_sql=insert_sql)
    add_missing_patients(con, import_id, "medications")
    return result


def import_allergies_file(con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int) -> RowResult:
    """Newer layout with TYPE, CATEGORY and up to two reactions with severities; older with none of them."""
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    select_sql = f"""
        SELECT row_number() OVER () AS rn, trim({col('PATIENT')}) AS patient_id,
          {col('START')} AS start_text, TRY_CAST({timestamp_sql(col('START'))} AS DATE) AS recorded_on,
          {col('STOP')} AS stop_text, TRY_CAST({timestamp_sql(col('STOP'))} AS DATE) AS resolved_on,
          {_text(col('CODE'))} AS code, {_text(col('SYSTEM'))} AS code_system,
          {_text(col('DESCRIPTION'))} AS description, lower({_text(col('TYPE'))}) AS allergy_type,
          lower({_text(col('CATEGORY'))}) AS category,
          {_text(col('DESCRIPTION1'))} AS reaction1, upper({_text(col('SEVERITY1'))}) AS severity1,
          {_text(col('DESCRIPTION2'))} AS reaction2, upper({_text(col('SEVERITY2'))}) AS severity2,
          {_text(col('ENCOUNTER'))} AS encounter_id
        FROM {reader} s
    """
    reason = f"""CASE
        WHEN patient_id IS NULL OR patient_id = '' THEN 'PATIENT is empty'
        {_date_reasons('START', 'start_text', 'recorded_on', required=True)}
        {_date_reasons('STOP', 'stop_text', 'resolved_on', required=False)}
        WHEN resolved_on < recorded_on THEN 'STOP ' || trim(stop_text) || ' is before START ' || trim(start_text)
        WHEN description IS NULL THEN 'DESCRIPTION is empty'
      END"""
    insert_sql = f"""
        INSERT INTO allergies (patient_id, recorded_on, resolved_on, code, code_system, description, allergy_type,
                               category, reaction1, severity1, reaction2, severity2, encounter_id, import_id)
        SELECT patient_id, recorded_on, resolved_on, code, code_system, description, allergy_type, category,
               reaction1, severity1, reaction2, severity2, encounter_id, {import_id} FROM vs_ok
    """
    result = stage_and_insert(con, select_sql=select_sql, reason_sql=reason, insert_sql=insert_sql)
    add_missing_patients(con, import_id, "allergies")
    return result


def import_procedures_file(con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int) -> RowResult:
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    start = col("START", "DATE")
    start_name = "START" if start != col("DATE") else "DATE"
    select_sql = f"""
        SELECT row_number() OVER () AS rn, trim({col('PATIENT')}) AS patient_id,
          {start} AS start_text, {timestamp_sql(start)} AS started_at,
          {col('STOP')} AS stop_text, {timestamp_sql(col('STOP'))} AS stopped_at,
          {_text(col('CODE'))} AS code, {_text(col('SYSTEM'))} AS code_system,
          {_text(col('DESCRIPTION'))} AS description, {_text(col('REASONDESCRIPTION'))} AS reason_text,
          {_text(col('ENCOUNTER'))} AS encounter_id
        FROM {reader} s
    """
    reason = f"""CASE
        WHEN patient_id IS NULL OR patient_id = '' THEN 'PATIENT is empty'
        {_date_reasons(start_name, 'start_text', 'started_at', required=True)}
        {_date_reasons('STOP', 'stop_text', 'stopped_at', required=False)}
        WHEN stopped_at < started_at THEN 'STOP ' || trim(stop_text) || ' is before START ' || trim(start_text)
        WHEN description IS NULL THEN 'DESCRIPTION is empty'
      END"""
    insert_sql = f"""
        INSERT INTO procedures (patient_id, started_at, stopped_at, code, code_system, description, reason,
                                encounter_id, import_id)
        SELECT patient_id, started_at, stopped_at, code, coalesce(code_system, 'SNOMED-CT'), description,
               reason_text, encounter_id, {import_id} FROM vs_ok
    """
    result = stage_and_insert(con, select_sql=select_sql, reason_sql=reason, insert_sql=insert_sql)
    add_missing_patients(con, import_id, "procedures")
    return result


def import_immunizations_file(con: duckdb.DuckDBPyConnection, facts: CsvFacts, import_id: int) -> RowResult:
    col = _Columns(facts.header)
    reader = read_csv_sql(facts.path, facts.header, facts.delimiter)
    select_sql = f"""
        SELECT row_number() OVER () AS rn, trim({col('PATIENT')}) AS patient_id,
          {col('DATE')} AS date_text, {timestamp_sql(col('DATE'))} AS given_at,
          {_text(col('CODE'))} AS code, {_text(col('DESCRIPTION'))} AS description,
          {_text(col('ENCOUNTER'))} AS encounter_id
        FROM {reader} s
    """
    reason = f"""CASE
        WHEN patient_id IS NULL OR patient_id = '' THEN 'PATIENT is empty'
        {_date_reasons('DATE', 'date_text', 'given_at', required=True)}
        WHEN description IS NULL THEN 'DESCRIPTION is empty'
      END"""
    insert_sql = f"""
        INSERT INTO immunizations (patient_id, given_at, code, description, encounter_id, import_id)
        SELECT patient_id, given_at, code, description, encounter_id, {import_id} FROM vs_ok
    """
    result = stage_and_insert(con, select_sql=select_sql, reason_sql=reason, insert_sql=insert_sql)
    add_missing_patients(con, import_id, "immunizations")
    return result


def _same(*columns: str) -> str:
    return " AND ".join(f"n.{c} IS NOT DISTINCT FROM s.{c}" for c in columns)


#: How a re-import (a corrected or extended export) tells a row the workspace already holds: format ->
#: (natural key, the noun the report counts, the key in words). See present.py.
HISTORY_NATURAL_KEYS: dict[str, tuple[NaturalKey, str, str]] = {
    "synthea-medications": (
        NaturalKey("medications", ("patient_id", "code", "started_at"),
                   _same("stopped_at", "description", "dispenses", "reason"), nullable_key=True),
        "medication", "same patient, code and start"),
    "synthea-allergies": (
        NaturalKey("allergies", ("patient_id", "code", "recorded_on"),
                   _same("resolved_on", "description", "reaction1", "severity1", "reaction2", "severity2"),
                   nullable_key=True),
        "allergy record", "same patient, code and start"),
    "synthea-procedures": (
        NaturalKey("procedures", ("patient_id", "code", "started_at"),
                   _same("stopped_at", "description", "reason"), nullable_key=True),
        "procedure", "same patient, code and start"),
    "synthea-immunizations": (
        NaturalKey("immunizations", ("patient_id", "code", "given_at"), _same("description"), nullable_key=True),
        "immunization", "same patient, code and date"),
}


HISTORY_IMPORTERS = {
    "synthea-medications": import_medications_file,
    "synthea-allergies": import_allergies_file,
    "synthea-procedures": import_procedures_file,
    "synthea-immunizations": import_immunizations_file,
}
