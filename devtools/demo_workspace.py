"""Synthetic rows written straight into a workspace, for widget previews and the UI benchmark.

Not for clinical use and not an importer: it fills the tables with made-up, plausible readings of a
few measurements so that a window can be looked at and timed without any real file.
"""

from __future__ import annotations

from desktop.core.store import Store

# code, canonical unit, mean, spread
_SERIES = (
    ("8480-6", "mm[Hg]", 128.0, 14.0),
    ("8462-4", "mm[Hg]", 80.0, 9.0),
    ("8867-4", "/min", 76.0, 10.0),
    ("8310-5", "Cel", 36.9, 0.4),
    ("29463-7", "kg", 78.0, 3.0),
    ("38483-4", "mg/dL", 1.0, 0.25),
    ("4548-4", "%", 6.1, 0.7),
)
_CONDITIONS = ("Hypertension", "Diabetes mellitus type 2", "Chronic kidney disease stage 2", "Asthma")


def fill_demo(store: Store, *, patients: int = 200, readings_per_series: int = 60, years: float = 5.0,
              dense_patient_points: int = 0) -> None:
    """``patients`` people, each with ``readings_per_series`` readings of each series over ``years``;
    optionally one more patient, ``demo-dense``, with ``dense_patient_points`` heart-rate readings."""
    con = store.con
    with store.transaction():
        con.execute("INSERT INTO imports VALUES (9999, 'demo', 'demo', 'demo', 0, 0, now()::TIMESTAMP) ON CONFLICT DO NOTHING")
        con.execute(
            """
            INSERT INTO patients (patient_id, name, sex, birth_date, import_id)
            SELECT 'demo-' || lpad(i::VARCHAR, 6, '0'),
                   (['Ada','Ben','Cleo','Dev','Eve','Finn','Gia','Hal'])[1 + i % 8] || ' ' ||
                   (['Okafor','Lind','Moreau','Tanaka','Silva','Novak'])[1 + (i // 8) % 6] || ' ' || i::VARCHAR,
                   CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END,
                   DATE '1940-01-01' + INTERVAL (hash(i) % 20000) DAY, 9999
            FROM range(?) t(i)
            """,
            [patients],
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
        for code, unit, mean, spread in _SERIES:
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
