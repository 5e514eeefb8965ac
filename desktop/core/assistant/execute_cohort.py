"""Workspace answers: counts and lists of patients in a group (a diagnosis, a drug, a visit class, sex and age),
a measurement over the group (each patient's latest reading, or any reading), the most common diagnoses or
drugs, and age groups.

The living are counted by default and every answer says so ("12 living patients; 15 including 3 who have
died"); "including the deceased" counts everyone and "the deceased" only them (contracts.md 1).
"""

from __future__ import annotations

import re
from typing import Any

from desktop.core.assistant.answer import Answer, Fact
from desktop.core.assistant.execute_readings import limit_words, passes
from desktop.core.assistant.plan import Plan
from desktop.core.assistant.record_plan import CLASS_WORDS, NO_MATCH
from desktop.core.clinical.display_units import format_value
from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import flag
from desktop.core.clinical.social_findings import is_social_finding
from desktop.core.queries.patient_facts import patient_facts_many
from desktop.core.queries.patients import AGE_SQL, PatientFilter
from desktop.core.workspace.store import Store

LIVING = "p.death_date IS NULL"
AGE_BANDS = ((0, 17, "0-17"), (18, 39, "18-39"), (40, 64, "40-64"), (65, 200, "65 and over"))


def _name(code: str) -> str:
    m = load_catalog().by_code(code)
    return m.name if m else code


def group_sql(plan: Plan, *, window_on_events: bool) -> tuple[str, list[Any]]:
    """Every patient of the group (the dead included, with their death date): a subquery."""
    c = plan.cohort
    where, params = PatientFilter(condition_words=c.condition, sex=c.sex, age_min=c.age_min,
                                  age_max=c.age_max).where()
    clauses = [where[len("WHERE "):]] if where else []
    w = plan.window if window_on_events else None

    def windowed(column: str) -> str:
        parts = []
        if w is not None and w.start:
            parts.append(f" AND {column} >= ?")
            params.append(w.start)
        if w is not None and w.end:
            parts.append(f" AND {column} < ?")
            params.append(w.end)
        return "".join(parts)

    # Patients with a recorded event of one of the resolved names: (names, table, when it happened, what makes it
    # still current for "has X now" / "still taking X"; None where "active" has no meaning).
    for terms, table, when, current in (
            (c.condition_terms, "conditions", "onset", "resolved"),
            (c.medication_terms, "medications", "started_at", "stopped_at"),
            (c.procedure_terms, "procedures", "started_at", None),
            (c.immunization_terms, "immunizations", "given_at", None)):
        if terms:
            params.extend(terms)
            active = f" AND x.{current} IS NULL" if c.active_only and current else ""
            clauses.append(f"EXISTS (SELECT 1 FROM {table} x WHERE x.patient_id = p.patient_id AND x.description IN "
                           f"({', '.join('?' * len(terms))}){active}{windowed('x.' + when)})")
    if c.encounter_class:
        params.append(c.encounter_class)
        clauses.append("EXISTS (SELECT 1 FROM encounters e WHERE e.patient_id = p.patient_id AND "
                       f"lower(e.encounter_class) = ?{windowed('e.started_at')})")
    sql = "SELECT p.patient_id, p.name, p.death_date FROM patients p" + (" WHERE " + " AND ".join(clauses)
                                                                          if clauses else "")
    return sql, params


def _population_sql(plan: Plan) -> str:
    return {"living": " WHERE death_date IS NULL", "deceased": " WHERE death_date IS NOT NULL"}.get(plan.population, "")


