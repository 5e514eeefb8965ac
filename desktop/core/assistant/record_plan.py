"""The whole-record part of the plan language: its validation and its wording under "How this was computed".

A plan names an entity (conditions, medications, encounters, procedures, immunizations, allergies, the patient
row, or readings), an operation, the names it matched in the workspace's own vocabulary, a window, and for
the workspace a group and a population (the living by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.core.clinical.measurements import load_catalog

if TYPE_CHECKING:
    from desktop.core.assistant.plan import Plan

NO_MATCH = "\u0000no match"   # a group named by a name no description holds: empty, and the answer says why
ENTITY_WORDS = {"condition": ("diagnosis", "diagnoses"), "medication": ("prescription", "prescriptions"),
                "encounter": ("visit", "visits"), "procedure": ("procedure", "procedures"),
                "immunization": ("immunization", "immunizations"), "allergy": ("allergy", "allergies"),
                "observation": ("reading", "readings")}
CLASS_WORDS = {"emergency": "emergency", "inpatient": "inpatient (admission)", "ambulatory": "ambulatory",
               "wellness": "wellness", "urgentcare": "urgent care", "outpatient": "outpatient",
               "virtual": "virtual", "home": "home", "hospice": "hospice", "snf": "skilled nursing"}


def record_problems(plan: Plan) -> list[str]:
    """What stops a whole-record plan from running (empty: it can run)."""
    from desktop.core.assistant.plan import (
        COHORT_OPERATIONS,
        COHORT_RECORD_OPERATIONS,
        ENTITIES,
        EVENT_ENTITIES,
        EVENT_OPERATIONS,
        PATIENT_OPERATIONS,
        PATIENT_ROW_OPERATIONS,
        READING_OPERATIONS,
    )
    problems: list[str] = []
    if plan.entity not in ENTITIES:
        problems.append(f"entity must be one of {', '.join(ENTITIES)}, not {plan.entity!r}")
        return problems
    if plan.subject == "patient":
        if not plan.patient_id:
            problems.append("a patient question needs a patient")
        allowed: tuple[str, ...] = {"patient": PATIENT_ROW_OPERATIONS, "observation": PATIENT_OPERATIONS
                                    + READING_OPERATIONS}.get(plan.entity, EVENT_OPERATIONS)
    else:
        allowed = COHORT_OPERATIONS + COHORT_RECORD_OPERATIONS
    if plan.operation not in allowed:
        problems.append(f"operation {plan.operation!r} is not one of {', '.join(allowed)} for {plan.entity} "
                        f"({plan.subject})")
    catalog = load_catalog()
    for code in plan.measurements:
        if catalog.by_code(code) is None:
            problems.append(f"unknown measurement code {code!r}")
    if plan.entity == "observation" and plan.subject == "patient" and not plan.measurements:
        problems.append("the question names no measurement the catalog knows")
    if plan.operation == "top" and plan.entity not in EVENT_ENTITIES:
        problems.append("'top' counts conditions, medications, procedures, immunizations, allergies or visits")
    if plan.operation == "compare" and len(plan.measurements) != 1:
        problems.append("'compare' needs one measurement")
    if not 1 <= plan.limit <= 100:
        problems.append("the number of items listed must be 1 to 100")
    return problems


def _scope(plan: Plan) -> str:
    return f", {plan.window.text}" if plan.window.text else ""


def _what(plan: Plan) -> str:
    singular, plural = ENTITY_WORDS.get(plan.entity, (plan.entity, plan.entity))
    named = f" of '{plan.term_text}' ({plan.matched})" if plan.term_text else ""
    if plan.encounter_class:
        singular, plural = f"{CLASS_WORDS.get(plan.encounter_class, plan.encounter_class)} visit", \
            f"{CLASS_WORDS.get(plan.encounter_class, plan.encounter_class)} visits"
    return f"{singular}{named}|{plural}{named}"


def record_in_words(plan: Plan) -> str:
    """The plan as a clinician reads it: what was looked up, in which table, matched to which names."""
    one, many = _what(plan).split("|")
    catalog = load_catalog()
    names = " and ".join(m.name if (m := catalog.by_code(c)) else c for c in plan.measurements)
    if plan.subject == "workspace":
        return _cohort_words(plan, many, names)
    who = f"patient {plan.patient_id}"
    op = plan.operation
    if plan.entity == "patient":
        at = f" on {plan.on_date.isoformat()}" if plan.on_date else " now (or at death)"
        what = {"age": f"the age in completed years{at}", "birth": "the date of birth",
                "death": "whether and when the patient died", "sex": "the recorded sex"}[op]
        return f"{what} of {who}, from the patient row"
    if plan.entity == "observation":
        if op == "compare":
            return f"the last {names} reading against the first{_scope(plan)}, for {who}: greater, less or the same"
        if op == "exists":
            return f"whether {who} has any {names} reading{_scope(plan)} (yes/no)"
        if op == "count_days":
            return f"the number of distinct days with a {names} reading{_scope(plan)}, for {who}"
        limit = f"{'at least' if plan.comparison == 'above' else 'at most'} {plan.threshold:g}" if plan.inclusive \
            else f"{plan.comparison} {plan.threshold:g}" if plan.threshold is not None else ""
        if op == "latest":
            return f"whether the latest {names} reading{_scope(plan)} of {who} is {limit} (yes/no)"
        return f"whether any {names} reading{_scope(plan)} of {who} was {limit} (yes/no, then the readings)"
    text = {
        "exists": f"whether {who} has any {one}{_scope(plan)} (yes/no, then the events with dates)",
        "first": f"the first {one}{_scope(plan)} of {who}",
        "latest": f"the last {one}{_scope(plan)} of {who}",
        "count": f"the number of {many}{_scope(plan)} of {who}",
        "count_days": f"the number of distinct days with {many}{_scope(plan)} of {who}",
        "list": f"every {one}{_scope(plan)} of {who}, newest first",
        "when": f"the dates of the {many}{_scope(plan)} of {who} (first and last)",
        "stop": f"the stop (or resolution) date of the {many}{_scope(plan)} of {who}",
        "reason": f"the recorded reason for the {many}{_scope(plan)} of {who}",
    }[op]
    table = {"condition": "conditions (onset, stop)", "medication": "medications (start, stop, reason)",
             "encounter": "encounters (start, class, reason)", "procedure": "procedures", "immunization":
             "immunizations", "allergy": "allergies"}[plan.entity]
    return f"{text}, from {table}"


def _cohort_words(plan: Plan, many: str, names: str) -> str:
    from desktop.core.assistant.plan import POPULATION_WORDS
    c = plan.cohort
    group = []
    if c.condition_terms == (NO_MATCH,):
        group.append(f"with a record of '{plan.term_text}' (no name in this workspace matches it)")
    elif c.condition_terms:
        group.append(f"with {'an active' if c.active_only else 'a recorded'} diagnosis of "
                     + "; ".join(c.condition_terms))
    if c.medication_terms:
        group.append(f"{'still taking' if c.active_only else 'ever prescribed'} " + "; ".join(c.medication_terms))
    if c.procedure_terms:
        group.append("with a recorded procedure: " + "; ".join(c.procedure_terms))
    if c.immunization_terms:
        group.append("given the vaccine " + "; ".join(c.immunization_terms))
    if c.encounter_class:
        group.append(f"with a {CLASS_WORDS.get(c.encounter_class, c.encounter_class)} visit")
    if c.sex:
        group.append({"F": "women only", "M": "men only"}[c.sex])
    if c.age_min is not None or c.age_max is not None:
        group.append(f"aged {c.age_min or 0:g}-{c.age_max if c.age_max is not None else 'any':}")
    who = "patients " + ", ".join(group) if group else "every patient"
    op = plan.operation
    if op == "top":
        what = f"the {plan.limit} most common {many.split(' of ')[0]} by number of patients, among {who}"
    elif op == "age_groups":
        what = f"the number of {who.replace('every patient', 'patients')} in each age group (0-17, 18-39, 40-64, 65+)"
    elif op in ("mean", "median", "min", "max") and names:
        word = {"mean": "the mean", "median": "the median", "min": "the lowest", "max": "the highest"}[op]
        what = f"{word} of each patient's latest {names} reading, over {who}"
    elif op == "which_patients" and names and plan.threshold is not None:
        limit = (f"{'at least' if plan.comparison == 'above' else 'at most'} {plan.threshold:g}" if plan.inclusive
                 else f"{plan.comparison} {plan.threshold:g}")
        what = (f"the {who.replace('every patient', 'patients')} whose "
                f"{'latest' if plan.over == 'latest' else 'any'} {names} reading is {limit}")
    elif op == "which_patients":
        what = f"the list of {who.replace('every patient', 'patients')}"
    else:
        what = f"the number of {who.replace('every patient', 'patients')}"
    return f"{what}{_scope(plan)}; {POPULATION_WORDS[plan.population]}"
