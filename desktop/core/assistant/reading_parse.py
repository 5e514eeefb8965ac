"""What the measurement parser (parse.py) does not read in a readings question, added to its plan:

- yes/no: "was the latest systolic 130 or higher?" judges the latest reading; "has the heart rate ever been
  greater than 80 in 2019?" asks whether any reading was; both answers begin with Yes or No;
- last against first: "is the diastolic last measured less than the first value measured?";
- inclusive thresholds: "130 or higher", "at least 130", ">= 130" count 130 itself;
- "on how many days", "was X ever measured";
- for the workspace: the group resolved against the workspace's vocabulary ("the hypertensive patients",
  "patients with diabetes"), the population (the living by default), and "ever" against "latest".
"""

from __future__ import annotations

import re
from dataclasses import replace

from desktop.core.assistant.parse import _NUMBER
from desktop.core.assistant.plan import Plan, validate_plan
from desktop.core.assistant.record_parse import _population, adjective_group
from desktop.core.assistant.record_words import YES_NO
from desktop.core.assistant.vocabulary import GROUP_ADJECTIVES, Vocabulary, resolve

_UNIT = r"(?:\s*(?:mm ?\[?hg\]?|mmhg|bpm|beats per minute|/min|per minute|mg/dl|mmol/l|kg/m2|kg|cm|%|percent|degrees?|"
_UNIT += r"c|celsius|f|g/dl|ml/min(?:/1.73m2)?|units?))?"
INCLUSIVE_ABOVE = (rf"{_NUMBER}{_UNIT}\s*(?:or|and) (?:more|higher|above|greater|over|up|higher than that)\b|"
                   rf"\bat least {_NUMBER}|\bno (?:less|lower) than {_NUMBER}|>=\s*{_NUMBER}|\u2265\s*{_NUMBER}|"
                   rf"\bgreater than or equal to {_NUMBER}|\b{_NUMBER}{_UNIT}\s*\+")
INCLUSIVE_BELOW = (rf"{_NUMBER}{_UNIT}\s*(?:or|and) (?:less|lower|below|under|fewer|down)\b|\bat most {_NUMBER}|"
                   rf"\bno (?:more|higher|greater) than {_NUMBER}|<=\s*{_NUMBER}|\u2264\s*{_NUMBER}|"
                   rf"\bless than or equal to {_NUMBER}")
STRICT_ABOVE = rf"(?:above|over|greater than|more than|higher than|exceed(?:s|ed|ing)?|>)\s*{_NUMBER}"
STRICT_BELOW = rf"(?:below|under|less than|lower than|<)\s*{_NUMBER}"
_LATEST = r"\b(latest|last|current|most recent|newest|recent)\b"
_EVER = r"\b(ever|any|at any (time|point)|once|all)\b"
_LAST_VS_FIRST = (r"\b(last|latest|most recent|current|final|newest)\b.*\b(less|lower|smaller|greater|higher|larger|more|"
                  r"bigger|same|equal|different)\b.*\b(first|initial|earliest|baseline|original)\b")
_FIRST_VS_LAST = (r"\b(first|initial|earliest|baseline|original)\b.*\b(less|lower|smaller|greater|higher|larger|more|"
                  r"bigger|same|equal|different)\b.*\b(last|latest|most recent|current|final|newest)\b")
_RELATION = {"less": "less", "lower": "less", "smaller": "less", "greater": "greater", "higher": "greater",
             "larger": "greater", "more": "greater", "bigger": "greater", "same": "same", "equal": "same",
             "different": "different"}
_INVERSE = {"less": "greater", "greater": "less", "same": "same", "different": "different"}
_WORDS_READ = ("yes no answer first or and more higher lower less greater than equal to same value values measured "
               "than the a least most ever any at once time point mm hg mmhg bpm inclusive including deceased dead "
               "died alive living everyone whether different of one ones").split()


def threshold_of(text: str) -> tuple[float | None, str | None, bool]:
    """(threshold, "above"/"below", inclusive) as the question states it."""
    for pattern, side, inclusive in ((INCLUSIVE_ABOVE, "above", True), (INCLUSIVE_BELOW, "below", True),
                                     (STRICT_ABOVE, "above", False), (STRICT_BELOW, "below", False)):
        m = re.search(pattern, text)
        if m:
            number = next(g for g in m.groups() if g is not None)
            return float(number), side, inclusive
    return None, None, False