def who_words(plan: Plan) -> str:
    c = plan.cohort
    who = {"F": "women", "M": "men"}.get(c.sex or "", "patients")
    parts = [who]
    if c.condition_terms == (NO_MATCH,):
        parts.append(f"with a record of '{plan.term_text}'")
    elif c.condition_terms:
        names = plan.term_text or "; ".join(c.condition_terms)
        parts.append(f"{'with' if c.active_only else 'ever diagnosed with'} {names}")
    if c.condition:
        parts.append(f"with {c.condition}")
    if c.medication_terms:
        parts.append(f"{'taking' if c.active_only else 'ever prescribed'} {plan.term_text or '; '.join(c.medication_terms)}")
    if c.procedure_terms:
        parts.append(f"who had {plan.term_text or '; '.join(c.procedure_terms)}")
    if c.immunization_terms:
        term = plan.term_text or "; ".join(c.immunization_terms)
        parts.append(f"given {term}" if re.search(r"vaccin", term, re.I) else f"given the {term} vaccine")
    if c.encounter_class:
        parts.append(f"with a{'n' if c.encounter_class[0] in 'aeiou' else ''} "
                     f"{CLASS_WORDS.get(c.encounter_class, c.encounter_class)} visit")
    if c.age_min is not None and c.age_max is not None:
        parts.append(f"aged {c.age_min:g} to {c.age_max:g}")
    elif c.age_min is not None:
        parts.append(f"aged {c.age_min:g} or over")
    elif c.age_max is not None:
        parts.append(f"aged {c.age_max:g} or under")
    return " ".join(parts)


def _one(who: str, n: int) -> str:
    """"patients with X" as "patient with X" for one."""
    if n != 1:
        return who
    head, _, tail = who.partition(" ")
    head = {"patients": "patient", "women": "woman", "men": "man"}.get(head, head)
    return f"{head} {tail}".strip()


def population_sentence(plan: Plan, counted: int, living: int, dead: int, who: str) -> str:
    """"12 living patients with X; 15 including 3 who have died." and its like for the other populations."""
    if plan.population == "living":
        extra = (f"; {living + dead} including {dead} who ha{'s' if dead == 1 else 've'} died" if dead
                 else "; none of the group has died")
        return f"{living} living {_one(who, living)}{extra} (ask 'including the deceased' to count everyone)"
    if plan.population == "deceased":
        return f"{dead} {who} who ha{'s' if dead == 1 else 've'} died ({living} living)"
    return f"{living + dead} {who}, the deceased included ({dead} ha{'s' if dead == 1 else 've'} died, {living} living)"


def run_workspace(store: Store, plan: Plan) -> Answer:
    if plan.operation == "top":
        return _top(store, plan)
    if plan.operation == "age_groups":
        return _age_groups(store, plan)
    if plan.measurements:
        return _measured(store, plan)
    c = plan.cohort
    events_windowed = bool(c.condition_terms or c.medication_terms or c.encounter_class or c.procedure_terms
                           or c.immunization_terms)
    sql_all, params = group_sql(plan, window_on_events=events_windowed)
    sql = f"SELECT patient_id, name, death_date FROM ({sql_all}) ORDER BY patient_id"
    everyone = [list(r) for r in store.con.execute(sql, params).fetchall()]
    living = [r for r in everyone if r[2] is None]
    dead = [r for r in everyone if r[2] is not None]
    rows = {"living": living, "deceased": dead}.get(plan.population, everyone)
    who = who_words(plan)
    scope = f" {plan.window.text}" if plan.window.text and events_windowed else ""
    named = f" ({plan.matched})" if plan.matched else ""
    text = population_sentence(plan, len(rows), len(living), len(dead), who + scope) + named + "."
    if plan.operation == "which_patients" and rows:
        listing = "; ".join(f"{r[1] or r[0]} ({r[0]})" + (f", died {r[2]}" if r[2] else "") for r in rows[:10])
        more = f" (first 10 of {len(rows)} shown; all are in the table)" if len(rows) > 10 else ""
        text += f" {listing}{more}."
    label = {"living": f"number of living {who}", "deceased": f"number of {who} who have died"}.get(
        plan.population, f"number of {who}")
    facts = [Fact(label, len(rows)), Fact(f"number of {who}, the deceased included", len(everyone)),
             Fact(f"number of {who} who have died", len(dead))]
    return Answer(plan, text[0].upper() + text[1:], facts, [sql], [params], ["patient_id", "name", "death_date"], rows)


