"""The observations table's flag and healthy-range columns: each reading judged against the range that
applied to that patient at that reading (age and pregnancy then, never today's), as the plots and the
summary judge it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from desktop.core.clinical.display_units import normal_range_text
from desktop.core.clinical.ranges import flag
from desktop.core.queries.observations_table import COLUMNS
from desktop.core.queries.patient_facts import patient_facts_many
from desktop.core.workspace.store import Store

HEADERS = [name for name, _ in COLUMNS]
TIME, PATIENT, CODE, VALUE = (HEADERS.index(h) for h in ("Time (UTC)", "Patient", "Code", "Value"))


def with_flags(store: Store, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """``rows`` of :func:`page_observations` with two more columns: the flag (N, L, H, LL, HH; None without
    a value or a range) and the healthy range in the stored unit ("" without one)."""
    facts = patient_facts_many(store, sorted({str(r[PATIENT]) for r in rows}))
    out = []
    for row in rows:
        patient = facts.get(str(row[PATIENT]))
        at = row[TIME]
        reference = (patient.reference_at(str(row[CODE]), at)
                     if patient is not None and isinstance(at, datetime) else None)
        value = row[VALUE]
        judged = flag(float(value), reference) if isinstance(value, (int, float)) else None
        text = normal_range_text(reference.to_dict(), lambda v: v) if reference is not None else ""
        out.append((*row, judged, text))
    return out
