"""Queries about patients: the list (with conditions and counts) and ages."""

from __future__ import annotations

from datetime import date

from desktop.core.store import Store

# Age in whole years at a reference date (death date for the deceased, else today).
AGE_SQL = "date_sub('year', p.birth_date, coalesce(p.death_date, current_date))"


def age_years(birth: date | None, at: date) -> float | None:
    """Completed years between ``birth`` and ``at`` (None when the birth date is unknown)."""
    if birth is None:
        return None
    years = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return float(years)


def list_patients(store: Store, *, search: str | None = None) -> list[dict[str, object]]:
    """Every patient with sex, age, active conditions and number of observations, ordered by name."""
    where, params = "", []
    if search:
        where = "WHERE p.patient_id ILIKE ? OR p.name ILIKE ?"
        params = [f"%{search}%", f"%{search}%"]
    rows = store.con.execute(
        f"""
        SELECT p.patient_id, p.name, p.sex, {AGE_SQL} AS age, p.birth_date_estimated, p.death_date,
               coalesce(c.conditions, []) AS conditions, coalesce(o.n, 0) AS observations
        FROM patients p
        LEFT JOIN (
          SELECT patient_id, list(DISTINCT description ORDER BY description) AS conditions
          FROM conditions WHERE resolved IS NULL GROUP BY patient_id
        ) c USING (patient_id)
        LEFT JOIN (SELECT patient_id, count(*) AS n FROM observations GROUP BY patient_id) o USING (patient_id)
        {where}
        ORDER BY p.name NULLS LAST, p.patient_id
        """,
        params,
    ).fetchall()
    return [
        {
            "id": pid, "name": name, "sex": sex, "age": age, "age_estimated": bool(estimated),
            "deceased": died.isoformat() if died else None, "conditions": conditions, "observations": n,
        }
        for pid, name, sex, age, estimated, died, conditions, n in rows
    ]
