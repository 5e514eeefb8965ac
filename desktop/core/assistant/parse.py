"""The deterministic parser: the common phrasings of a data question, turned into a :class:`Plan`.

It recognises measurements by the catalog's names, short names, aliases and LOINC codes plus everyday words
("blood pressure", "sugar", "kidney function"), the operation by its usual wordings, a threshold, a time
window ("last year", "since 2020", "in 2021", "in the last 6 months", "at the last visit") and, for
questions about the workspace, a condition, sex and age band. What it cannot place becomes a "general"
plan, which the model answers (its text then verified).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

from desktop.core.assistant.plan import CohortFilter, Plan, TimeWindow, validate_plan
from desktop.core.clinical.measurements import load_catalog

SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"

# Everyday words for measurements, beyond the catalog's header aliases (longest phrase wins).
EVERYDAY: dict[str, tuple[str, ...]] = {
    "8480-6": ("systolic blood pressure", "systolic pressure", "systolic bp", "systolic", "top number"),
    "8462-4": ("diastolic blood pressure", "diastolic pressure", "diastolic bp", "diastolic", "bottom number"),
    "8867-4": ("pulse", "heart rate", "heartbeat"),
    "9279-1": ("breathing rate", "respirations", "breaths per minute"),
    "8310-5": ("temperature", "temp", "fever", "febrile"),
    "59408-5": ("oxygen saturation", "oxygen level", "oxygen", "sats", "saturation", "pulse ox"),
    "29463-7": ("weight", "body weight"),
    "8302-2": ("height",),
    "39156-5": ("bmi", "body mass index"),
    "2339-0": ("blood sugar", "sugar", "glucose"),
    "1558-6": ("fasting glucose", "fasting sugar", "fasting blood sugar"),
    "4548-4": ("a1c", "hba1c", "haemoglobin a1c", "hemoglobin a1c", "glycated haemoglobin"),
    "33914-3": ("egfr", "kidney function", "gfr", "filtration rate"),
    "38483-4": ("creatinine",),
    "2093-3": ("cholesterol", "total cholesterol"),
    "18262-6": ("ldl", "bad cholesterol"),
    "2085-9": ("hdl", "good cholesterol"),
    "718-7": ("haemoglobin", "hemoglobin", "hb", "hgb"),
}
BLOOD_PRESSURE = ("blood pressure", "bp")

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_PLURAL = "(?:e?s)?"  # "temperatures", "pulses"; not after short codes ("hrs" is hours, not heart rates)


@lru_cache(maxsize=1)
def _measurement_phrases() -> tuple[tuple[str, str], ...]:
    """(phrase, code), longest phrase first, from the catalog and the everyday words above."""
    pairs: dict[str, str] = {}
    for m in load_catalog().measurements:
        for phrase in (m.name, m.short, *m.aliases, m.code, *m.codes):
            if phrase and len(phrase) >= 2:
                pairs.setdefault(phrase.lower(), m.code)
    for code, phrases in EVERYDAY.items():
        for phrase in phrases:
            pairs[phrase] = code
    return tuple(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


def find_measurements(text: str) -> tuple[str, ...]:
    """The measurements a question names, in the order it names them; "blood pressure" is both parts."""
    found: list[tuple[int, str]] = []
    taken = [False] * len(text)
    for phrase, code in _measurement_phrases():
        for match in re.finditer(rf"(?<![\w-]){re.escape(phrase)}{_PLURAL if len(phrase) >= 4 else ''}(?![\w-])", text):
            if any(taken[match.start():match.end()]):
                continue
            for i in range(match.start(), match.end()):
                taken[i] = True
            found.append((match.start(), code))
    for phrase in BLOOD_PRESSURE:
        for match in re.finditer(rf"(?<![\w-]){re.escape(phrase)}{_PLURAL if len(phrase) >= 4 else ''}(?![\w-])", text):
            if not any(taken[match.start():match.end()]):
                found.extend([(match.start(), SYSTOLIC), (match.start() + 1, DIASTOLIC)])
    codes: list[str] = []
    for _, code in sorted(found):
        if code not in codes:
            codes.append(code)
    return tuple(codes)


_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("attention", (r"\b(need|needs|needing) (the most )?attention|\bhighest risk\b|\bmost at risk\b|\bsickest\b|"
                  r"\bat (the )?highest risk\b|\bwho should i see first\b|\bprioriti[sz]e\b|\bdeteriorat")),
    ("last_date", (r"\bwhen (was|were|did)\b.*\b(last|latest|most recent(ly)?)\b|\bdate of (the )?(last|latest|most recent)\b|"
                  r"\blast (measured|checked|recorded|taken)\W*$|\bwhen was\b|\bon what (date|day)\b|"
                  r"\bhow long (ago|since)\b")),
    ("count", r"\bhow many\b|\bnumber of\b|\bcount\b|\bhow often\b"),
    ("max", r"\bhighest\b|\bmaximum\b|\bmax\b|\bpeak\b|\blargest\b|\bworst\b|\btallest\b|\bheaviest\b"),
    ("min", r"\blowest\b|\bminimum\b|\bmin\b|\bsmallest\b|\bshortest\b|\blightest\b"),
    ("median", r"\bmedian\b"),
    # "what does her latest HbA1c mean?" asks what it means, not for an average.
    ("mean", r"\baverage\b|\bthe mean\b|\bmean\b(?!\W*$)|\btypical\b"),
    ("change", (r"\bchange[sd]?\b|\btrend(ing|s)?\b|\bimprov(ed|ing)\b|\bworsen(ed|ing)\b|\bgone (up|down)\b|"
               r"\b(risen|rising|fallen|falling)\b|\bover time\b")),
    ("first", r"\bfirst\b|\bearliest\b|\binitial\b|\bbaseline\b"),
    ("readings", (r"\ball (the |of the |his |her |their )?readings\b|\blist (all |the |every )|\bshow (me )?(all|every)\b|"
                 r"\bhistory of\b|\bevery (reading|value|measurement)\b|\bwhat were\b|"
                  r"\bshow (me )?(?!.*\b(latest|last|current|most recent|newest)\b)[a-z0-9 ]*[^s]s\W*$")),
    ("in_range", (r"\b(normal|abnormal|in range|out of range|within (the )?(normal|healthy) range|healthy range|"
                 r"too high|too low|elevated|high or low|flagged|(above|below|on|at|within) target)\b")),
)

_ABOVE = rf"(?:above|over|greater than|more than|higher than|exceed(?:s|ed|ing)?|>=?|at least)\s*{_NUMBER}"
_BELOW = rf"(?:below|under|less than|lower than|<=?|at most)\s*{_NUMBER}"


def _back(today: date, n: int, unit: str) -> date:
    """Calendar arithmetic: a year before 1 June 2024 is 1 June 2023 (29 February falls back to the 28th)."""
    if unit in ("day", "week"):
        return today - timedelta(days=n * (7 if unit == "week" else 1))
    months = n * (12 if unit == "year" else 1)
    total = today.year * 12 + today.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, 28)


def _window(text: str, today: date) -> TimeWindow:
    if re.search(r"\b(at|during|from|on) (the|her|his|their) (last|latest|most recent) (visit|encounter|appointment)\b",
                 text):
        return TimeWindow(text="at the last visit", last_visit=True)
    m = re.search(r"\b(?:in|over|during) the (?:last|past) (\d+) (day|week|month|year)s?\b", text) or \
        re.search(r"\b(?:last|past) (\d+) (day|week|month|year)s?\b", text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return TimeWindow(start=_back(today, n, unit), text=f"in the last {n} {unit}{'s' if n != 1 else ''}")
    m = re.search(r"\b(?:in|over|during) the (?:last|past) (day|week|month|year)\b|\b(?:this|past|last) (year|month|week)\b", text)
    if m:
        unit = m.group(1) or m.group(2)
        return TimeWindow(start=_back(today, 1, unit), text=f"in the last {unit}")
    m = re.search(r"\b(?:since|after|from) (\d{4})\b", text)
    if m:
        return TimeWindow(start=date(int(m.group(1)), 1, 1), text=f"since {m.group(1)}")
    m = re.search(r"\b(?:before|until|prior to) (\d{4})\b", text)
    if m:
        return TimeWindow(end=date(int(m.group(1)), 1, 1), text=f"before {m.group(1)}")
    m = re.search(r"\b(?:in|during) (\d{4})\b", text)
    if m:
        year = int(m.group(1))
        return TimeWindow(start=date(year, 1, 1), end=date(year + 1, 1, 1), text=f"in {year}")
    return TimeWindow()


_WORKSPACE = (r"\bpatients\b|\bwhich patient|\bwho (has|have|had|is|are)\b|\beveryone\b|\bthe workspace\b|"
              r"\bthe cohort\b|\bacross (the )?(board|population)\b|\bhow many (people|women|men)\b|\bpeople\b|\bwomen\b|\bmen\b")


def _cohort(text: str) -> CohortFilter:
    condition = None
    tail = (r"\s+(?:a |an )?(?:diagnosis of )?([a-z][a-z0-9' -]{2,40}?)(?=\s+(?:and|who|whose|over|above|under|below|"
            r"aged|older|younger|in|since|during|have|has|is|are)\b|[?.,]|$)")
    m = re.search(r"\b(?:with|having|who have|who has|diagnosed with|(?:patients|people|women|men|ones) (?:have|has|had|"
                  r"suffer from|are diagnosed with))" + tail, text) or \
        re.search(r"\b(?:have|has|had|suffer from)(?! been\b)" + tail, text)  # "patients aged over 65 have X"
    if m:
        candidate = m.group(1).strip()
        # "with a systolic above 140" names a measurement, not a condition.
        if not find_measurements(candidate) and not re.match(r"^(a |an |the )?(reading|value|level|latest)", candidate):
            condition = re.sub(r"^(a|an|the) ", "", candidate)
    sex = None
    if re.search(r"\b(women|woman|female|females|girls)\b", text):
        sex = "F"
    elif re.search(r"\b(men|man|male|males|boys)\b", text):
        sex = "M"
    age_min = age_max = None
    m = re.search(r"\b(?:aged|age) (\d+)\s*(?:-|to)\s*(\d+)\b|\bbetween (?:the ages? of |ages )(\d+) and (\d+)\b|\bbetween (\d+) and (\d+) "
                  r"(?:years?|yrs?)(?: old| of age)?\b|\b(?:aged|ages?) between (\d+) and (\d+)\b", text)
    if m:
        lo, hi = [g for g in m.groups() if g]
        age_min, age_max = float(lo), float(hi)
    # Ages are completed years: "older than 65" is 66 or more, "under 18" is 17 or less, "65 or over" is 65 or more.
    m = re.search(r"\b(?:older than|over the age of|aged over|over) (\d+)(?: years| year olds|y)?\b(?! ?(?:mm|mg|%|/))", text)
    if m and re.search(rf"\b(older than|over the age of|aged over|over) {m.group(1)} (years|year olds|y)\b|\bolder than\b|"
                       r"\baged over\b|\bover the age of\b", text):
        age_min = float(m.group(1)) + 1
    m = re.search(r"\b(?:aged )?(\d+) (?:years )?(?:or|and) (?:over|older|above)\b|\baged (\d+)\+", text)
    if m:
        age_min = float(m.group(1) or m.group(2))
    m = re.search(r"\b(?:younger than|under the age of|aged under|under (?=\d+ years)) ?(\d+)\b", text)
    if m:
        age_max = float(m.group(1)) - 1
    m = re.search(r"\b(?:aged )?(\d+) (?:years )?(?:or|and) (?:under|younger|below)\b", text)
    if m:
        age_max = float(m.group(1))
    return CohortFilter(condition=condition, sex=sex, age_min=age_min, age_max=age_max)


# Knowledge questions that name a measurement but ask nothing of this record.
_GENERAL = (r"\bwrite\b|\bessay\b|\bsummari[sz]e\b|\bdescribe\b|\bhandover\b|\bsuggest\b|\badvice\b|"
            r"\bwhat (causes|does|do|is the (cause|purpose|meaning))\b|\bwhy (do|does|would|is|are)\b|\bin general\b|"
            r"\bhow (do|does|can|should) (i|you|we|one)\b|\bexplain\b|\bwhat is (a |an )?(normal|healthy|high|low)\b|"
            r"\bmeaning of\b|\bdefin(e|ition)\b|\bcauses of\b|\btreat(ment|ed)?\b")
_ABOUT_RECORD = r"\b(her|his|their|the patient'?s?|this patient|latest|last|current|recorded|readings?|measured|today)\b"


def _is_general(text: str) -> bool:
    return bool(re.search(_GENERAL, text)) and not re.search(_ABOUT_RECORD, text)


_MEDICATIONS = r"\b(medications?|medicines?|meds|drugs?|prescriptions?|prescribed|taking|on for)\b"
_ALLERGIES = r"\b(allerg(y|ies|ic)|intoleran(t|ces?)|reactions?|anaphyla\w*)\b"
# Knowledge, not the record: "what is anaphylaxis?", "side effects of metformin".
_HISTORY_KNOWLEDGE = (r"\b(explain|define|definition|side effects?|dose of|dosing|interactions?|interact)\b|"
                      r"\bwhat (is|are) (a |an )?(allerg(y|ies)|anaphylaxis|intoleran\w*|drugs?|medications?)\b")


_HANDOVER = (r"\bhand ?-?overs?\b|\bsbar\b|\bsummari[sz](e|ing)\b.*\b(patient|her|him|them|record)\b|"
             r"\b(patient|clinical) summary\b|\bsum (her|him|them|this patient) up\b|"
             r"\bhow is (she|he|the patient|this patient) doing\b|\btell me about (her|him|the patient|this patient)\b")


def _history_operation(text: str) -> str | None:
    """"What medications is she on?" (allergies come with them: what a prescriber needs), "any allergies?"."""
    if re.search(_MEDICATIONS, text):
        return "medications"
    if re.search(_ALLERGIES, text):
        return "allergies"
    return None


def plan_question(question: str, *, patient_id: str | None, today: date) -> Plan:
    """The plan for a question, about ``patient_id`` when given (and the question is not about "patients").

    ``today`` anchors relative windows ("last year"); pass the date of the newest reading in the record
    so that answers do not change with the computer's clock."""
    text = " ".join(question.lower().replace("’", "'").split())
    if patient_id and (m := re.search(_HANDOVER, text)) and (  # computed, not written (handover.py)
            not m.group(0).startswith("summar") or not (find_measurements(text) or _history_operation(text))):
        return validate_plan(Plan("data", "patient", patient_id, (), "handover"))
    codes = find_measurements(text)
    history = _history_operation(text)
    if history and patient_id and not codes and not re.search(_WORKSPACE, text) \
            and not re.search(_HISTORY_KNOWLEDGE, text):
        return validate_plan(Plan("data", "patient", patient_id, (), history))
    operation = next((op for op, pattern in _OPERATIONS if re.search(pattern, text)), None)
    window = _window(text, today)
    threshold = comparison = None
    m = re.search(_ABOVE, text)
    if m:
        threshold, comparison = float(m.group(1)), "above"
    else:
        m = re.search(_BELOW, text)
        if m:
            threshold, comparison = float(m.group(1)), "below"
    if _is_general(text) and not re.search(r"\bpatients\b|\bwhich\b|\bhow many\b", text):
        return Plan("general")
    names_people = bool(re.search(_WORKSPACE, text))
    about_workspace = patient_id is None or names_people
    if about_workspace and not names_people and not codes and operation in (None, "in_range", "readings"):
        return Plan("general")  # "what is sepsis?": nothing to count or measure
    if about_workspace:
        cohort = _cohort(text)
        if threshold is not None and (threshold in (cohort.age_min, cohort.age_max)
                                      or (cohort.age_min is not None and threshold + 1 == cohort.age_min)
                                      or (cohort.age_max is not None and threshold - 1 == cohort.age_max)):
            threshold = comparison = None  # "over 65" was an age, not a reading
        if operation == "attention":
            return validate_plan(Plan("data", "workspace", None, (), "attention", window=window, cohort=cohort))
        if re.search(r"\bwhich patients\b|\bwho (has|have|had|is|are)\b|\blist (the )?patients\b|\bname the patients\b",
                     text) or (comparison and operation in (None, "in_range", "count")):
            op = "which_patients"
        elif operation in ("count",) :
            op = "count"
        elif operation in ("mean", "median", "min", "max"):
            op = operation
        elif operation == "in_range" and codes:
            op = "which_patients"
        elif codes and operation is None:
            op = "mean"
        else:
            op = "count" if (operation is None and (cohort.condition or cohort.sex)) else operation or "count"
        if op not in ("count", "mean", "median", "min", "max", "which_patients"):
            return Plan("general")
        if op in ("mean", "median", "min", "max") and not codes:
            return Plan("general")
        if op == "which_patients" and not codes and not (cohort.condition or cohort.sex or cohort.age_min or cohort.age_max):
            return Plan("general")
        if op == "which_patients" and codes and comparison is None and operation == "in_range":
            comparison = "abnormal"
        return validate_plan(Plan("data", "workspace", None, codes[:1], op,
                                  threshold, comparison, window, cohort))
    if not codes:
        return Plan("general")
    if comparison and operation in (None, "count", "readings", "in_range"):
        op = comparison
    elif operation is None:
        # A measurement named with no operation: its readings in a window, else its latest value.
        op = "readings" if window.text and not window.last_visit else "latest"
    elif operation == "attention":
        return Plan("general")
    else:
        op = operation
    if op == "count" and comparison:
        op = comparison
    if _is_general(text) or re.search(r"\bwhat (is|does|do)\b.*\b(measure|mean|tell|used for)\b|\bwhat is (a |an )?(normal )?\w+\?*$|"
                 r"\bwhat (is|are) (a |an |the )?(normal|healthy|usual) (range|value|level)?", text) \
            and op in ("latest", "in_range") and not re.search(r"\b(her|his|their|the patient's|latest|last|current)\b", text):
        return Plan("general")
    return validate_plan(Plan("data", "patient", patient_id, codes[:2] if op in ("latest", "readings") else codes[:1],
                              op, threshold, comparison, window))


# -- the deterministic parts the model planner reuses (model_plan.py) -----------------------------------------
def normalise(question: str) -> str:
    """The form every pattern here reads: lower case, plain apostrophes, single spaces."""
    return " ".join(question.lower().replace("’", "'").split())


def time_window(question: str, *, today: date) -> TimeWindow:
    """The time window a question names, as the parser reads it (empty when it names none it knows)."""
    return _window(normalise(question), today)


def cohort_filter(question: str) -> CohortFilter:
    """The condition, sex and age band a workspace question narrows to, as the parser reads them."""
    return _cohort(normalise(question))


def names_people(question: str) -> bool:
    """Whether the question is about patients in the plural ("which patients", "who has", "women")."""
    return bool(re.search(_WORKSPACE, normalise(question)))
