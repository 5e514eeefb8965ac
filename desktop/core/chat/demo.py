"""A one-patient workspace for panel previews and tests, so they need no import run."""

from __future__ import annotations

from desktop.core.store import Store

DEMO_PATIENT = "p-jane"


def seed_demo_patient(store: Store, patient_id: str = DEMO_PATIENT) -> str:
    """Jane Doe: hypertension, three visits a year apart with rising systolic pressure."""
    with store.transaction() as con:
        con.execute("INSERT INTO patients VALUES (?, 'Jane Doe', 'F', DATE '1970-05-01', false, NULL, 1)",
                    [patient_id])
        con.execute("INSERT OR IGNORE INTO observation_codes VALUES ('8480-6', 'Systolic blood pressure', 'vital'), "
                    "('8867-4', 'Heart rate', 'vital')")
        for day, sbp, hr in [("2023-03-01", 138, 80), ("2023-09-01", 145, 84), ("2024-03-02", 152, 88)]:
            con.execute("INSERT INTO observations VALUES (?, ?, '8480-6', ?, 'mm[Hg]', ?, 'mm[Hg]', NULL, 1)",
                        [patient_id, day, str(sbp), sbp])
            con.execute("INSERT INTO observations VALUES (?, ?, '8867-4', ?, '/min', ?, '/min', NULL, 1)",
                        [patient_id, day, str(hr), hr])
        con.execute("INSERT INTO conditions VALUES (?, DATE '2015-01-01', NULL, '38341003', 'SNOMED', "
                    "'Hypertension', NULL, 1)", [patient_id])
    return patient_id
