"""One patient's events (diagnoses, prescriptions, visits, procedures, immunizations, allergies) and patient row,
answered by read-only parameterised SQL. Yes/no answers begin with Yes or No, then the events with dates;
every figure stated is a Fact (a count as an int, an event as its description with its date)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from desktop.core.assistant.answer import Answer, Fact
from desktop.core.assistant.plan import Plan
from desktop.core.assistant.record_plan import CLASS_WORDS
from desktop.core.queries.medications import has_history_tables, workspace_as_of
from desktop.core.queries.patients import age_years
from desktop.core.queries.summary import PatientNotFound
from desktop.core.workspace.store import Store

# entity -> (table, when, stop, reason, what one is called, its plural, the verb for "when")
TABLES: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "condition": ("conditions", "onset", "resolved", "NULL", "diagnosis", "diagnoses", "diagnosed"),
    "medication": ("medications", "started_at", "stopped_at", "reason", "prescription", "prescriptions", "prescribed"),
    "encounter": ("encounters", "started_at", "ended_at", "reason", "visit", "visits", "seen"),
    "procedure": ("procedures", "started_at", "stopped_at", "reason", "procedure", "procedures", "performed"),
    "immunization": ("immunizations", "given_at", "NULL", "NULL", "immunization", "immunizations", "given"),
    "allergy": ("allergies", "recorded_on", "resolved_on", "NULL", "allergy", "allergies", "recorded"),
}
SHOWN = 20


def _day(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat() if value else "no date"


def events_sql(plan: Plan, as_of: datetime | None) -> tuple[str, list[Any]]:
    """The patient's matching events, oldest first (events without a date last)."""
    table, when, stop, reason, *_ = TABLES[plan.entity]
    klass = "encounter_class" if plan.entity == "encounter" else "NULL"
    clauses: list[str] = ["patient_id = ?"]
    params: list[Any] = [plan.patient_id]
    if plan.terms:
        column = "coalesce(reason, '') IN ({0}) OR description" if plan.entity == "encounter" else "description"
        marks = ", ".join("?" * len(plan.terms))
        clauses.append(f"({column.format(marks)} IN ({marks}))")
        params += [*plan.terms, *plan.terms] if plan.entity == "encounter" else [*plan.terms]
    elif plan.term_text:  # a name no description in the workspace matches: the query says so by finding none
        clauses.append("regexp_matches(lower(description), ?)")
        params.append(r"\b" + re.escape(plan.term_text.lower()))
    if plan.encounter_class:
        clauses.append("lower(encounter_class) = ?")
        params.append(plan.encounter_class)
    if plan.window.last_visit:  # the day of the patient's newest encounter
        clauses.append(f"{when}::DATE = (SELECT max(started_at)::DATE FROM encounters WHERE patient_id = ?)")
        params.append(plan.patient_id)
    if plan.window.start:
        clauses.append(f"{when} >= ?")
        params.append(plan.window.start)
    if plan.window.end:
        clauses.append(f"{when} < ?")
        params.append(plan.window.end)
    if plan.comparison == "active" and stop != "NULL":
        clauses.append(f"({stop} IS NULL OR {stop} > ?)")
        params.append(as_of)
    sql = (f"SELECT {when} AS at, {stop} AS stopped, description, code, {reason} AS reason, {klass} AS class "
           f"FROM {table} WHERE {' AND '.join(clauses)} ORDER BY {when} NULLS LAST, description")
    return sql, params


def _label(plan: Plan) -> tuple[str, str]:
    one, many = TABLES[plan.entity][4], TABLES[plan.entity][5]
    if plan.encounter_class:
        kind = CLASS_WORDS.get(plan.encounter_class, plan.encounter_class)
        return f"{kind} visit", f"{kind} visits"
    return one, many


def _event(plan: Plan, row: tuple[Any, ...]) -> str:
    at, stopped, description, code, reason, klass = row
    parts = [f"{description} on {_day(at)}"]
    if plan.entity == "encounter" and klass:
        parts[0] = f"{CLASS_WORDS.get(str(klass).lower(), klass)} visit on {_day(at)} ({description}"
        parts[0] += f"; reason: {reason})" if reason else ")"
    elif reason and plan.entity in ("medication", "procedure"):
        parts.append(f"for {reason}")
    if stopped and plan.entity in ("condition", "medication", "allergy"):
        parts.append(f"{'resolved' if plan.entity != 'medication' else 'stopped'} {_day(stopped)}")
    return ", ".join(parts)


def _fact(plan: Plan, row: tuple[Any, ...], label: str) -> Fact:
    at = row[0]
    stamp = at.isoformat() if at is not None else None
    return Fact(label, str(row[2]), "", stamp, patient_id=plan.patient_id)


