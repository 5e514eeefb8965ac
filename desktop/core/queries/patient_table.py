"""The patient list as pages of a filtered, ordered query, so the window stays fast with 100,000 patients.

The UI asks for the number of matching patients once, then for pages as rows scroll into view; nothing
ever loads the whole table into Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.queries.patients import AGE_SQL
from desktop.core.store import Store

# Sort by the name without a title: "Mrs. Alice Ames" files under A, not under M.
SORT_NAME_SQL = "regexp_replace(p.name, '^(Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\\.?\\s+', '', 'i')"

COLUMNS: tuple[str, ...] = ("Name", "ID", "Sex", "Age", "Conditions", "Observations")


@dataclass(frozen=True)
class PatientFilter:
    """What narrows the list. Empty fields filter nothing."""

    search: str = ""  # part of a name or an id
    condition: str | None = None  # an active condition's description
    sex: str | None = None  # "F" or "M"
    age_min: int | None = None
    age_max: int | None = None

    def where(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        text = self.search.strip()
        if text:
            clauses.append("(p.patient_id ILIKE ? OR p.name ILIKE ?)")
            params += [f"%{text}%", f"%{text}%"]
        if self.condition:
            clauses.append(
                "EXISTS (SELECT 1 FROM conditions c WHERE c.patient_id = p.patient_id "
                "AND c.resolved IS NULL AND c.description = ?)"
            )
            params.append(self.condition)
        if self.sex:
            clauses.append("p.sex = ?")
            params.append(self.sex)
        if self.age_min is not None:
            clauses.append(f"{AGE_SQL} >= ?")
            params.append(self.age_min)
        if self.age_max is not None:
            clauses.append(f"{AGE_SQL} <= ?")
            params.append(self.age_max)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def count_patients(store: Store, flt: PatientFilter) -> int:
    where, params = flt.where()
    row = store.con.execute(f"SELECT count(*) FROM patients p {where}", params).fetchone()
    return int(row[0]) if row else 0


def page_patients(store: Store, flt: PatientFilter, offset: int, limit: int) -> list[tuple[object, ...]]:
    """Rows (name, id, sex, age, conditions text, observation count) of one page, ordered by name.

    Conditions and counts are looked up only for the page's patients: joining them over the whole
    table first would cost a full scan of observations on every scroll.
    """
    where, params = flt.where()
    return store.con.execute(
        f"""
        WITH page AS (
          SELECT p.patient_id, p.name, p.sex, {AGE_SQL} AS age, {SORT_NAME_SQL} AS sort_name
          FROM patients p {where}
          ORDER BY sort_name NULLS LAST, p.patient_id
          LIMIT ? OFFSET ?
        )
        SELECT coalesce(page.name, '(no name)'), page.patient_id, coalesce(page.sex, '?'), page.age,
               coalesce((SELECT string_agg(DISTINCT c.description, '; ' ORDER BY c.description)
                         FROM conditions c WHERE c.patient_id = page.patient_id AND c.resolved IS NULL), ''),
               (SELECT count(*) FROM observations o WHERE o.patient_id = page.patient_id)
        FROM page ORDER BY page.sort_name NULLS LAST, page.patient_id
        """,
        [*params, limit, offset],
    ).fetchall()


def condition_names(store: Store, limit: int = 500) -> list[str]:
    """Active conditions, the most common first, for the filter box."""
    rows = store.con.execute(
        "SELECT description FROM conditions WHERE resolved IS NULL GROUP BY description "
        "ORDER BY count(DISTINCT patient_id) DESC, description LIMIT ?",
        [limit],
    ).fetchall()
    return [r[0] for r in rows]
