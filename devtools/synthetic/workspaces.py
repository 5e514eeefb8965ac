"""Workspaces filled from the generator, for tests, previews and benchmarks that need no import run of
their own.

- :func:`seed_demo_patient`: Jane Doe, a hand-specified patient of the generator (hypertension, three
  visits over a year with rising blood pressure and heart rate), written with the generator's Synthea
  writers and imported by the app's own importer, exactly as a real export would be.
- :func:`fill_demo`: many patients fast, for the 100,000-patient UI benchmark. A Python generator and an
  import would take minutes at that size, so this writes the same vocabulary (codes, canonical units,
  condition descriptions) straight into the tables with SQL. Not for clinical use.
"""

from __future__ import annotations

import random
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from desktop.core.importers.pipeline import import_paths
from desktop.core.workspace.store import Store
from devtools.synthetic import vocab as V
from devtools.synthetic.cohort import Condition, Encounter, ObsRow, Person, iso
from devtools.synthetic.vocab_history import FINDINGS, HYPERTENSION_PLAIN
from devtools.synthetic.writers import write_conditions, write_encounters, write_observations, write_patients

DEMO_PATIENT = "p-jane"

#: Jane Doe's visits: day, systolic, diastolic, heart rate.
JANE_VISITS = (("2023-03-05", 138, 88, 80), ("2023-09-01", 145, 90, 84), ("2024-03-02", 152, 94, 88))


def jane_doe(patient_id: str = DEMO_PATIENT) -> tuple[Person, list[ObsRow]]:
    """The hand-specified patient and her observation rows (no random traits are used by the writers)."""
    p = Person(id=patient_id, sex="F", birth=date(1970, 5, 1), first="Jane", middle="", last="Doe", prefix="",
               adult_height=165.0, bmi0=27.0, bmi_slope=0.0, sbp0=130.0, dbp_offset=0.0, hr0=78.0, creat0=0.8,
               hb0=13.4, wbc0=6.5, plt0=250.0, crp0=1.0, chol0=190.0, hdl0=55.0, tg0=120.0, smoking=V.SMOKING[0])
    diagnosed = datetime(2015, 1, 1, 9, 0)
    p.encounters.append(Encounter(f"{patient_id}-e0", diagnosed, diagnosed + timedelta(minutes=30), "ambulatory",
                                  *V.ENC_PROBLEM, HYPERTENSION_PLAIN))
    p.conditions["htn"] = Condition(*HYPERTENSION_PLAIN, diagnosed, encounter=f"{patient_id}-e0")
    rows: list[ObsRow] = []
    for n, (day, sbp, dbp, hr) in enumerate(JANE_VISITS, start=1):
        when = datetime.fromisoformat(day).replace(hour=9)
        enc = f"{patient_id}-e{n}"
        p.encounters.append(Encounter(enc, when, when + timedelta(minutes=30), "wellness", *V.ENC_WELLNESS))
        for code, value in (("8480-6", sbp), ("8462-4", dbp), ("8867-4", hr)):
            category, description, unit = V.OBS[code]
            rows.append([iso(when), patient_id, enc, category, code, description, f"{value:.1f}", unit, "numeric"])
    return p, rows


def seed_demo_patient(store: Store, patient_id: str = DEMO_PATIENT) -> str:
    """Import Jane Doe into ``store`` through the app's importer; return her id."""
    person, rows = jane_doe(patient_id)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="vitalsight-demo-") as tmp:
        folder = Path(tmp) / "synthea"
        write_patients(folder / "patients.csv", [person], rng, "current")
        write_encounters(folder / "encounters.csv", [person], rng, "current")
        write_conditions(folder / "conditions.csv", [person], "current")
        write_observations(folder / "observations.csv", rows, "current")
        report = import_paths(store, [folder])
    failed = [f for f in report.files if f.status != "imported" or f.rows_rejected]
    if failed:
        raise RuntimeError(f"the demo patient did not import cleanly: {failed}")
    return patient_id


# ---------------------------------------------------------------- bulk fill (benchmarks, previews)

