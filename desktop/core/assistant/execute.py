"""Plan to answer: parameterised, read-only SQL on the workspace; every figure comes from DuckDB.

Each answer states the value, unit, date, flag and the healthy range used (with its authority), and keeps
the SQL, its parameters and the rows it used, for "How this was computed".
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from desktop.core.assistant.answer import Answer, Fact
from desktop.core.assistant.plan import HISTORY_OPERATIONS, Plan
from desktop.core.clinical.display_units import format_value
from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import flag
from desktop.core.queries.attention import rank_for_attention
from desktop.core.queries.medications import (
    ALLERGIES_SQL,
    MEDICATIONS_SQL,
    allergies_params,
    medications_params,
    patient_history,
)
from desktop.core.queries.patient_facts import PatientFacts, patient_facts, patient_facts_many
from desktop.core.queries.patients import PatientFilter
from desktop.core.queries.summary import LATEST_ORDER, PatientNotFound
from desktop.core.store import Store

FLAG_WORDS = {"N": "within the healthy range", "H": "above the healthy range", "L": "below the healthy range",
              "HH": "critically high", "LL": "critically low"}
READINGS_SHOWN = 50


def run_plan(store: Store, plan: Plan) -> Answer:
    """The computed answer to a validated data plan."""
    started = time.perf_counter()
    if plan.subject == "patient":
        answer = _patient(store, plan)
    else:
        answer = _workspace(store, plan)
    answer.seconds = time.perf_counter() - started
    return answer


def record_today(store: Store, patient_id: str | None) -> date:
    """The date relative windows ("last year") count back from: the newest reading in the record (of this
    patient, or of the workspace), so answers do not change with the computer's clock."""
    if patient_id:
        row = store.con.execute("SELECT max(observed_at) FROM observations WHERE patient_id = ?", [patient_id]).fetchone()
    else:
        row = store.con.execute("SELECT max(observed_at) FROM observations").fetchone()
    return row[0].date() if row and row[0] else date.today()


# ---------------------------------------------------------------------------------------------- patient
def _name(code: str) -> str:
    m = load_catalog().by_code(code)
    return m.name if m else code


def _window_sql(store: Store, plan: Plan, column: str = "observed_at") -> tuple[str, list[Any]]:
    w = plan.window
    clauses: list[str] = []
    params: list[Any] = []
    if w.last_visit and plan.patient_id:
        row = store.con.execute("SELECT max(observed_at)::DATE FROM observations WHERE patient_id = ?",
                                [plan.patient_id]).fetchone()
        if row and row[0]:
            clauses.append(f"{column}::DATE = ?")
            params.append(row[0])
    if w.start:
        clauses.append(f"{column} >= ?")
        params.append(w.start)
    if w.end:
        clauses.append(f"{column} < ?")
        params.append(w.end)
    return "".join(f" AND {c}" for c in clauses), params


def _describe(facts: PatientFacts, code: str, value: float | str | None, unit: str, at: datetime) -> Fact:
    if isinstance(value, (int, float)):
        reference = facts.reference_at(code, at)
        f = flag(value, reference)
        rule = reference.rule_for(f, unit) if reference is not None else None
        if reference is None:
            age = facts.age_at(at)
            rule = (f"not flagged: aged {age:g} at the reading" if age is not None and age < facts.ranges.adult_age_years
                    else "no reference range")
        return Fact(_name(code), float(value), unit, at.isoformat(), f, rule, facts.patient_id)
    return Fact(_name(code), str(value), "", at.isoformat(), None, "text value", facts.patient_id)


def _day(fact: Fact) -> str:
    return (fact.observed_at or "")[:10]


def _say(fact: Fact) -> str:
    """'150 mm[Hg] on 2024-02-05 (above the healthy range: H: >= 120 mm[Hg] (ACC/AHA ...))'."""
    value = format_value(fact.value) if isinstance(fact.value, float) else f'"{fact.value}"'
    unit = f" {fact.unit}" if fact.unit else ""
    when = f" on {fact.observed_at[:10]}" if fact.observed_at else ""
    if fact.flag:
        judged = f" ({FLAG_WORDS[fact.flag]}; {fact.rule})"
    elif fact.rule:
        judged = f" ({fact.rule})"
    else:
        judged = ""
    return f"{value}{unit}{when}{judged}"


