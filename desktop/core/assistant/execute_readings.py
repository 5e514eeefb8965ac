"""Readings questions beyond one figure: yes/no on the latest reading or on any reading past a threshold, the
last reading against the first, whether a measurement was ever taken, and on how many days. Each answer
begins with Yes or No where the question asks so, then the readings with their dates."""

from __future__ import annotations

from desktop.core.assistant.answer import Answer, Fact
from desktop.core.assistant.plan import Plan
from desktop.core.assistant.readings import describe_reading, measurement_name, patient_readings, say_reading
from desktop.core.clinical.display_units import format_value
from desktop.core.queries.patient_facts import PatientFacts
from desktop.core.workspace.store import Store

_RELATION_WORDS = {"less": "less than", "greater": "greater than", "same": "the same as", "different": "different from"}


def passes(value: float, plan: Plan) -> bool:
    limit = float(plan.threshold or 0)
    if plan.comparison == "above":
        return value >= limit if plan.inclusive else value > limit
    return value <= limit if plan.inclusive else value < limit


def limit_words(plan: Plan, unit: str = "") -> str:
    number = f"{format_value(float(plan.threshold or 0))}{' ' + unit if unit else ''}"
    if plan.inclusive:
        return f"{number} or {'higher' if plan.comparison == 'above' else 'lower'}"
    return f"{'above' if plan.comparison == 'above' else 'below'} {number}"


def run_reading_question(store: Store, plan: Plan, facts: PatientFacts) -> Answer:
    code = plan.measurements[0]
    name = measurement_name(code)
    numeric = plan.operation in ("compare", "latest", "above", "below")
    sql, params, rows = patient_readings(store, plan, facts, code, numeric=numeric)
    columns = ["observed_at", "value", "unit", "flag"]
    scope = f" {plan.window.text}" if plan.window.text else ""
    described = [describe_reading(facts, code, number if number is not None else value, unit or "", at)
                 for at, value, number, unit in rows]
    n = len(described)
    count = Fact(f"number of {name} readings", n, "", None, patient_id=facts.patient_id)
    op = plan.operation
    if op == "count_days":
        days = sorted({(f.observed_at or "")[:10] for f in described})
        text = (f"{name} was recorded on {len(days)} distinct day{'s' if len(days) != 1 else ''}{scope} "
                f"({n} reading{'s' if n != 1 else ''})"
                + (f", from {days[0]} to {days[-1]}." if len(days) > 1 else f", on {days[0]}." if days else "."))
        return Answer(plan, text, [Fact(f"number of days with {name} readings", len(days), "", None,
                                        patient_id=facts.patient_id), count], [sql], [params], columns,
                      [[f.observed_at, f.value, f.unit, f.flag] for f in described])
    if not described:
        lead = "No: t" if plan.yes_no or op == "exists" else "T"
        return Answer(plan, f"{lead}he record has no {name.lower()} readings{scope} for this patient; nothing to "
                            "compare." if op == "compare" and plan.yes_no else
                      f"{lead}he record has no {name.lower()} readings{scope} for this patient.", [count], [sql],
                      [params], columns, [])
    newest, oldest = described[0], described[-1]
    if op == "exists":
        text = (f"Yes: {n} {name.lower()} reading{'s' if n != 1 else ''}{scope}, the first {say_reading(oldest)}, the latest "
                f"{say_reading(newest)}." if n > 1 else f"Yes: one {name.lower()} reading{scope}, {say_reading(newest)}.")
        return Answer(plan, text, [count, newest, oldest] if n > 1 else [count, newest], [sql], [params], columns,
                      [[f.observed_at, f.value, f.unit, f.flag] for f in (newest, oldest)])
    if op == "compare":
        if n < 2:
            return Answer(plan, f"There is only one {name.lower()} reading{scope} ({say_reading(newest)}), so the last "
                                "cannot be compared with the first.", [newest, count], [sql], [params], columns,
                          [[newest.observed_at, newest.value, newest.unit, newest.flag]])
        last, first = float(newest.value), float(oldest.value)
        actual = "greater" if last > first else "less" if last < first else "same"
        asked = plan.comparison or "different"
        holds = actual == asked or (asked == "different" and actual != "same")
        text = (f"{'Yes' if holds else 'No'}: the last {name.lower()}{scope}, {say_reading(newest)}, is "
                f"{_RELATION_WORDS[actual]} the first, {say_reading(oldest)} (a change of "
                f"{'+' if last - first > 0 else ''}{format_value(last - first)} {newest.unit}).")
        delta = Fact(f"change in {name}", round(last - first, 2), newest.unit, None, None, None, facts.patient_id)
        return Answer(plan, text, [newest, oldest, delta, count], [sql], [params], columns,
                      [[f.observed_at, f.value, f.unit, f.flag] for f in (newest, oldest)])
    unit = newest.unit
    if op == "latest":  # yes/no on the latest reading against a threshold
        hit = passes(float(newest.value), plan)
        text = (f"{'Yes' if hit else 'No'}: the latest {name.lower()}{scope} is {say_reading(newest)}, which is "
                f"{'' if hit else 'not '}{limit_words(plan, unit)}.")
        return Answer(plan, text, [newest, Fact("threshold", float(plan.threshold or 0), unit), count], [sql],
                      [params], columns, [[newest.observed_at, newest.value, newest.unit, newest.flag]])
    hits = [f for f in described if passes(float(f.value), plan)]
    shown = hits[:50]
    listing = "; ".join(say_reading(f) for f in shown)
    more = f" (the newest 50 shown; all {len(hits)} are in the table)" if len(hits) > 50 else ""
    if hits:
        text = (f"Yes: {len(hits)} of {n} {name.lower()} reading{'s' if n != 1 else ''}{scope} "
                f"{'were' if len(hits) != 1 else 'was'} {limit_words(plan, unit)}: {listing}{more}.")
    else:
        top = max(described, key=lambda f: float(f.value)) if plan.comparison == "above" else \
            min(described, key=lambda f: float(f.value))
        word = "highest" if plan.comparison == "above" else "lowest"
        text = (f"No: 0 of {n} {name.lower()} reading{'s' if n != 1 else ''}{scope} were "
                f"{limit_words(plan, unit)}; the {word} was {say_reading(top)}.")
        shown = [top]
    facts_out = [*shown, Fact(f"number of {name} readings {plan.comparison} the threshold", len(hits)),
                 Fact("threshold", float(plan.threshold or 0), unit), count]
    return Answer(plan, text, facts_out, [sql], [params], columns, [[f.observed_at, f.value, f.unit, f.flag]
                                                                     for f in hits])