def _measured(store: Store, plan: Plan) -> Answer:
    code = plan.measurements[0]
    name = _name(code)
    cohort_sql, cohort_params = group_sql(plan, window_on_events=False)
    population = _population_sql(plan)
    clauses, window_params = [], []
    if plan.window.start:
        clauses.append(" AND o.observed_at >= ?")
        window_params.append(plan.window.start)
    if plan.window.end:
        clauses.append(" AND o.observed_at < ?")
        window_params.append(plan.window.end)
    pick = ("QUALIFY row_number() OVER (PARTITION BY o.patient_id ORDER BY o.observed_at DESC, o.import_id DESC, "
            "o.value DESC) = 1") if plan.over == "latest" or plan.threshold is None else ""
    latest_sql = (f"SELECT c.patient_id, c.name, o.value, o.unit, o.observed_at FROM (SELECT * FROM ({cohort_sql})"
                  f"{population}) c JOIN observations o ON o.patient_id = c.patient_id "
                  f"WHERE o.code = ? AND o.value IS NOT NULL{''.join(clauses)} {pick}")
    params = [*cohort_params, code, *window_params]
    who = who_words(plan)
    scope = f" {plan.window.text}" if plan.window.text else ""
    alive = {"living": "living ", "deceased": "deceased ", "all": ""}[plan.population]
    note = {"living": " Living patients only; ask 'including the deceased' for everyone.",
            "deceased": " The deceased only.", "all": " The deceased are included."}[plan.population]
    named = f" ({plan.matched})" if plan.matched else ""
    columns = ["patient_id", "name", "value", "unit", "observed_at"]
    if plan.operation == "count" and plan.threshold is None:
        sql = f"SELECT patient_id, name, value, unit, observed_at FROM ({latest_sql}) ORDER BY patient_id"
        rows = [list(r) for r in store.con.execute(sql, params).fetchall()]
        text = f"{len(rows)} {alive}{who}{named} have at least one {name.lower()} reading{scope}.{note}"
        return Answer(plan, text, [Fact(f"number of {alive}{who} with {name}", len(rows))], [sql], [params],
                      columns, rows)
    if plan.operation in ("mean", "median", "min", "max"):
        agg = {"mean": "avg", "median": "median", "min": "min", "max": "max"}[plan.operation]
        agg_sql = f"SELECT {agg}(value), count(*), any_value(unit) FROM ({latest_sql})"
        value, count, unit = store.con.execute(agg_sql, params).fetchone()  # type: ignore[misc]
        list_sql = f"SELECT patient_id, name, value, unit, observed_at FROM ({latest_sql}) ORDER BY value DESC, patient_id"
        rows = [list(r) for r in store.con.execute(list_sql, params).fetchall()]
        if not count:
            return Answer(plan, f"No {alive}{who}{named} have a {name.lower()} reading{scope}.{note}", [],
                          [agg_sql, list_sql], [params, params], columns, rows)
        word = {"mean": "The mean", "median": "The median", "min": "The lowest", "max": "The highest"}[plan.operation]
        text = (f"{word} latest {name.lower()} among {count} {alive}{who}{scope}{named} is "
                f"{format_value(float(value))} {unit} (each patient's latest reading counted once; the patients "
                f"are in the table).{note}")
        fact = Fact(f"{plan.operation} {name}", round(float(value), 2), unit or "")
        return Answer(plan, text, [fact, Fact("patients counted", int(count))], [agg_sql, list_sql],
                      [params, params], columns, rows)
    return _which(store, plan, latest_sql, params, name, f"{alive}{who}", scope, named, note)


