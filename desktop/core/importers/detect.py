"""Which format a CSV is, from its header alone (never from its file name)."""

from __future__ import annotations

import duckdb

from desktop.core.importers.mapping import ColumnMapping, long_mapping, saved_mapping, wide_mapping
from desktop.core.importers.synthea import REQUIRED
from desktop.core.importers.synthea_history import history_kind

CONDITION_COLUMNS = {"start", "stop", "patient", "encounter", "system", "code", "description"}

# Synthea files Vitalsight does not use; recognised so that a folder import can say so plainly.
SYNTHEA_OTHER = {
    "careplans": {"id", "start", "stop", "patient", "encounter", "code", "description"},
    "organizations": {"id", "name", "address", "city", "state", "zip"},
    "providers": {"id", "organization", "name", "gender", "speciality"},
    "payers": {"id", "name", "amount_covered"},
}


def detect_format(header: list[str], con: duckdb.DuckDBPyConnection | None = None) -> tuple[str, ColumnMapping | None]:
    """The format name and, for mapped layouts, the mapping that reads it.

    Formats: synthea-patients, synthea-encounters, synthea-conditions, synthea-observations,
    synthea-medications, synthea-allergies, synthea-procedures, synthea-immunizations,
    synthea-other (recognised, not used), wide-admissions, long, mapped (a saved mapping), unknown.
    """
    cols = {h.strip().lower() for h in header}
    for name in ("synthea-observations", "synthea-patients", "synthea-encounters", "synthea-conditions"):
        if REQUIRED[name] <= cols:
            # Medications, careplans and encounters also carry START, PATIENT, CODE, DESCRIPTION:
            # a conditions file has nothing beyond its own columns.
            if name == "synthea-conditions" and not cols <= CONDITION_COLUMNS:
                continue
            return name, None
    history = history_kind(cols)
    if history is not None:
        return history, None
    for required in SYNTHEA_OTHER.values():
        if required <= cols:
            return "synthea-other", None
    wide = wide_mapping(header)
    if wide is not None:
        return "wide-admissions", wide
    if con is not None:
        saved = saved_mapping(con, header)
        if saved is not None:
            return "mapped", saved
    long = long_mapping(header)
    if long is not None:
        return "long", long
    return "unknown", None


def missing_columns(header: list[str]) -> tuple[str, list[str]] | None:
    """For a header that is nearly a known layout, that layout and the columns it lacks.

    Lets a file that lost a column get "missing column VALUE" instead of "format not recognised".
    """
    cols = {h.strip().lower() for h in header}
    best: tuple[str, list[str]] | None = None
    best_key: tuple[int, int] | None = None
    candidates = dict(REQUIRED)
    candidates["wide-admissions"] = {"name", "age", "gender", "date of admission"}
    for name, required in candidates.items():
        present = required & cols
        missing = sorted(required - cols)
        if missing and len(present) >= max(2, (2 * len(required) + 2) // 3):
            key = (len(missing), -len(present))  # fewest missing, then the most columns matched
            if best_key is None or key < best_key:
                best, best_key = (name, missing), key
    return best