def _patient(store: Store, plan: Plan) -> Answer:
    pid = plan.patient_id or ""
    facts = patient_facts(store, pid)
    if facts is None:
        raise PatientNotFound(f"no patient with id {pid!r} in {store.path}")
    if plan.operation in HISTORY_OPERATIONS:
        return _history(store, plan, pid)
    if plan.operation == "latest" and len(plan.measurements) == 2:
        first = _patient_one(store, plan, facts, plan.measurements[0])
        second = _patient_one(store, plan, facts, plan.measurements[1])
        # The readings first (systolic, diastolic), then the counts the texts state.
        both = first.facts + second.facts
        ordered = [f for f in both if not f.label.startswith("number of")] + \
            [f for f in both if f.label.startswith("number of")]
        return Answer(plan, f"{first.text} {second.text}", ordered, first.sql + second.sql,
                      first.params + second.params, first.columns, first.rows + second.rows)
    return _patient_one(store, plan, facts, plan.measurements[0])


def _history(store: Store, plan: Plan, pid: str) -> Answer:
    """Active medications (with the allergies: what a prescriber needs beside them) or the allergies alone."""
    h = patient_history(store, patient_id=pid)
    as_of = h.as_of.date().isoformat() if h.as_of else None
    at = f" as of {as_of}" if as_of else ""
    facts: list[Fact] = []
    rows: list[list[Any]] = []
    parts = []
    if plan.operation == "medications":
        meds = [f"{m.description} (since {m.started_at.date().isoformat()}" + (f", for {m.reason})" if m.reason else ")")
                for m in h.active_medications]
        parts.append(f"Active medications{at} ({len(meds)}): " + "; ".join(meds) + "." if meds
                     else f"No active medications recorded{at}.")
        for m in h.active_medications:
            facts.append(Fact(m.description, m.description, "", m.started_at.isoformat(), patient_id=pid))
            rows.append(["medication", m.description, m.started_at, m.reason])
    allergies = [f"{a.substance}" + (f" ({a.reaction_text()})" if a.reactions else " (reaction not recorded)")
                 for a in h.allergies]
    parts.append(f"Allergies and intolerances ({len(allergies)}): " + "; ".join(allergies) + "." if allergies
                 else "No allergies recorded.")
    for a in h.allergies:
        facts.append(Fact(a.substance, a.reaction_text() or "allergy", "", a.recorded_on.isoformat(), patient_id=pid))
        rows.append(["allergy", a.substance, a.recorded_on, a.reaction_text() or None])
    sql = [MEDICATIONS_SQL, ALLERGIES_SQL] if plan.operation == "medications" else [ALLERGIES_SQL]
    day = h.as_of.date() if h.as_of else None
    params = [medications_params(pid, h.as_of), allergies_params(pid, day)] if plan.operation == "medications" \
        else [allergies_params(pid, day)]
    return Answer(plan, " ".join(parts), facts, sql, params, ["kind", "what", "since", "reason or reaction"], rows)