# code, mean, spread: the generator's codes; units and descriptions come from its vocabulary.
_SERIES = (("8480-6", 128.0, 14.0), ("8462-4", 80.0, 9.0), ("8867-4", 76.0, 10.0), ("8310-5", 36.9, 0.4),
           ("29463-7", 78.0, 3.0), ("38483-4", 1.0, 0.25), ("4548-4", 6.1, 0.7))
_CONDITIONS = (HYPERTENSION_PLAIN[1], V.DIABETES[1], V.CKD[1], V.ANAEMIA[1], FINDINGS[4][1])
_FIRST = [name for pair in zip(V.FIRST_F[:4], V.FIRST_M[:4], strict=True) for name in pair]


def fill_demo(store: Store, *, patients: int = 200, readings_per_series: int = 60, years: float = 5.0,
              dense_patient_points: int = 0) -> None:
    """``patients`` people, each with ``readings_per_series`` readings of each series over ``years``;
    optionally one more patient, ``demo-dense``, with ``dense_patient_points`` heart-rate readings."""
    con = store.con
    with store.transaction():
        con.execute("INSERT INTO imports VALUES (9999, 'demo', 'demo', 'demo', 0, 0, now()::TIMESTAMP) "
                    "ON CONFLICT DO NOTHING")
        con.execute(
            """
            INSERT INTO patients (patient_id, name, sex, birth_date, import_id)
            SELECT 'demo-' || lpad(i::VARCHAR, 6, '0'),
                   (?)[1 + i % len(?)] || ' ' || (?)[1 + (i // 8) % len(?)] || ' ' || i::VARCHAR,
                   CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END,
                   DATE '1940-01-01' + INTERVAL (hash(i) % 20000) DAY, 9999
            FROM range(?) t(i)
            """,
            [_FIRST, _FIRST, list(V.LAST[:6]), list(V.LAST[:6]), patients],
        )
        con.execute(
            """
            INSERT INTO conditions (patient_id, onset, description, import_id)
            SELECT 'demo-' || lpad(i::VARCHAR, 6, '0'), DATE '2018-01-01', c.d, 9999
            FROM range(?) t(i), (SELECT unnest(?) AS d, generate_subscripts(?, 1) AS k) c
            WHERE hash(i * 31 + c.k) % 3 = 0
            """,
            [patients, list(_CONDITIONS), list(_CONDITIONS)],
        )
        span = years * 365.25 * 86400
        for code, mean, spread in _SERIES:
            unit = V.OBS[code][2]
            con.execute(
                f"""
                INSERT INTO observations (patient_id, observed_at, code, value_raw, unit_raw, value, unit, import_id)
                SELECT pid, ts, ?, round(v, 2)::VARCHAR, ?, round(v, 2), ?, 9999 FROM (
                  SELECT 'demo-' || lpad(i::VARCHAR, 6, '0') AS pid,
                         TIMESTAMP '2021-01-01' + to_seconds((j * {span} / ?)::BIGINT + hash(i, j) % 86400) AS ts,
                         ? + ? * (((hash(i, j, ?) % 2000) / 1000.0) - 1.0) * 1.6 + (j::DOUBLE / ?) * ? * 0.3 AS v
                  FROM range(?) a(i), range(?) b(j)
                )
                """,
                [code, unit, unit, readings_per_series, mean, spread, code, readings_per_series, spread,
                 patients, readings_per_series],
            )
        if dense_patient_points:
            con.execute(
                "INSERT INTO patients (patient_id, name, sex, birth_date, import_id) "
                "VALUES ('demo-dense', 'Dense Monitoring', 'F', DATE '1960-05-05', 9999)"
            )
            con.execute(
                f"""
                INSERT INTO observations (patient_id, observed_at, code, value_raw, unit_raw, value, unit, import_id)
                SELECT 'demo-dense', TIMESTAMP '2021-01-01' + to_seconds((j * {span} / ?)::BIGINT), '8867-4',
                       NULL, '/min', 75 + 15 * sin(j / 500.0) + (hash(j) % 100) / 10.0, '/min', 9999
                FROM range(?) b(j)
                """,
                [dense_patient_points, dense_patient_points],
            )
