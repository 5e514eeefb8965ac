"""The whole-record parser: a question about diagnoses, prescriptions, visits, procedures, immunizations,
allergies, the patient row, or readings (yes/no, last vs first, thresholds), turned into a :class:`Plan`.

It runs before the measurement parser (parse.py) and hands a question back to it (returns None) when the
question is about readings only. Names are resolved against the workspace's own vocabulary (vocabulary.py).
A question about data the workspace does not hold is declined (decline.py); a record question it cannot
express is declined too, never sent to the model's prose. The words it reads are returned with the plan, so
"How this was computed" can say when some were not read.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from desktop.core.assistant.decline import CANNOT_EXPRESS, not_held
from desktop.core.assistant.parse import _OPERATIONS as _MEASUREMENT_OPERATIONS
from desktop.core.assistant.parse import _is_general, find_measurements, names_people, time_window
from desktop.core.assistant.plan import CohortFilter, Plan, TimeWindow, validate_plan
from desktop.core.assistant.record_names import (
    any_of,
    cut,
    known_word,
    left_over,
    residual,
    resolve_any,
    said_where_a_name_goes,
    whole_name,
    without_record_words,
)
from desktop.core.assistant.record_plan import NO_MATCH
from desktop.core.assistant.record_words import (
    ACTIVE,
    AGE_GROUPS,
    CLASS_PATTERNS,
    CLASSES,
    ELAPSED,
    ENTITY_PATTERNS,
    EVENT_OPERATIONS,
    POPULATION_ALL,
    POPULATION_DECEASED,
    TAKEN_NOW,
    TOP,
    WINDOW_WORDS,
    YES_NO,
    dated_window,
)
from desktop.core.assistant.vocabulary import (
    ADJECTIVES,
    GROUP_ADJECTIVES,
    Resolution,
    Vocabulary,
    canonical,
    nouns,
    resolve,
)


def normalise(question: str) -> str:
    return " ".join(question.lower().replace("\u2019", "'").split())


def _entity(text: str) -> str | None:
    # The head noun "procedure" names the entity even after a drug word ("a medication reconciliation procedure").
    if re.search(r"\bprocedures?\b", text):
        return "procedure"
    for entity, pattern in ENTITY_PATTERNS:
        if re.search(pattern, text):
            return entity
    if any(re.search(p, text) for _, p in CLASS_PATTERNS):
        return "encounter"
    return None


def _encounter_class(text: str, vocab: Vocabulary) -> str | None:
    for cls, pattern in CLASS_PATTERNS:
        if re.search(pattern, text):
            return cls
    return None


ELAPSED_SENTENCE = ("Elapsed time is not computed: the assistant states the dates instead (ask when it happened), "
                    "so that 'since' is never counted from the wrong day.")
CLASS_SENTENCE = ("The record holds drugs and diagnoses by name and code, not by class (such as antibiotics or "
                  "infections): ask about one by its name.")


def _population(text: str) -> str:
    if re.search(POPULATION_ALL, text):
        return "all"
    if re.search(POPULATION_DECEASED, text):
        return "deceased"
    return "living"


def _windows(text: str, today: date) -> tuple[TimeWindow, date | None, str]:
    window, day, words = dated_window(text)
    if window.text:
        return window, day, cut(text, re.escape(words))
    window = time_window(text, today=today)
    return window, None, cut(text, WINDOW_WORDS) if window.text else text


def _declined(sentence: str) -> Plan:
    return Plan("declined", decline=sentence)


def _ask_back(res: Resolution, what: str) -> Plan:
    shown = list(dict.fromkeys(t.shown() for t in res.candidates))
    names = "; ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")
    if len(shown) == 1:
        return _declined(f"No name in this workspace is spelt '{res.phrase}'; the closest is {names}: ask again "
                         "with that name if it is the one you mean.")
    return _declined(f"'{res.phrase}' could mean several {what} in this workspace ({names}): ask again "
                     "with the one you mean.")


_WHAT = {"condition": "diagnoses", "medication": "drugs", "procedure": "procedures", "immunization": "vaccines",
         "allergy": "allergies", "encounter": "visit types", "reason": "visit reasons"}


def plan_record(question: str, *, patient_id: str | None, today: date, vocab: Vocabulary) -> Plan | None:
    """The whole-record plan for a question, a declining plan, or None (a readings question: parse.py's)."""
    text = normalise(question)
    sentence = not_held(text)
    if sentence is not None and not re.search(r"\bemergency room\b", text):
        return _declined(sentence)
    if _is_general(text) and not names_people(text):
        return None
    if re.search(ELAPSED, text):
        return _declined(ELAPSED_SENTENCE)
    if re.search(CLASSES, text):
        return _declined(CLASS_SENTENCE)
    yes_no = bool(re.search(YES_NO, text))
    text = cut(text, r"\b(please )?answer (with )?(yes or no|yes/no)( first)?\b|\byes or no\b")
    window, on_date, rest = _windows(text, today)
    workspace = patient_id is None or names_people(text)
    if patient_id is None and not names_people(text) and re.search(
            r"\b(the patient|this patient|she|he|her|his|him|patient's)\b", text) and _entity(rest) is not None:
        return _declined("No patient is selected: select one, or name the patient in the question (by id or by "
                         "name).")
    if workspace:
        return _workspace(text, rest, window, vocab)
    whole = whole_name(vocab, rest)   # "oxygen administration by mask" is a procedure, not a reading
    if find_measurements(text) and not re.search(r"\bdiagnos\w*|\bprescri\w*|\bvaccin\w*|\ballerg\w*", text) \
            and not _spelt_whole(vocab, rest):
        return None  # readings: parse.py, amended by reading_parse.py
    patient_row = _patient_row(rest, patient_id, on_date, yes_no)
    if patient_row is not None:
        return patient_row
    entity = _entity(rest)
    # A name spelt out whole is read as one when it is long ("plain x-ray of chest"), or when the word that
    # named the entity is inside it ("medication reconciliation" is a procedure); a short name ("hypertension")
    # is resolved word by word, so that it also matches "Essential hypertension".
    inside = bool(whole and entity is not None and entity != whole[0] and re.search(
        dict(ENTITY_PATTERNS).get(entity, "^$"), canonical(whole[1].matched[0].name)))
    if whole and (inside or (_spelt_whole(vocab, rest) and entity in (None, whole[0]))):
        entity = whole[0]
    else:
        whole = None
    encounter_class = _encounter_class(rest, vocab) if entity in (None, "encounter") else None
    if encounter_class:
        entity = "encounter"
    operation = next((op for op, pattern in EVENT_OPERATIONS if re.search(pattern, rest)), None)
    phrase = residual(nouns(without_record_words(rest, entity)))
    # "A, B or C": any of them (each part a name the workspace holds, or one it holds nowhere).
    either = any_of(vocab, whole[0] if whole else entity, without_record_words(rest, entity)) if phrase else None
    if either is not None:
        whole = None
    spelt_whole = bool(whole and whole[0] == entity)
    if either is not None:
        found, res = either
        phrase = res.phrase
    elif whole and spelt_whole:   # a name spelt out whole: the words around it must all be read
        name = canonical(whole[1].matched[0].name)
        if residual(without_record_words(f" {canonical(rest)} ".replace(f" {name} ", " "), entity)):
            return _declined(CANNOT_EXPRESS)
        phrase, res, found = " ".join(whole[1].matched[0].name.lower().split()), whole[1], entity
    else:
        if entity is None and not phrase:
            return None
        found, res = resolve_any(vocab, entity, phrase, rest)
    if entity is None and not res.matched:
        return None  # no record word and no name the workspace holds: not a record question
    entity = found
    if res.candidates and not res.matched:
        return _ask_back(res, _WHAT.get(entity or "", "names"))
    if entity == "medication" and not res.matched and not phrase and operation in ("list", None) \
            and not window.text and not re.search(r"\b(ever|past|previous|all|history)\b", rest):
        return None  # "what medications is she on?": the active list and allergies (parse.py)
    if entity == "allergy" and not res.matched and not phrase and not window.text and operation in ("list", None,
                                                                                                    "exists"):
        return None  # "any allergies?": the current allergies (parse.py)
    if res.matched and not spelt_whole and either is None and left_over(phrase, res):
        return _declined(CANNOT_EXPRESS)  # "days passed since ... hypertension": more asked than a name
    if phrase and not res.matched:
        unknown = [w for w in phrase.split() if not known_word(vocab, w)]
        if len(unknown) != len(phrase.split()) or not said_where_a_name_goes(phrase, rest):
            return _declined(CANNOT_EXPRESS)  # part of a name the workspace holds, or words not understood
    op = operation or ("exists" if res.matched or phrase else "list")
    if yes_no and op in ("list", "when"):
        op = "exists"
    over = "latest"
    if op in ("stop", "reason"):
        over = "first" if re.search(r"\b(first|earliest|initial)\b", rest) else (
            "latest" if re.search(r"\b(last|latest|most recent|recent)\b", rest) else "ever")
    plan = Plan("data", "patient", patient_id, (), op, window=window, entity=entity or "condition",
                terms=res.descriptions, term_text=phrase, matched=res.shown() or (f"no name in this workspace matches "
                                                                                  f"'{phrase}'" if phrase else ""),
                encounter_class=encounter_class, yes_no=op == "exists", over=over,
                comparison="active" if re.search(ACTIVE, rest) or (
                    entity == "medication" and re.search(TAKEN_NOW, text)) else None)
    return validate_plan(plan)


def _patient_row(text: str, patient_id: str | None, on_date: date | None, yes_no: bool) -> Plan | None:
    if re.search(r"\bhow old\b|\b(age|aged)\b(?! (group|band))|\byears old\b", text):
        if re.search(r"\bwhen\b|\bat (the )?(time|first|diagnosis|admission)\b", text):
            return _declined(CANNOT_EXPRESS)  # "age when first diagnosed with X": two steps, not one plan
        m = re.search(r"\b(?:in|during) (\d{4})\b", text)
        day = on_date or (date(int(m.group(1)), 12, 31) if m else None)
        return validate_plan(Plan("data", "patient", patient_id, (), "age", entity="patient", on_date=day))
    if re.search(r"\b(date of birth|dob|born|birth ?date|birthday|year of birth)\b", text):
        return validate_plan(Plan("data", "patient", patient_id, (), "birth", entity="patient"))
    if re.search(r"\b(die|died|death|deceased|dead|alive|living|passed away|still with us|expired)\b", text) \
            and not re.search(r"\bcause of death\b", text):
        asks_alive = bool(re.search(r"\b(alive|living|still with us)\b", text))
        return validate_plan(Plan("data", "patient", patient_id, (), "death", entity="patient",
                                  comparison="alive" if asks_alive else "dead", yes_no=yes_no))
    if re.search(r"\b(sex|gender|male or female|female or male|a man or a woman|a woman or a man)\b", text):
        return validate_plan(Plan("data", "patient", patient_id, (), "sex", entity="patient"))
    if re.search(r"\bcause of death\b", text):
        return _declined("The record does not hold causes of death: it has the date of death only.")
    return None


def _workspace(text: str, rest: str, window: TimeWindow, vocab: Vocabulary) -> Plan | None:
    """Workspace questions about conditions, drugs, visit classes, deaths, top-k and age groups."""
    if re.search(dict(_MEASUREMENT_OPERATIONS)["attention"], text):
        return None  # "who needs attention first": the attention ranking (parse.py)
    population = _population(text)
    if population == "deceased" and re.search(r"\bhow many\b.*\b(died|dead|deceased|passed away)\b", text) \
            and _entity(rest) is None and not find_measurements(text):
        return validate_plan(Plan("data", "workspace", None, (), "count", population="deceased", window=window))
    if re.search(AGE_GROUPS, text):
        return validate_plan(Plan("data", "workspace", None, (), "age_groups", population=population,
                                  cohort=_group(rest, vocab, text)[0]))
    if re.search(TOP, text):
        entity = _entity(rest) or ("condition" if re.search(r"\bcommon\b", text) else None)
        if entity is None or find_measurements(text):
            return None
        if entity == "encounter" or re.search(r"\breasons?\b", text):
            return _declined(CANNOT_EXPRESS)  # visit reasons or classes ranked: not in the plan language
        m = re.search(r"\btop (\d+)\b|\b(\d+) most\b", text)
        limit = int(m.group(1) or m.group(2)) if m else 5
        return validate_plan(Plan("data", "workspace", None, (), "top", window=window, entity=entity,
                                  population=population, limit=max(1, min(limit, 100))))
    if find_measurements(text) and not _spelt_whole(vocab, rest):
        return None  # a measurement over the workspace: parse.py, then the group is resolved (reading_parse.py)
    if re.search(r"\b(average|mean|median|minimum|maximum|highest|lowest|total|sum)\b", text) or re.search(
            r"\b(more|fewer|less|at least|at most|over|under|exactly)( than)? (\d+|one|two|three|once|twice) "
            r"(\w+ )?(visits?|times|diagnos\w*|prescriptions?|admissions?|encounters?|procedures?)\b", text):
        return _declined(CANNOT_EXPRESS)  # "average age of ...": a figure over a group that is not a measurement
    cohort, res, phrase = _group(rest, vocab, text)
    if res is not None and res.matched and left_over(phrase, res):
        return _declined(CANNOT_EXPRESS)
    if res is not None and res.candidates and not res.matched:
        return _ask_back(res, "names")
    if phrase and not (cohort.condition_terms or cohort.medication_terms or cohort.procedure_terms
                       or cohort.immunization_terms):
        unknown = [w for w in phrase.split() if not known_word(vocab, w)]
        if not said_where_a_name_goes(phrase, rest):
            return None  # "who is the most unwell?": not a name where a name goes; the measurement parser's
        if len(unknown) != len(phrase.split()):
            return _declined(CANNOT_EXPRESS)
        if not re.search(r"\bhow many\b|\bwhich\b|\blist\b|\bwho\b|\bnumber of\b|\bcount\b", text):
            return None
        return validate_plan(Plan("data", "workspace", None, (), "count", window=window, population=population,
                                  term_text=phrase, matched=f"no name in this workspace matches '{phrase}'",
                                  cohort=replace(cohort, condition_terms=(NO_MATCH,))))
    if cohort == CohortFilter() and population == "living" and not re.search(
            r"\bhow many (patients|people)\b|\bliving\b|\balive\b", text):
        return None
    which = bool(re.search(r"\bwhich\b|\bwho\b|\blist\b|\bname\b|\bshow\b", text))
    matched = res.shown() if res is not None else ""
    return validate_plan(Plan("data", "workspace", None, (), "which_patients" if which else "count", window=window,
                              population=population, cohort=cohort, term_text=phrase, matched=matched))


_GROUP_WORDS = (r"\b(women|woman|men|man|female|females|male|males|girls|boys|aged?|ages|between|older|younger|"
                r"under|over|above|below|years?|old|or|than|\d+)\b")


# The record entities a workspace question can narrow its patients by (besides visit classes).
_GROUP_ENTITIES = ("condition", "medication", "procedure", "immunization")


def _spelt_whole(vocab: Vocabulary, text: str) -> bool:
    """A diagnosis or drug name of three words or more spelt out whole: not a measurement's words
    ("body mass index 30+ - obesity", "24 hr metformin ... tablet")."""
    whole = whole_name(vocab, text)
    return bool(whole and len(canonical(whole[1].matched[0].name).split()) >= 3)


def _group(rest: str, vocab: Vocabulary, text: str) -> tuple[CohortFilter, Resolution | None, str]:
    """The group a workspace question narrows to: a diagnosis, a drug, a visit class, sex and age (parse.py's)."""
    from desktop.core.assistant.parse import cohort_filter
    base = cohort_filter(text)
    base = CohortFilter(None, base.sex, base.age_min, base.age_max)
    # No measurement in the question: "over 65" can only be an age.
    m = re.search(r"\b(?:over|above|older than) (\d+)\b", text)
    if m and base.age_min is None:
        base = replace(base, age_min=float(m.group(1)) + 1)
    m = re.search(r"\b(?:under|below|younger than) (\d+)\b", text)
    if m and base.age_max is None:
        base = replace(base, age_max=float(m.group(1)) - 1)
    entity = _entity(rest)
    cls = _encounter_class(rest, vocab)
    ever = bool(re.search(r"\b(had|ever|diagnosed|history of|been|were|was)\b", rest))
    active = not ever and not re.search(r"\b(prescribed|given|dispensed)\b", rest)
    unread = cut(rest, _GROUP_WORDS)
    phrase = residual(nouns(unread))
    if cls and entity in (None, "encounter"):
        return replace(base, encounter_class=cls), None, ""
    whole = whole_name(vocab, rest) if _spelt_whole(vocab, rest) else None   # "24 HR metformin ... tablet"
    found: str | None
    if whole and whole[0] in _GROUP_ENTITIES and entity in (None, whole[0]):
        found, res = whole
        name = canonical(res.matched[0].name)
        if residual(without_record_words(cut(f" {canonical(rest)} ".replace(f" {name} ", " "), _GROUP_WORDS), found)):
            return base, Resolution(phrase), phrase   # more words than the name: not understood
        phrase = name
    elif not phrase:
        return base, None, ""
    else:
        found, res = resolve_any(vocab, entity if entity in _GROUP_ENTITIES else None, phrase, rest)
    if not res.matched:
        return base, res, phrase
    if found == "medication":
        return replace(base, medication_terms=res.descriptions, active_only=active), res, phrase
    if found == "condition":
        return replace(base, condition_terms=res.descriptions, active_only=active), res, phrase
    if found == "procedure":
        return replace(base, procedure_terms=res.descriptions), res, phrase
    if found == "immunization":
        return replace(base, immunization_terms=res.descriptions), res, phrase
    return base, res, phrase


def adjective_group(text: str, vocab: Vocabulary) -> tuple[tuple[str, ...], str, str]:
    """"the hypertensive patients", "diabetics": the conditions an adjective names, the match shown, the noun."""
    for word in sorted(GROUP_ADJECTIVES):
        noun = ADJECTIVES[word]
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            res = resolve(vocab, "condition", noun)
            if res.matched:
                return res.descriptions, res.shown(), noun
    return (), "", ""
