"""Cohort aggregates computed in DuckDB (the cohort view and the benchmark share them)."""

from __future__ import annotations

from desktop.core.store import Store


def mean_by_condition_and_year(store: Store, code: str) -> list[tuple[str, int, float, int, int]]:
    """(condition, year, mean value, observations, patients) for one measurement, e.g. systolic BP.

    A patient with two conditions counts in both groups: the question is "how do people with X fare".
    Observations are first reduced to one row per patient and year, so the join with conditions and the
    patient count work on thousands of rows instead of millions (and the count needs no DISTINCT).
    """
    return store.con.execute(
        """
        WITH per_patient_year AS (
          SELECT patient_id, year(observed_at) AS year, sum(value) AS total, count(*) AS n
          FROM observations WHERE code = ? AND value IS NOT NULL GROUP BY ALL
        )
        SELECT c.description, year, sum(total) / sum(n), sum(n)::BIGINT, count(*)
        FROM per_patient_year
        JOIN (SELECT DISTINCT patient_id, description FROM conditions) c USING (patient_id)
        GROUP BY ALL ORDER BY 1, 2
        """,
        [code],
    ).fetchall()
