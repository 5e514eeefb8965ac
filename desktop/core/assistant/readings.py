"""One patient's readings of one measurement, as the answers read and word them: the window as SQL ("in 2021",
"at the last visit"), the rows (newest first, the same order as "latest" everywhere), each reading judged
against this patient's range at its time, and said in words with its flag, limit and authority.
Shared by execute.py (latest, first, min, max, ...) and execute_readings.py (yes/no, compare, ever past)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from desktop.core.assistant.answer import Fact
from desktop.core.assistant.plan import Plan
from desktop.core.clinical.display_units import format_value
from desktop.core.clinical.flag_words import flag_phrase
from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import flag
from desktop.core.queries.patient_facts import PatientFacts
from desktop.core.queries.summary import LATEST_ORDER
from desktop.core.workspace.store import Store


def measurement_name(code: str) -> str:
    m = load_catalog().by_code(code)
    return m.name if m else code


def window_sql(store: Store, plan: Plan, column: str = "observed_at") -> tuple[str, list[Any]]:
    w = plan.window
    clauses: list[str] = []
    params: list[Any] = []
    if w.last_visit and plan.patient_id:
        day = last_visit_day(store, plan.patient_id)
        if day is not None:
            clauses.append(f"{column}::DATE = ?")
            params.append(day)
    if w.start:
        clauses.append(f"{column} >= ?")
        params.append(w.start)
    if w.end:
        clauses.append(f"{column} < ?")
        params.append(w.end)
    return "".join(f" AND {c}" for c in clauses), params


LAST_VISIT_SQL = ("SELECT coalesce((SELECT max(started_at)::DATE FROM encounters WHERE patient_id = ?), "
                  "(SELECT max(observed_at)::DATE FROM observations WHERE patient_id = ?))")


def last_visit_day(store: Store, patient_id: str) -> date | None:
    """The day of the patient's newest encounter (or, with none recorded, of their newest reading)."""
    row = store.con.execute(LAST_VISIT_SQL, [patient_id, patient_id]).fetchone()
    return row[0] if row and row[0] else None


def describe_reading(facts: PatientFacts, code: str, value: float | str | None, unit: str, at: datetime) -> Fact:
    if isinstance(value, (int, float)):
        reference = facts.reference_at(code, at)
        f = flag(value, reference)
        rule = reference.rule_for(f, unit) if reference is not None else None
        if reference is None:
            age = facts.age_at(at)
            rule = (f"not flagged: aged {age:g} at the reading" if age is not None and age < facts.ranges.adult_age_years
                    else "no reference range")
        return Fact(measurement_name(code), float(value), unit, at.isoformat(), f, rule, facts.patient_id)
    return Fact(measurement_name(code), str(value), "", at.isoformat(), None, "text value", facts.patient_id)


def reading_day(fact: Fact) -> str:
    return (fact.observed_at or "")[:10]


def say_reading(fact: Fact) -> str:
    """'150 mm[Hg] on 2024-02-05 (above the healthy range: H: >= 120 mm[Hg] (ACC/AHA ...))'."""
    value = format_value(fact.value) if isinstance(fact.value, float) else f'"{fact.value}"'
    unit = f" {fact.unit}" if fact.unit else ""
    when = f" on {fact.observed_at[:10]}" if fact.observed_at else ""
    if fact.flag:
        judged = f" ({flag_phrase(fact.flag)}; {fact.rule})"
    elif fact.rule:
        judged = f" ({fact.rule})"
    else:
        judged = ""
    return f"{value}{unit}{when}{judged}"


def patient_readings(store: Store, plan: Plan, facts: PatientFacts, code: str, *,
                     numeric: bool) -> tuple[str, list[Any], list[tuple[Any, ...]]]:
    """The SQL, its parameters and the rows (observed_at, value as text, number, unit) of this patient's
    readings of ``code`` in the plan's window, newest first; ``numeric``: numbers only (no text rows)."""
    clause, window_params = window_sql(store, plan)
    value_filter = "value IS NOT NULL" if numeric else "(value IS NOT NULL OR value_raw IS NOT NULL)"
    sql = (f"SELECT observed_at, coalesce(value::VARCHAR, value_raw) AS value, value AS number, unit FROM observations "
           f"WHERE patient_id = ? AND code = ? AND {value_filter}{clause} ORDER BY {LATEST_ORDER}")
    params: list[Any] = [facts.patient_id, code, *window_params]
    return sql, params, store.con.execute(sql, params).fetchall()
