"""A one-patient workspace for panel previews and tests, so they need no import run."""

from __future__ import annotations

from desktop.core.store import Store

DEMO_PATIENT = "p-jane"


def seed_demo_patient(store: Store, patient_id: str = DEMO_PATIENT) -> str:
    """Jane Doe: hypertension, three visits over a year with rising blood pressure and heart rate."""
    with store.transaction() as con:
        con.execute("INSERT INTO patients VALUES (?, 'Jane Doe', 'F', DATE '1970-05-01', false, NULL, 1)",
                    [patient_id])
        con.execute("INSERT OR IGNORE INTO observation_codes VALUES ('8480-6', 'Systolic blood pressure', 'vital'), "
                    "('8462-4', 'Diastolic blood pressure', 'vital'), ('8867-4', 'Heart rate', 'vital')")
        visits = [("2023-03-05", 138, 88, 80), ("2023-09-01", 145, 90, 84), ("2024-03-02", 152, 94, 88)]
        for day, sbp, dbp, hr in visits:
            for code, value, unit in (("8480-6", sbp, "mm[Hg]"), ("8462-4", dbp, "mm[Hg]"), ("8867-4", hr, "/min")):
                con.execute("INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 1)",
                            [patient_id, day, code, str(value), unit, value, unit])
        con.execute("INSERT INTO conditions VALUES (?, DATE '2015-01-01', NULL, '38341003', 'SNOMED', "
                    "'Hypertension', NULL, 1)", [patient_id])
    return patient_id
