"""De-identifying export rows: names removed, ids replaced, dates shifted per patient.

Every date of one patient moves by the same random number of days, so intervals and trends survive
while calendar dates (admission days, birthdays) no longer point at a person. The offsets and the
pseudonyms come from a secret drawn once per export and then forgotten, so two exports cannot be
linked and the mapping cannot be recomputed from the workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

NAME_COLUMNS = frozenset({"name", "patient_name", "first_name", "last_name", "given", "family", "prefix"})
MAX_SHIFT_DAYS = 365


class Deidentifier:
    """One export's pseudonyms and date offsets; reuse it for every table of the same export."""

    def __init__(self, *, secret: bytes | None = None, max_shift_days: int = MAX_SHIFT_DAYS) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._max_shift = max_shift_days
        self._pseudonyms: dict[str, str] = {}

    def pseudonym(self, patient_id: str) -> str:
        if patient_id not in self._pseudonyms:
            self._pseudonyms[patient_id] = f"patient-{len(self._pseudonyms) + 1:04d}"
        return self._pseudonyms[patient_id]

    def shift(self, patient_id: str) -> timedelta:
        digest = hmac.new(self._secret, patient_id.encode("utf-8"), hashlib.sha256).digest()
        span = 2 * self._max_shift + 1
        days = int.from_bytes(digest[:8], "big") % span - self._max_shift
        # A zero shift would leave true dates in the export.
        return timedelta(days=days or self._max_shift)

    def rows(
        self, rows: Iterable[Mapping[str, Any]], *, patient_column: str = "patient_id"
    ) -> list[dict[str, Any]]:
        """Rows with name columns dropped, the patient id pseudonymised and every date shifted."""
        cleaned = []
        for row in rows:
            patient_id = row.get(patient_column)
            offset = self.shift(str(patient_id)) if patient_id is not None else None
            out: dict[str, Any] = {}
            for column, value in row.items():
                if column.lower() in NAME_COLUMNS:
                    continue
                if column == patient_column and value is not None:
                    out[column] = self.pseudonym(str(value))
                elif isinstance(value, (date, datetime)) and offset is not None:
                    out[column] = value + offset
                else:
                    out[column] = value
            cleaned.append(out)
        return cleaned


def deidentify_rows(
    rows: Iterable[Mapping[str, Any]], *, patient_column: str = "patient_id"
) -> list[dict[str, Any]]:
    """One-table convenience: a fresh :class:`Deidentifier` for this export only."""
    return Deidentifier().rows(rows, patient_column=patient_column)
