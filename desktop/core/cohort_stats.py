"""Cohort aggregates computed in DuckDB (the cohort view and the benchmark share them)."""

from __future__ import annotations

from desktop.core.store import Store


def mean_by_condition_and_year(store: Store, code: str) -> list[tuple[str, int, float, int, int]]:
    """(condition, year, mean value, observations, patients) for one measurement, e.g. systolic BP.

    A patient with two conditions counts in both groups: the question is "how do people with X fare".
    """
    return store.con.execute(
        """
        SELECT c.description, year(o.observed_at) AS year, avg(o.value), count(*), count(DISTINCT o.patient_id)
        FROM observations o
        JOIN (SELECT DISTINCT patient_id, description FROM conditions) c USING (patient_id)
        WHERE o.code = ? AND o.value IS NOT NULL
        GROUP BY ALL ORDER BY 1, 2
        """,
        [code],
    ).fetchall()
