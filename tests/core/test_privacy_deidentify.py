"""De-identified exports keep intervals but lose names, ids and true dates."""

from __future__ import annotations

from datetime import date, datetime

from desktop.core.deidentify import Deidentifier, deidentify_rows

ROWS = [
    {"patient_id": "abc-1", "name": "Annabelle Quixote", "birth_date": date(1950, 3, 4),
     "effective": datetime(2020, 1, 1, 8, 30), "value": 120.0},
    {"patient_id": "abc-1", "name": "Annabelle Quixote", "birth_date": date(1950, 3, 4),
     "effective": datetime(2020, 1, 11, 8, 30), "value": 130.0},
    {"patient_id": "xyz-2", "name": "Bob Ng", "birth_date": date(1980, 1, 1),
     "effective": datetime(2021, 5, 5), "value": 99.0},
]


def test_names_removed_ids_replaced_values_kept():
    out = deidentify_rows(ROWS)
    assert all("name" not in row for row in out)
    assert {row["patient_id"] for row in out} == {"patient-0001", "patient-0002"}
    assert [row["value"] for row in out] == [120.0, 130.0, 99.0]
    assert "Annabelle" not in repr(out) and "abc-1" not in repr(out)


def test_dates_shift_consistently_per_patient():
    out = Deidentifier(secret=b"k" * 32).rows(ROWS)
    assert out[1]["effective"] - out[0]["effective"] == ROWS[1]["effective"] - ROWS[0]["effective"]
    assert out[0]["birth_date"] != ROWS[0]["birth_date"]
    shift_a = out[0]["effective"] - ROWS[0]["effective"]
    assert out[0]["birth_date"] - ROWS[0]["birth_date"] == shift_a
    assert abs(shift_a.days) <= 365 and shift_a.days != 0


def test_two_exports_are_not_linkable_by_shift():
    first = Deidentifier().shift("abc-1")
    shifts = {Deidentifier().shift("abc-1") for _ in range(20)}
    assert len(shifts | {first}) > 1