def _which(store: Store, plan: Plan, latest_sql: str, params: list[Any], name: str, who: str, scope: str,
           named: str, note: str) -> Answer:
    code = plan.measurements[0]
    sql = f"SELECT patient_id, name, value, unit, observed_at FROM ({latest_sql}) ORDER BY value DESC, patient_id, observed_at"
    readings = store.con.execute(sql, params).fetchall()
    everyone = patient_facts_many(store, list({r[0] for r in readings}))
    matched: list[list[Any]] = []
    seen: set[str] = set()
    measured = len({r[0] for r in readings})
    for pid, pname, value, unit, at in readings:
        patient = everyone.get(pid)
        f = flag(value, patient.reference_at(code, at)) if patient else None
        if plan.comparison in ("above", "below"):
            hit = passes(float(value), plan)
        elif plan.comparison == "abnormal":
            hit = f not in (None, "N")
        else:
            hit = True
        if hit and pid not in seen:
            seen.add(pid)
            matched.append([pid, pname, value, unit, at, f])
    each = "a latest" if plan.over == "latest" else "any"
    if plan.comparison in ("above", "below"):
        condition = f"{each} {name.lower()} {limit_words(plan)}"
    elif plan.comparison == "abnormal":
        condition = f"{each} {name.lower()} outside the healthy range"
    else:
        condition = f"a {name.lower()} reading"
    listing = "; ".join(f"{r[1] or r[0]} ({r[0]}): {format_value(r[2])} {r[3]} on {r[4]:%Y-%m-%d}" for r in matched[:10])
    more = f" (first 10 of {len(matched)} shown; all are in the table)" if len(matched) > 10 else ""
    text = (f"{len(matched)} of {measured} {who} with {name.lower()} readings{scope}{named} have {condition}"
            + (f": {listing}{more}." if matched else ".") + note)
    facts_out = [Fact(name, float(r[2]), r[3] or "", r[4].isoformat(), r[5], None, r[0]) for r in matched]
    facts_out.append(Fact(f"number of {who} with {name.lower()} readings", measured))
    if plan.comparison in ("above", "below"):
        facts_out.append(Fact("threshold", float(plan.threshold or 0), readings[0][3] if readings else ""))
    return Answer(plan, text, [Fact(f"number of {who}", len(matched)), *facts_out], [sql], [params],
                  ["patient_id", "name", "value", "unit", "observed_at", "flag"], matched)


_TOP_TABLES = {"condition": ("conditions", "onset", "diagnoses"), "medication": ("medications", "started_at", "drugs"),
               "procedure": ("procedures", "started_at", "procedures"), "immunization": ("immunizations", "given_at",
                                                                                         "vaccines"),
               "allergy": ("allergies", "recorded_on", "allergies"), "encounter": ("encounters", "started_at",
                                                                                   "visit types")}