def amend_reading_plan(plan: Plan, text: str, vocab: Vocabulary) -> tuple[Plan, tuple[str, ...]]:
    """The measurement parser's plan with what it did not read; and the extra words this read."""
    if plan.kind != "data" or plan.operation == "attention":
        return plan, ()
    if plan.subject == "patient" and plan.operation in ("medications", "allergies"):
        return plan, ()
    yes_no = bool(re.search(YES_NO, text))
    threshold, side, inclusive = threshold_of(text)
    if plan.subject == "workspace":
        return _workspace(plan, text, vocab, threshold, side, inclusive)
    if plan.operation == "count" and not re.search(r"\bhow (many|often)\b|\bnumber of\b|^count\b|\bcount (the|all|of|"
                                                   r"her|his|their)\b|\btimes\b", text):
        # "the last leukocytes count", "her platelet count": the count is the measurement's name, not the operation.
        operation = "first" if re.search(r"\b(first|earliest|initial|baseline)\b", text) else "latest"
        return validate_plan(replace(plan, operation=operation)), ("count", "counts")
    code = plan.measurements[:1]
    m = re.search(_LAST_VS_FIRST, text) or re.search(_FIRST_VS_LAST, text)
    if m and threshold is None:
        relation = _RELATION[m.group(2)]
        if re.match(r"(first|initial|earliest|baseline|original)", m.group(1)):
            relation = _INVERSE[relation]
        return validate_plan(replace(plan, measurements=code, operation="compare", comparison=relation,
                                     yes_no=True)), tuple(_WORDS_READ)
    if threshold is not None and side is not None:
        if re.search(_LATEST, text) and not re.search(_EVER, text) and (yes_no or plan.operation in ("latest", "above",
                                                                                                      "below")):
            return validate_plan(replace(plan, measurements=code, operation="latest", threshold=threshold,
                                         comparison=side, inclusive=inclusive, yes_no=True)), tuple(_WORDS_READ)
        return validate_plan(replace(plan, measurements=code, operation=side, threshold=threshold, comparison=side,
                                     inclusive=inclusive, yes_no=yes_no)), tuple(_WORDS_READ)
    if re.search(r"\bhow many (different |distinct |separate |unique )?(days|dates|occasions)\b|"
                 r"\bnumber of (different |distinct )?(days|dates)\b", text):
        return validate_plan(replace(plan, measurements=code, operation="count_days")), ("days", "dates",
                                                                                          "occasions", "different",
                                                                                          "distinct", "separate")
    if yes_no and plan.operation in ("latest", "readings", "count") and re.search(
            r"\b(measured|checked|recorded|taken|done|tested|test|had|any|ever|been)\b", text) \
            and not re.search(_LATEST, text):
        return validate_plan(replace(plan, measurements=code, operation="exists", yes_no=True)), \
            ("test", "tested", "had", "been", "done", "measured", "checked", "any", "ever")
    return plan, ()


def _workspace(plan: Plan, text: str, vocab: Vocabulary, threshold: float | None, side: str | None,
               inclusive: bool) -> tuple[Plan, tuple[str, ...]]:
    read: list[str] = list(_WORDS_READ)
    cohort = plan.cohort
    matched = term_text = ""
    if cohort.condition:
        res = resolve(vocab, "condition", cohort.condition)
        if res.matched:
            term_text = cohort.condition
            cohort = replace(cohort, condition=None, condition_terms=res.descriptions, active_only=True)
            matched = res.shown()
    if not cohort.condition and not cohort.condition_terms:
        terms, shown, noun = adjective_group(text, vocab)
        if terms:
            cohort, matched, term_text = replace(cohort, condition_terms=terms, active_only=True), shown, noun
            read += [w for w in re.findall(r"[a-z]+", text) if w in GROUP_ADJECTIVES]
    if not cohort.condition and not cohort.condition_terms:
        m = re.search(r"\b(?:taking|on|prescribed|receiving|given)\s+([a-z][a-z0-9.-]*(?: [a-z0-9.-]+){0,4}?)"
                      r"(?=\s+(?:in|since|before|after|during|who|with|and|over|under)\b|[?.,]|$)", text)
        drug = resolve(vocab, "medication", m.group(1)) if m else None
        if m is not None and drug is not None and drug.matched:
            cohort, matched, term_text = replace(cohort, medication_terms=drug.descriptions), drug.shown(), m.group(1)
            read += re.findall(r"[a-z0-9]+", m.group(1)) + ["taking", "on", "prescribed", "receiving", "given"]
    over = "ever" if re.search(r"\bever\b|\bat any (time|point)\b|\bany (reading|value|measurement)\b", text) else "latest"
    changes = dict(cohort=cohort, matched=matched, term_text=term_text, population=_population(text), over=over)
    if threshold is not None and plan.operation in ("which_patients", "count"):
        changes.update(threshold=threshold, comparison=side, inclusive=inclusive, operation="which_patients")
    return validate_plan(replace(plan, **changes)), tuple(read)  # type: ignore[arg-type]