def _patient_one(store: Store, plan: Plan, facts: PatientFacts, code: str) -> Answer:
    op, name = plan.operation, _name(code)
    window_sql, window_params = _window_sql(store, plan)
    numeric_only = op not in ("latest", "first", "last_date", "readings", "count", "in_range")
    value_filter = "value IS NOT NULL" if numeric_only else "(value IS NOT NULL OR value_raw IS NOT NULL)"
    sql = (f"SELECT observed_at, coalesce(value::VARCHAR, value_raw) AS value, value AS number, unit FROM observations "
           f"WHERE patient_id = ? AND code = ? AND {value_filter}{window_sql} ORDER BY {LATEST_ORDER}")
    params: list[Any] = [facts.patient_id, code, *window_params]
    rows = store.con.execute(sql, params).fetchall()
    columns = ["observed_at", "value", "unit", "flag"]
    scope = f" {plan.window.text}" if plan.window.text else ""
    if not rows:
        text = f"The record has no {name.lower()} readings{scope} for this patient."
        return Answer(plan, text, [], [sql], [params], columns, [])
    described = [_describe(facts, code, number if number is not None else value, unit or "", at)
                 for at, value, number, unit in rows]
    used = [[f.observed_at, f.value, f.unit, f.flag] for f in described]
    newest, oldest = described[0], described[-1]
    span = f"from {_day(oldest)} to {_day(newest)}" if len(described) > 1 else f"on {_day(newest)}"
    n = len(described)
    numbers = [f for f in described if isinstance(f.value, float)]
    stated: list[Fact]
    extra_sql: list[str] = []
    extra_params: list[list[Any]] = []
    if op == "latest":
        stated = [newest]
        text = f"The latest {name.lower()}{scope} is {_say(newest)}."
    elif op == "first":
        stated = [oldest]
        text = f"The first {name.lower()} recorded{scope} is {_say(oldest)}."
    elif op == "last_date":
        stated = [newest]
        text = f"{name} was last recorded on {_day(newest)}: {_say(newest)}."
    elif op == "count":
        # The count is a figure the answer states: a fact, so the verifier and the evaluation can read it.
        stated = [Fact(f"number of {name} readings", float(n), "", None, None, None, facts.patient_id)]
        text = f"There {'is' if n == 1 else 'are'} {n} {name.lower()} reading{'s' if n != 1 else ''}{scope}, {span}."
    elif op in ("max", "min"):
        pick = (max if op == "max" else min)(numbers, key=lambda f: float(f.value))
        stated = [pick]
        word = "highest" if op == "max" else "lowest"
        text = f"The {word} {name.lower()}{scope} is {_say(pick)}, out of {n} reading{'s' if n != 1 else ''} {span}."
    elif op in ("mean", "median"):
        agg = "avg" if op == "mean" else "median"
        agg_sql = (f"SELECT {agg}(value), count(*) FROM observations WHERE patient_id = ? AND code = ? "
                   f"AND value IS NOT NULL{window_sql}")
        value, count = store.con.execute(agg_sql, params).fetchone()  # type: ignore[misc]
        extra_sql, extra_params = [agg_sql], [params]
        fact = Fact(f"{op} {name}", round(float(value), 2), newest.unit, None, None, None, facts.patient_id)
        stated = [fact]
        text = (f"The {op} {name.lower()}{scope} is {format_value(float(value))} {newest.unit} over {count} "
                f"reading{'s' if count != 1 else ''} {span}.")
    elif op == "change":
        if len(numbers) < 2:
            stated = numbers[:1]
            text = f"There is only one {name.lower()} reading{scope}: {_say(numbers[0])}; no change can be computed."
        else:
            first, last = numbers[-1], numbers[0]
            delta = float(last.value) - float(first.value)
            stated = [first, last, Fact(f"change in {name}", round(delta, 2), last.unit, None, None, None, facts.patient_id)]
            direction = "rose" if delta > 0 else "fell" if delta < 0 else "did not change"
            text = (f"{name}{scope} {direction} from {_say(first)} to {_say(last)}: a change of "
                    f"{'+' if delta > 0 else ''}{format_value(delta)} {last.unit} over {len(numbers)} readings.")
    elif op == "readings":
        stated = described[:READINGS_SHOWN]
        more = f" (the newest {READINGS_SHOWN} shown; all {n} are in the table)" if n > READINGS_SHOWN else ""
        text = f"{n} {name.lower()} reading{'s' if n != 1 else ''}{scope}{more}: " + "; ".join(_say(f) for f in stated) + "."
    elif op == "in_range":
        stated = [newest]
        if not isinstance(newest.value, float):
            text = f"The latest {name.lower()} is a text value, {_say(newest)}: not judged against a range."
        elif newest.flag is None:
            text = f"The latest {name.lower()} is {_say(newest)}: there is no healthy range to judge it by."
        else:
            abnormal = [f for f in numbers if f.flag not in (None, "N")]
            text = (f"The latest {name.lower()} is {_say(newest)}. {len(abnormal)} of {len(numbers)} "
                    f"reading{'s' if len(numbers) != 1 else ''}{scope} were outside the healthy range.")
    else:  # above / below
        limit = float(plan.threshold or 0)
        hits = [f for f in numbers if (float(f.value) > limit if op == "above" else float(f.value) < limit)]
        stated = hits[:READINGS_SHOWN]
        unit = numbers[0].unit if numbers else ""
        listing = ("; ".join(_say(f) for f in stated)) if hits else "none"
        text = (f"{len(hits)} of {len(numbers)} {name.lower()} reading{'s' if len(numbers) != 1 else ''}{scope} "
                f"{'were' if len(hits) != 1 else 'was'} {op} {format_value(limit)} {unit}: {listing}.")
        used = [[f.observed_at, f.value, f.unit, f.flag] for f in hits]
        stated = [*stated, Fact(f"number of {name} readings {op} the threshold", float(len(hits))),
                  Fact("threshold", limit, unit)]
    if op == "in_range" and numbers:
        stated = [*stated, Fact(f"number of {name} readings outside the healthy range",
                                float(sum(1 for f in numbers if f.flag not in (None, "N"))))]
    if op != "count":
        # The counts the text states are figures too: the verifier checks text against these facts.
        stated = [*stated, Fact(f"number of {name} readings", float(n), "", None, None, None, facts.patient_id)]
        if len(numbers) != n:
            stated.append(Fact(f"number of numeric {name} readings", float(len(numbers))))
    if op in ("latest", "first", "last_date"):
        # The query reads every reading to order them; the answer rests on the one row it states.
        used = [[f.observed_at, f.value, f.unit, f.flag] for f in stated]
    return Answer(plan, text, stated, [sql, *extra_sql], [params, *extra_params], columns, used)


