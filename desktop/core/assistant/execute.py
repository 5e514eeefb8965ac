"""Plan to answer: parameterised, read-only SQL on the workspace; every figure comes from DuckDB.

Each answer states the value, unit, date, flag and the healthy range used (with its authority), and keeps
the SQL, its parameters and the rows it used, for "How this was computed".
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from typing import Any

from desktop.core.assistant.answer import Answer, Fact
from desktop.core.assistant.execute_cohort import run_workspace
from desktop.core.assistant.execute_events import run_events
from desktop.core.assistant.handover import handover_answer
from desktop.core.assistant.plan import HISTORY_OPERATIONS, Plan, TimeWindow
from desktop.core.assistant.readings import (
    LAST_VISIT_SQL,
    describe_reading,
    last_visit_day,
    measurement_name,
    patient_readings,
    reading_day,
    say_reading,
    window_sql,
)
from desktop.core.clinical.display_units import format_value
from desktop.core.queries.attention import rank_for_attention
from desktop.core.queries.medications import (
    ALLERGIES_SQL,
    MEDICATIONS_SQL,
    allergies_params,
    medications_params,
    patient_history,
)
from desktop.core.queries.patient_facts import PatientFacts, patient_facts
from desktop.core.queries.summary import PatientNotFound
from desktop.core.workspace.store import Store

READINGS_SHOWN = 50


def run_plan(store: Store, plan: Plan) -> Answer:
    """The computed answer to a validated data plan."""
    started = time.perf_counter()
    if plan.kind == "declined":
        answer = Answer(plan, plan.decline, declined=True)
    elif plan.operation == "handover":
        answer = handover_answer(store, plan)
    elif plan.subject == "patient" and plan.entity != "observation":
        answer = run_events(store, plan)
    elif plan.subject == "patient":
        answer = _patient(store, plan)
    elif plan.operation == "attention":
        answer = _attention(store, plan)
    else:
        answer = run_workspace(store, plan)
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
def _patient(store: Store, plan: Plan) -> Answer:
    pid = plan.patient_id or ""
    facts = patient_facts(store, pid)
    if facts is None:
        raise PatientNotFound(f"no patient with id {pid!r} in {store.path}")
    if plan.operation in HISTORY_OPERATIONS:
        return _history(store, plan, pid)
    if plan.operation in ("compare", "exists", "count_days") or plan.yes_no or plan.inclusive:
        from desktop.core.assistant.execute_readings import run_reading_question
        return run_reading_question(store, plan, facts)
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
    op, name = plan.operation, measurement_name(code)
    numeric_only = op not in ("latest", "first", "last_date", "readings", "count", "in_range")
    sql, params, rows = patient_readings(store, plan, facts, code, numeric=numeric_only)
    columns = ["observed_at", "value", "unit", "flag"]
    scope = f" {plan.window.text}" if plan.window.text else ""
    if not rows and plan.window.last_visit:
        # "What was the pulse at the last visit?" with none taken then: the newest reading, and say so.
        day = last_visit_day(store, facts.patient_id)
        fallback = _patient_one(store, replace(plan, window=TimeWindow()), facts, code)
        if fallback.facts:
            fallback.text = (f"The last visit ({day.isoformat() if day else 'no date'}) has no {name.lower()} reading; "
                             f"the newest one instead: {fallback.text}")
            fallback.sql, fallback.params = [LAST_VISIT_SQL, *fallback.sql], [[facts.patient_id] * 2, *fallback.params]
        return fallback
    if not rows:
        held = store.con.execute("SELECT count(*) FROM observations WHERE code = ?", [code]).fetchone()
        if not held or not held[0]:
            # No patient has one: the workspace does not hold this measurement (a ventilator's FiO2 in a
            # Synthea export), which is not the same as this patient never having had it measured.
            return Answer(plan, f"The record does not hold {name.lower()} readings: no patient in this workspace "
                                "has one.", [], [sql], [params], columns, [], declined=True)
        text = f"The record has no {name.lower()} readings{scope} for this patient."
        return Answer(plan, text, [], [sql], [params], columns, [])
    described = [describe_reading(facts, code, number if number is not None else value, unit or "", at)
                 for at, value, number, unit in rows]
    used = [[f.observed_at, f.value, f.unit, f.flag] for f in described]
    newest, oldest = described[0], described[-1]
    span = f"from {reading_day(oldest)} to {reading_day(newest)}" if len(described) > 1 else f"on {reading_day(newest)}"
    n = len(described)
    numbers = [f for f in described if isinstance(f.value, float)]
    stated: list[Fact]
    extra_sql: list[str] = []
    extra_params: list[list[Any]] = []
    if op == "latest":
        stated = [newest]
        text = f"The latest {name.lower()}{scope} is {say_reading(newest)}."
    elif op == "first":
        stated = [oldest]
        text = f"The first {name.lower()} recorded{scope} is {say_reading(oldest)}."
    elif op == "last_date":
        stated = [newest]
        text = f"{name} was last recorded on {reading_day(newest)}: {say_reading(newest)}."
    elif op == "count":
        # The count is a figure the answer states: a fact, so the verifier and the evaluation can read it.
        stated = [Fact(f"number of {name} readings", n, "", None, None, None, facts.patient_id)]
        text = f"There {'is' if n == 1 else 'are'} {n} {name.lower()} reading{'s' if n != 1 else ''}{scope}, {span}."
    elif op in ("max", "min"):
        pick = (max if op == "max" else min)(numbers, key=lambda f: float(f.value))
        stated = [pick]
        word = "highest" if op == "max" else "lowest"
        text = f"The {word} {name.lower()}{scope} is {say_reading(pick)}, out of {n} reading{'s' if n != 1 else ''} {span}."
    elif op in ("mean", "median"):
        agg = "avg" if op == "mean" else "median"
        clause, _ = window_sql(store, plan)   # the same window, hence the same parameters as the rows'
        agg_sql = (f"SELECT {agg}(value), count(*) FROM observations WHERE patient_id = ? AND code = ? "
                   f"AND value IS NOT NULL{clause}")
        value, count = store.con.execute(agg_sql, params).fetchone()  # type: ignore[misc]
        extra_sql, extra_params = [agg_sql], [params]
        fact = Fact(f"{op} {name}", round(float(value), 2), newest.unit, None, None, None, facts.patient_id)
        stated = [fact]
        text = (f"The {op} {name.lower()}{scope} is {format_value(float(value))} {newest.unit} over {count} "
                f"reading{'s' if count != 1 else ''} {span}.")
    elif op == "change":
        if len(numbers) < 2:
            stated = numbers[:1]
            text = f"There is only one {name.lower()} reading{scope}: {say_reading(numbers[0])}; no change can be computed."
        else:
            first, last = numbers[-1], numbers[0]
            delta = float(last.value) - float(first.value)
            # The answer first: the change, then the two readings it is computed from.
            stated = [Fact(f"change in {name}", round(delta, 2), last.unit, None, None, None, facts.patient_id),
                      first, last]
            direction = "rose" if delta > 0 else "fell" if delta < 0 else "did not change"
            text = (f"A change of {'+' if delta > 0 else ''}{format_value(delta)} {last.unit}: {name.lower()}{scope} "
                    f"{direction} from {say_reading(first)} to {say_reading(last)}, over {len(numbers)} readings.")
    elif op == "readings":
        stated = described[:READINGS_SHOWN]
        more = f" (the newest {READINGS_SHOWN} shown; all {n} are in the table)" if n > READINGS_SHOWN else ""
        text = f"{n} {name.lower()} reading{'s' if n != 1 else ''}{scope}{more}: " + "; ".join(say_reading(f) for f in stated) + "."
    elif op == "in_range":
        stated = [newest]
        if not isinstance(newest.value, float):
            text = f"The latest {name.lower()} is a text value, {say_reading(newest)}: not judged against a range."
        elif newest.flag is None:
            text = f"The latest {name.lower()} is {say_reading(newest)}: there is no healthy range to judge it by."
        else:
            abnormal = [f for f in numbers if f.flag not in (None, "N")]
            text = (f"The latest {name.lower()} is {say_reading(newest)}. {len(abnormal)} of {len(numbers)} "
                    f"reading{'s' if len(numbers) != 1 else ''}{scope} were outside the healthy range.")
    else:  # above / below
        limit = float(plan.threshold or 0)
        hits = [f for f in numbers if (float(f.value) > limit if op == "above" else float(f.value) < limit)]
        stated = hits[:READINGS_SHOWN]
        unit = numbers[0].unit if numbers else ""
        listing = ("; ".join(say_reading(f) for f in stated)) if hits else "none"
        text = (f"{len(hits)} of {len(numbers)} {name.lower()} reading{'s' if len(numbers) != 1 else ''}{scope} "
                f"{'were' if len(hits) != 1 else 'was'} {op} {format_value(limit)} {unit}: {listing}.")
        used = [[f.observed_at, f.value, f.unit, f.flag] for f in hits]
        stated = [*stated, Fact(f"number of {name} readings {op} the threshold", len(hits)),
                  Fact("threshold", limit, unit)]
    if op == "in_range" and numbers:
        stated = [*stated, Fact(f"number of {name} readings outside the healthy range",
                                sum(1 for f in numbers if f.flag not in (None, "N")))]
    if op != "count":
        # The counts the text states are figures too: the verifier checks text against these facts.
        stated = [*stated, Fact(f"number of {name} readings", n, "", None, None, None, facts.patient_id)]
        if len(numbers) != n:
            stated.append(Fact(f"number of numeric {name} readings", len(numbers)))
    if op in ("latest", "first", "last_date"):
        # The query reads every reading to order them; the answer rests on the one row it states.
        used = [[f.observed_at, f.value, f.unit, f.flag] for f in stated]
    return Answer(plan, text, stated, [sql, *extra_sql], [params, *extra_params], columns, used)


# --------------------------------------------------------------------------------------------- workspace
def _attention(store: Store, plan: Plan) -> Answer:
    ranked = rank_for_attention(store, limit=10)
    columns = ["patient_id", "name", "news2", "partial", "risk", "set_at", "reason"]
    rows = [[r.patient_id, r.name, r.news2, r.news2_partial, r.news2_risk, r.news2_at, r.reason] for r in ranked]
    if not ranked:
        text = "No patient has a NEWS2 score or a critical flag in their latest readings."
    else:
        # The rule as attention.py ranks (contracts.md 3): band first, recent findings only.
        text = ("Patients to see first (most urgent first: a critical flag or a NEWS2 high risk, then NEWS2 medium "
                "risk, then NEWS2 low risk or an abnormal flag; findings older than 30 days are listed as old, not "
                "ranked): ") + "; ".join(
            f"{r.name or r.patient_id} ({r.patient_id}): {r.reason}" for r in ranked[:5]) + "."
    facts = [Fact("NEWS2", float(r.news2), "", r.news2_at, None, r.reason, r.patient_id)
             for r in ranked if r.news2 is not None]
    return Answer(plan, text, facts, ["rank_for_attention (desktop/core/queries/attention.py)"], [[]], columns, rows)