def _as_of(store: Store, pid: str) -> datetime | None:
    """What "currently" means: the workspace's latest date, or the patient's death."""
    when = workspace_as_of(store)
    died = store.con.execute("SELECT death_date FROM patients WHERE patient_id = ?", [pid]).fetchone()
    if died and died[0] is not None:
        death = datetime.combine(died[0], datetime.max.time())
        when = death if when is None or death < when else when
    return when


def run_events(store: Store, plan: Plan) -> Answer:
    pid = plan.patient_id or ""
    if store.con.execute("SELECT 1 FROM patients WHERE patient_id = ?", [pid]).fetchone() is None:
        raise PatientNotFound(f"no patient with id {pid!r} in {store.path}")
    if plan.entity == "patient":
        return _patient_row(store, plan)
    if plan.entity in ("medication", "procedure", "immunization", "allergy") and not has_history_tables(store):
        return Answer(plan, "This workspace was imported before medications, allergies, procedures and "
                            "immunizations were kept: import the files again to ask about them.", declined=True)
    as_of = _as_of(store, pid)
    sql, params = events_sql(plan, as_of)
    rows = store.con.execute(sql, params).fetchall()
    one, many = _label(plan)
    named = f" ({plan.matched})" if plan.matched else ""
    what = f"{one} of {plan.term_text}" if plan.term_text and plan.terms else one
    whats = f"{many} of {plan.term_text}" if plan.term_text and plan.terms else many
    if plan.term_text and not plan.terms:
        what = whats = f"{one} matching '{plan.term_text}'"
    scope = f" {plan.window.text}" if plan.window.text else ""
    now = f" still active as of {_day(as_of)}" if plan.comparison == "active" and as_of else ""
    columns = ["date", "stop", "description", "code", "reason", "class"]
    used = [list(r) for r in rows]
    n = len(rows)
    count = Fact(f"number of {many}", n, "", None, patient_id=pid)
    op = plan.operation
    if n == 0:
        # Nothing found: the names searched for are "looked for", never "matched" (which reads as a match).
        named = f" (looked for: {plan.matched.removeprefix('matched: ')})" if plan.matched.startswith("matched: ") \
            else named
        no = "No: " if op == "exists" else ""
        text = f"{no}the record has no {what}{now}{scope} for this patient{named}."
        if op in ("count", "count_days"):   # a count is stated as a number, also when it is none
            text = f"0 {whats}{now}{scope}: the record has none for this patient{named}."
        return Answer(plan, text[0].upper() + text[1:], [count], [sql], [params], columns, [])
    events = [_fact(plan, r, one) for r in rows]
    listing = "; ".join(_event(plan, r) for r in rows[-SHOWN:][::-1])
    more = f" (the newest {SHOWN} shown; all {n} are in the table)" if n > SHOWN else ""
    if op == "exists":
        text = f"Yes: {n} {whats if n != 1 else what}{now}{scope}{named}: {listing}{more}."
        return Answer(plan, text, [count, *events[-SHOWN:]], [sql], [params], columns, used)
    if op in ("first", "latest"):
        row = rows[0] if op == "first" else _newest(rows)
        word = "first" if op == "first" else "last"
        text = f"The {word} {what}{now}{scope} was {_event(plan, row)}{named}; {n} in all."
        return Answer(plan, text, [_fact(plan, row, one), count], [sql], [params], columns, [list(row)])
    if op == "count":
        span = f", from {_day(rows[0][0])} to {_day(_newest(rows)[0])}" if n > 1 else f", on {_day(rows[0][0])}"
        text = f"{n} {whats if n != 1 else what}{now}{scope}{span}{named}."
        return Answer(plan, text, [count, *events[-SHOWN:]], [sql], [params], columns, used)
    if op == "count_days":
        days = sorted({_day(r[0]) for r in rows})
        text = f"{len(days)} distinct day{'s' if len(days) != 1 else ''} with {whats}{scope} ({n} in all){named}."
        return Answer(plan, text, [Fact(f"number of days with {many}", len(days), "", None, patient_id=pid), count],
                      [sql], [params], columns, used)
    if op == "list":
        text = f"{n} {whats if n != 1 else what}{now}{scope}{named}, newest first: {listing}{more}."
        return Answer(plan, text, [count, *events[-SHOWN:]], [sql], [params], columns, used)
    if op == "when":
        first, last = rows[0], _newest(rows)
        verb = TABLES[plan.entity][6]
        if n == 1:
            text = f"{what[0].upper() + what[1:]}: {verb} on {_day(first[0])} ({first[2]}){named}."
        else:
            text = (f"{whats[0].upper() + whats[1:]}: first {verb} on {_day(first[0])} ({first[2]}), last on "
                    f"{_day(last[0])} ({last[2]}); {n} in all{named}.")
        return Answer(plan, text, [_fact(plan, first, one), _fact(plan, last, one), count], [sql], [params], columns,
                      used)
    chosen = [rows[0]] if plan.over == "first" else [_newest(rows)] if plan.over == "latest" else rows
    if op == "stop":
        parts = []
        for r in chosen[-SHOWN:]:
            word = "resolved" if plan.entity in ("condition", "allergy") else "stopped"
            if r[1] is not None:
                parts.append(f"{r[2]} (from {_day(r[0])}) {word} on {_day(r[1])}")
            else:
                parts.append(f"{r[2]} (from {_day(r[0])}) has no {word[:-1] if word.endswith('d') else word} date: "
                             f"not {word} as of {_day(as_of)}")
        facts = [Fact(f"{one} {'stop' if plan.entity == 'medication' else 'end'}", str(r[2]), "",
                      r[1].isoformat() if r[1] is not None else None, patient_id=pid) for r in chosen[-SHOWN:]]
        return Answer(plan, "; ".join(parts) + f"{named}.", facts, [sql], [params], columns, [list(r) for r in chosen])
    parts = [f"{_event(plan, r)}: " + (f"reason recorded: {r[4]}" if r[4] else "no reason recorded") for r in chosen[-SHOWN:]]
    return Answer(plan, "; ".join(parts) + f"{named}.", [_fact(plan, r, one) for r in chosen[-SHOWN:]], [sql], [params],
                  columns, [list(r) for r in chosen])