def _top(store: Store, plan: Plan) -> Answer:
    table, when, many = _TOP_TABLES[plan.entity]
    cohort_sql, params = group_sql(plan, window_on_events=False)
    clauses = []
    if plan.window.start:
        clauses.append(f" AND t.{when} >= ?")
        params.append(plan.window.start)
    if plan.window.end:
        clauses.append(f" AND t.{when} < ?")
        params.append(plan.window.end)
    sql = (f"SELECT t.description, min(t.code) AS code, count(DISTINCT t.patient_id) AS patients, count(*) AS events "
           f"FROM {table} t JOIN (SELECT * FROM ({cohort_sql}){_population_sql(plan)}) g ON g.patient_id = t.patient_id "
           f"WHERE t.description IS NOT NULL{''.join(clauses)} GROUP BY t.description "
           f"ORDER BY patients DESC, events DESC, t.description")
    rows = [list(r) for r in store.con.execute(sql, params).fetchall()]
    social: list[list[Any]] = []
    if plan.entity == "condition":
        # Social and administrative findings are not what a clinician means by the most common diagnoses.
        social = [r for r in rows if is_social_finding(r[0])]
        rows = [r for r in rows if not is_social_finding(r[0])]
    left_out = len(social)
    every = rows
    rows, tied = _with_ties(rows, plan.limit)
    scope = f" {plan.window.text}" if plan.window.text else ""
    alive = {"living": "living patients", "deceased": "patients who have died", "all": "all patients, the deceased "
             "included"}[plan.population]
    if not rows:
        return Answer(plan, f"No {many} recorded{scope} among {alive}.", [Fact(f"number of {many}", 0)], [sql],
                      [params], ["description", "code", "patients", "events"], [])
    listing = _listing(rows)
    # What was left out is named too (its most common findings), so neither reading of "conditions" is hidden.
    shown_social = (f" ({left_out} social or administrative findings, such as employment or education, left out; "
                    f"the most common of them: {_listing(_with_ties(social, plan.limit)[0])})" if left_out else "")
    ties = (f" ({len(rows)} shown: {tied} share the last place, at {rows[-1][2]} patient"
            f"{'s' if rows[-1][2] != 1 else ''})" if tied else "")
    text = (f"The {min(len(rows), plan.limit)} most common {many}{scope} among {alive}, by number of patients"
            f"{shown_social}{ties}: {listing}.")
    facts = [Fact(f"patients with {_plain(r[0])}", int(r[2])) for r in rows]
    if tied:   # patients cannot rank the last place: the other count of "most frequent" is given as well
        records = {"medication": "prescriptions", "immunization": "doses", "condition": "diagnosis records"}.get(
            plan.entity, "records")
        by_events, _ = _with_ties(sorted(every, key=lambda r: (-r[3], r[0])), plan.limit, column=3)
        text += f" By number of {records} instead: " + "; ".join(f"{_plain(r[0])}: {r[3]} {records}"
                                                                   for r in by_events) + "."
        facts += [Fact(f"number of {records} of {_plain(r[0])}", int(r[3])) for r in by_events]
        facts += [Fact(f"number of {many} shown", len(rows)), Fact("number of names sharing the last place", tied)]
    return Answer(plan, text, facts, [sql], [params], ["description", "code", "patients", "events"], rows)


def _with_ties(rows: list[list[Any]], limit: int, column: int = 2) -> tuple[list[list[Any]], int]:
    """The first ``limit`` rows (ordered by ``column``: patients, or events) and every row tied with the last
    of them, and how many share that last place (0 when none is left out): "the 3 most common" never drops a
    name as common as the third."""
    if len(rows) <= limit or rows[limit - 1][column] != rows[limit][column]:
        return rows[:limit], 0
    edge = rows[limit - 1][column]
    shown = [r for r in rows if r[column] >= edge]
    return shown, sum(1 for r in shown if r[column] == edge)


def _plain(name: str) -> str:
    """A name as a person writes it: Synthea's doubled spaces (where commas were) made single."""
    return " ".join(str(name).split())


def _listing(rows: list[list[Any]]) -> str:
    return "; ".join(f"{_plain(r[0])}{' (' + str(r[1]) + ')' if r[1] else ''}: {r[2]} patient{'s' if r[2] != 1 else ''}"
                     for r in rows)


def _age_groups(store: Store, plan: Plan) -> Answer:
    cohort_sql, params = group_sql(plan, window_on_events=False)
    cases = " ".join(f"WHEN {AGE_SQL} BETWEEN {lo} AND {hi} THEN '{label}'" for lo, hi, label in AGE_BANDS)
    sql = (f"SELECT CASE {cases} ELSE 'unknown' END AS age_group, count(*) AS patients FROM patients p "
           f"JOIN (SELECT * FROM ({cohort_sql}){_population_sql(plan)}) g ON g.patient_id = p.patient_id "
           "GROUP BY 1 ORDER BY min(coalesce(" + AGE_SQL + ", 999))")
    rows = [list(r) for r in store.con.execute(sql, params).fetchall()]
    alive = {"living": "living patients (age today)", "deceased": "patients who have died (age at death)",
             "all": "all patients, the deceased included (their age at death)"}[plan.population]
    total = sum(int(r[1]) for r in rows)
    listing = "; ".join(f"{r[0]}: {r[1]}" for r in rows)
    text = f"{total} {alive} by age group: {listing}."
    facts = [Fact(f"patients aged {r[0]}", int(r[1])) for r in rows] + [Fact("patients counted", total)]
    return Answer(plan, text, facts, [sql], [params], ["age_group", "patients"], rows)
