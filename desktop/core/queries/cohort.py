"""A measurement's trend across the cohort: per period and group, how many patients and their values.

One query per request, aggregated in DuckDB; a newer request cancels the older one through the token
(``TaskState.cancel`` interrupts DuckDB mid-query).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC

from desktop.core.clinical.measurements import load_catalog
from desktop.core.queries.patients import PatientFilter
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store

GROUPINGS = ("sex", "condition")
PERIODS = ("year", "quarter", "month")
TABLE_COLUMNS = ("Period", "Group", "Patients", "Readings", "Mean", "Median", "P25", "P75")


@dataclass(frozen=True)
class CohortRequest:
    code: str
    group_by: str = "sex"  # "sex" or "condition"
    period: str = "year"
    filter: PatientFilter = field(default_factory=PatientFilter)
    top_conditions: int = 5  # grouping by condition: the most common ones, each a line


@dataclass(frozen=True)
class CohortRow:
    period: str  # ISO date of the period's start
    period_start: float  # seconds since epoch, for the plot's x axis
    group: str
    patients: int
    readings: int
    mean: float
    median: float
    p25: float
    p75: float


class Cancelled(Exception):
    pass


def run_cohort_trend(store: Store, request: CohortRequest, state: TaskState | None = None) -> list[CohortRow]:
    """Rows ordered by group then period. Each patient counts once per period (their mean), so a
    patient measured hourly in intensive care does not outweigh ten measured once a year."""
    if request.group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}, not {request.group_by!r}")
    if request.period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {request.period!r}")
    where, params = request.filter.where()
    if request.group_by == "sex":
        group_sql = (
            "SELECT p.patient_id, CASE p.sex WHEN 'F' THEN 'Female' WHEN 'M' THEN 'Male' ELSE 'Unknown' END AS grp "
            f"FROM patients p {where}"
        )
        group_params = params
    else:
        group_sql = f"""
            WITH chosen AS (SELECT p.patient_id FROM patients p {where}),
            top AS (
              SELECT description FROM conditions WHERE resolved IS NULL
                AND patient_id IN (SELECT patient_id FROM chosen)
              GROUP BY description ORDER BY count(DISTINCT patient_id) DESC, description LIMIT ?
            )
            SELECT DISTINCT c.patient_id, c.description AS grp FROM conditions c
            WHERE c.resolved IS NULL AND c.description IN (SELECT description FROM top)
              AND c.patient_id IN (SELECT patient_id FROM chosen)
        """
        group_params = [*params, request.top_conditions]
    sql = f"""
        WITH grp AS ({group_sql}),
        -- Readings reduced to one row per patient and period first, so the join
        -- with the groups works on thousands of rows, not millions.
        per_patient AS (
          SELECT date_trunc('{request.period}', o.observed_at) AS period, o.patient_id,
                 avg(o.value) AS v, count(*) AS n
          FROM observations o
          WHERE o.code = ? AND o.value IS NOT NULL
          GROUP BY ALL
        )
        SELECT period, g.grp, count(*) AS patients, sum(n) AS readings, avg(v), median(v),
               quantile_cont(v, 0.25), quantile_cont(v, 0.75)
        FROM per_patient JOIN grp g USING (patient_id) GROUP BY period, g.grp ORDER BY g.grp, period
    """
    unregister = state.on_cancel(store.con.interrupt) if state is not None else (lambda: None)
    try:
        if state is not None and state.cancelled:
            raise Cancelled()
        rows = store.con.execute(sql, [*group_params, request.code]).fetchall()
    except Exception:
        if state is not None and state.cancelled:
            raise Cancelled() from None
        raise
    finally:
        unregister()
    return [
        CohortRow(
            period=period.date().isoformat(), period_start=period.replace(tzinfo=UTC).timestamp(), group=grp, patients=int(patients),
            readings=int(readings), mean=float(mean), median=float(median), p25=float(p25), p75=float(p75),
        )
        for period, grp, patients, readings, mean, median, p25, p75 in rows
    ]


def measurement_choices(store: Store) -> list[tuple[str, str, str]]:
    """(code, name, unit) of numeric measurements present in the workspace, most measured first."""
    catalog = load_catalog()
    rows = store.con.execute(
        "SELECT o.code, any_value(o.unit), any_value(c.description) FROM observations o "
        "LEFT JOIN observation_codes c USING (code) WHERE o.value IS NOT NULL GROUP BY o.code ORDER BY count(*) DESC"
    ).fetchall()
    out = []
    for code, unit, description in rows:
        m = catalog.by_code(code)
        out.append((code, m.name if m else (description or code), unit or ""))
    return out