# --------------------------------------------------------------------------------------------- workspace
def _cohort_sql(plan: Plan) -> tuple[str, list[Any]]:
    """The patients the question is about, as a SQL subquery: the patient list's own filter."""
    c = plan.cohort
    where, params = PatientFilter(condition_words=c.condition, sex=c.sex, age_min=c.age_min,
                                  age_max=c.age_max).where()
    return f"SELECT p.patient_id, p.name FROM patients p {where}", list(params)


def _cohort_words(plan: Plan) -> str:
    c = plan.cohort
    who = {"F": "women", "M": "men"}.get(c.sex or "", "patients")
    parts = [who]
    if c.condition:
        parts.append(f"with {c.condition}")
    if c.age_min is not None and c.age_max is not None:
        parts.append(f"aged {c.age_min:g} to {c.age_max:g}")
    elif c.age_min is not None:
        parts.append(f"aged {c.age_min:g} or over")
    elif c.age_max is not None:
        parts.append(f"aged {c.age_max:g} or under")
    return " ".join(parts)


def _workspace(store: Store, plan: Plan) -> Answer:
    if plan.operation == "attention":
        ranked = rank_for_attention(store, limit=10)
        columns = ["patient_id", "name", "news2", "partial", "risk", "set_at", "reason"]
        rows = [[r.patient_id, r.name, r.news2, r.news2_partial, r.news2_risk, r.news2_at, r.reason] for r in ranked]
        if not ranked:
            text = "No patient has a NEWS2 score or a critical flag in their latest readings."
        else:
            text = "Patients to see first (NEWS2 of their latest observation set, then critical flags): " + "; ".join(
                f"{r.name or r.patient_id} ({r.patient_id}): {r.reason}" for r in ranked[:5]) + "."
        facts = [Fact("NEWS2", float(r.news2), "", r.news2_at, None, r.reason, r.patient_id)
                 for r in ranked if r.news2 is not None]
        return Answer(plan, text, facts, ["rank_for_attention (desktop/core/queries/attention.py)"], [[]], columns, rows)
    cohort_sql, cohort_params = _cohort_sql(plan)
    who = _cohort_words(plan)
    scope = f" {plan.window.text}" if plan.window.text else ""
    if plan.operation in ("count", "which_patients") and not plan.measurements:
        # A group and no measurement ("how many women with asthma", "list the patients with diabetes").
        sql = f"SELECT patient_id, name FROM ({cohort_sql}) ORDER BY patient_id"
        rows = [list(r) for r in store.con.execute(sql, cohort_params).fetchall()]
        text = f"The workspace has {len(rows)} {who}."
        if plan.operation == "which_patients" and rows:
            listing = "; ".join(f"{r[1] or r[0]} ({r[0]})" for r in rows[:10])
            more = f" (first 10 of {len(rows)} shown; all are in the table)" if len(rows) > 10 else ""
            text = f"The workspace has {len(rows)} {who}: {listing}{more}."
        return Answer(plan, text, [Fact(f"number of {who}", float(len(rows)))], [sql], [cohort_params],
                      ["patient_id", "name"], rows)
    code = plan.measurements[0]
    name = _name(code)
    window_sql, window_params = _window_sql(store, plan, "o.observed_at")
    latest_sql = (
        f"SELECT c.patient_id, c.name, o.value, o.unit, o.observed_at FROM ({cohort_sql}) c "
        f"JOIN observations o ON o.patient_id = c.patient_id "
        f"WHERE o.code = ? AND o.value IS NOT NULL{window_sql} "
        f"QUALIFY row_number() OVER (PARTITION BY o.patient_id ORDER BY o.observed_at DESC, o.import_id DESC, "
        f"o.value DESC) = 1"
    )
    params = [*cohort_params, code, *window_params]
    if plan.operation == "count":
        sql = f"SELECT patient_id, name, value, unit, observed_at FROM ({latest_sql}) ORDER BY patient_id"
        rows = [list(r) for r in store.con.execute(sql, params).fetchall()]
        text = f"{len(rows)} {who} have at least one {name.lower()} reading{scope}."
        return Answer(plan, text, [Fact(f"number of {who} with {name}", float(len(rows)))], [sql], [params],
                      ["patient_id", "name", "latest value", "unit", "observed_at"], rows)
    if plan.operation in ("mean", "median", "min", "max"):
        agg = {"mean": "avg", "median": "median", "min": "min", "max": "max"}[plan.operation]
        agg_sql = f"SELECT {agg}(value), count(*), any_value(unit) FROM ({latest_sql})"
        value, count, unit = store.con.execute(agg_sql, params).fetchone()  # type: ignore[misc]
        list_sql = f"SELECT patient_id, name, value, unit, observed_at FROM ({latest_sql}) ORDER BY value DESC, patient_id"
        rows = [list(r) for r in store.con.execute(list_sql, params).fetchall()]
        columns = ["patient_id", "name", "latest value", "unit", "observed_at"]
        if not count:
            text = f"No {who} have a {name.lower()} reading{scope}."
            return Answer(plan, text, [], [agg_sql, list_sql], [params, params], columns, rows)
        word = {"mean": "The mean", "median": "The median", "min": "The lowest", "max": "The highest"}[plan.operation]
        text = (f"{word} latest {name.lower()} among {count} {who}{scope} is {format_value(float(value))} {unit} "
                f"(each patient's latest reading counted once; the patients are in the table).")
        fact = Fact(f"{plan.operation} {name}", round(float(value), 2), unit or "")
        return Answer(plan, text, [fact, Fact("patients counted", float(count))], [agg_sql, list_sql],
                      [params, params], columns, rows)
    # which_patients
    sql = f"SELECT patient_id, name, value, unit, observed_at FROM ({latest_sql}) ORDER BY value DESC, patient_id"
    latest = store.con.execute(sql, params).fetchall()
    matched: list[list[Any]] = []
    everyone = patient_facts_many(store, [r[0] for r in latest])
    for pid, pname, value, unit, at in latest:
        patient = everyone.get(pid)
        f = flag(value, patient.reference_at(code, at)) if patient else None
        if plan.comparison == "above":
            hit = value > float(plan.threshold or 0)
        elif plan.comparison == "below":
            hit = value < float(plan.threshold or 0)
        elif plan.comparison == "abnormal":
            hit = f not in (None, "N")
        else:
            hit = True
        if hit:
            matched.append([pid, pname, value, unit, at, f])
    if plan.comparison in ("above", "below"):
        condition = f"a latest {name.lower()} {plan.comparison} {format_value(float(plan.threshold or 0))}"
    elif plan.comparison == "abnormal":
        condition = f"a latest {name.lower()} outside the healthy range"
    else:
        condition = f"a {name.lower()} reading"
    listing = "; ".join(f"{r[1] or r[0]} ({r[0]}): {format_value(r[2])} {r[3]} on {r[4]:%Y-%m-%d}" for r in matched[:10])
    more = f" (first 10 of {len(matched)} shown; all are in the table)" if len(matched) > 10 else ""
    text = (f"{len(matched)} of {len(latest)} {who} with {name.lower()} readings{scope} have {condition}"
            + (f": {listing}{more}." if matched else "."))
    facts_out = [Fact(name, float(r[2]), r[3] or "", r[4].isoformat(), r[5], None, r[0]) for r in matched]
    facts_out.append(Fact(f"number of {who} with {name.lower()} readings", float(len(latest))))
    if plan.comparison in ("above", "below"):
        facts_out.append(Fact("threshold", float(plan.threshold or 0), latest[0][3] if latest else ""))
    return Answer(plan, text, [Fact(f"number of {who}", float(len(matched))), *facts_out], [sql], [params],
                  ["patient_id", "name", "latest value", "unit", "observed_at", "flag"], matched)
