"""The patient list: one filtered, ordered query behind the window's paged list, the CLI's ``patients``
command, the UI benchmark and the tests, so they can never disagree on who is listed or in what order.

The window asks for the number of matching patients once, then for pages as rows scroll into view;
nothing ever loads the whole table into Python unless a caller asks for every row (the CLI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from desktop.core.workspace.store import Store

# Age in whole years at a reference date (death date for the deceased, else today).
AGE_SQL = "date_sub('year', p.birth_date, coalesce(p.death_date, current_date))"

# Sort by the name without a title: "Mrs. Alice Ames" files under A, not under M.
SORT_NAME_SQL = "regexp_replace(p.name, '^(Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\\.?\\s+', '', 'i')"

#: The window's columns, in the order of :func:`patient_table_page`'s tuples.
COLUMNS: tuple[str, ...] = ("Name", "ID", "Sex", "Age", "Conditions", "Observations")


def age_years(birth: date | None, at: date) -> float | None:
    """Completed years between ``birth`` and ``at`` (None when the birth date is unknown)."""
    if birth is None:
        return None
    years = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return float(years)


@dataclass(frozen=True)
class PatientFilter:
    """What narrows the list. Empty fields filter nothing."""

    search: str = ""  # part of a name or an id
    condition: str | None = None  # an active condition's description, exactly (the list's drop-down)
    # words an active condition's description contains from the start of a word (the assistant's
    # "patients with diabetes": "Diabetes mellitus type 2", never "Prediabetes")
    condition_words: str | None = None
    sex: str | None = None  # "F" or "M"
    age_min: float | None = None
    age_max: float | None = None

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
        if self.condition_words:
            clauses.append(
                "EXISTS (SELECT 1 FROM conditions c WHERE c.patient_id = p.patient_id "
                "AND c.resolved IS NULL AND regexp_matches(lower(c.description), ?))"
            )
            params.append(r"\b" + re.escape(self.condition_words.lower()))
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


def count_patients(store: Store, *, filter: PatientFilter | None = None) -> int:
    where, params = (filter or PatientFilter()).where()
    row = store.con.execute(f"SELECT count(*) FROM patients p {where}", params).fetchone()
    return int(row[0]) if row else 0


def list_patients(store: Store, *, filter: PatientFilter | None = None, offset: int = 0,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Matching patients ordered by name without its title, then id: sex, age, active conditions and
    number of observations for each.

    The page is chosen first and conditions and counts are looked up only for its patients: joining
    them over the whole table first would cost a full scan of observations on every scroll.
    """
    where, params = (filter or PatientFilter()).where()
    rows = store.con.execute(
        f"""
        WITH page AS (
          SELECT p.patient_id, p.name, p.sex, {AGE_SQL} AS age, p.birth_date_estimated, p.death_date,
                 {SORT_NAME_SQL} AS sort_name
          FROM patients p {where}
          ORDER BY sort_name NULLS LAST, p.patient_id
          LIMIT ? OFFSET ?
        )
        SELECT page.patient_id, page.name, page.sex, page.age, page.birth_date_estimated, page.death_date,
               coalesce((SELECT list(DISTINCT c.description ORDER BY c.description) FROM conditions c
                         WHERE c.patient_id = page.patient_id AND c.resolved IS NULL), []),
               (SELECT count(*) FROM observations o WHERE o.patient_id = page.patient_id)
        FROM page ORDER BY page.sort_name NULLS LAST, page.patient_id
        """,
        [*params, limit, offset],
    ).fetchall()
    return [
        {
            "id": pid, "name": name, "sex": sex, "age": age, "age_estimated": bool(estimated),
            "deceased": died.isoformat() if died else None, "conditions": conditions, "observations": n,
        }
        for pid, name, sex, age, estimated, died, conditions, n in rows
    ]


def patient_table_page(store: Store, *, filter: PatientFilter, offset: int,
                       limit: int) -> list[tuple[object, ...]]:
    """One page of :func:`list_patients` as the window's :data:`COLUMNS` (display text, no second query)."""
    return [
        (p["name"] or "(no name)", p["id"], p["sex"] or "?", p["age"], "; ".join(p["conditions"]),
         p["observations"])
        for p in list_patients(store, filter=filter, offset=offset, limit=limit)
    ]


def condition_names(store: Store, limit: int = 500) -> list[str]:
    """Active conditions, the most common first, for the filter box."""
    rows = store.con.execute(
        "SELECT description FROM conditions WHERE resolved IS NULL GROUP BY description "
        "ORDER BY count(DISTINCT patient_id) DESC, description LIMIT ?",
        [limit],
    ).fetchall()
    return [r[0] for r in rows]