def _newest(rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    dated = [r for r in rows if r[0] is not None]
    return dated[-1] if dated else rows[-1]


PATIENT_SQL = "SELECT name, sex, birth_date, death_date, birth_date_estimated FROM patients WHERE patient_id = ?"


def _patient_row(store: Store, plan: Plan) -> Answer:
    pid = plan.patient_id or ""
    row = store.con.execute(PATIENT_SQL, [pid]).fetchone()
    assert row is not None  # checked by run_events
    name, sex, born, died, estimated = row
    columns = ["name", "sex", "birth_date", "death_date", "birth_date_estimated"]
    used, sql, params = [list(row)], [PATIENT_SQL], [[pid]]
    about = "estimated from an age in the file" if estimated else "as recorded"
    op = plan.operation
    if op == "sex":
        words = {"F": "female", "M": "male"}.get(sex or "", "not recorded")
        return Answer(plan, f"The recorded sex is {words}" + (f" ({sex})." if sex else "."),
                      [Fact("sex", sex or "unknown", "", None, patient_id=pid)], sql, params, columns, used)
    if op == "birth":
        if born is None:
            return Answer(plan, "The record has no date of birth for this patient.", [], sql, params, columns, used)
        return Answer(plan, f"Born on {born.isoformat()} ({about}).",
                      [Fact("date of birth", born.isoformat(), "", born.isoformat(), patient_id=pid)], sql, params,
                      columns, used)
    if op == "death":
        as_of = workspace_as_of(store)
        if died is None:
            lead = "Yes" if plan.comparison == "alive" else "No"
            text = (f"{lead}: the record has no date of death; the patient is alive as far as the record goes "
                    f"(its newest data: {_day(as_of)}).")
            return Answer(plan, text if plan.yes_no or plan.comparison == "alive" else text[len(lead) + 2:].capitalize(),
                          [], sql, params, columns, used)
        age = age_years(born, died)
        lead = "No" if plan.comparison == "alive" else "Yes"
        aged = f", aged {age:g}" if age is not None else ""
        text = f"{lead}: the patient died on {died.isoformat()}{aged}." if plan.yes_no or plan.comparison == "alive" \
            else f"The patient died on {died.isoformat()}{aged}."
        facts = [Fact("date of death", died.isoformat(), "", died.isoformat(), patient_id=pid)]
        if age is not None:
            facts.append(Fact("age at death", int(age), "years", died.isoformat(), patient_id=pid))
        return Answer(plan, text, facts, sql, params, columns, used)
    # age: completed years at the date asked, else today (or at death)
    if born is None:
        return Answer(plan, "The record has no date of birth for this patient, so no age.", [], sql, params,
                      columns, used)
    at = plan.on_date or (died if died is not None else date.today())
    if at < born:
        return Answer(plan, f"On {at.isoformat()} the patient was not yet born (born {born.isoformat()}).",
                      [Fact("date of birth", born.isoformat(), "", born.isoformat(), patient_id=pid)], sql, params,
                      columns, used)
    note = ""
    if died is not None and at > died:
        note = f" The patient died on {died.isoformat()}; this is the age at death."
        at = died
    age = int(age_years(born, at) or 0)
    when = "at death" if died is not None and at == died and not plan.on_date else f"on {at.isoformat()}"
    text = f"Aged {age} {when} (born {born.isoformat()}, {about}).{note}"
    return Answer(plan, text, [Fact("age", age, "years", at.isoformat(), patient_id=pid),
                               Fact("date of birth", born.isoformat(), "", born.isoformat(), patient_id=pid)],
                  sql, params, columns, used)
