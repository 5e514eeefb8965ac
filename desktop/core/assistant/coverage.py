"""Which words of a question the deterministic parser's plan does not account for.

Why: the parser never says "I don't know". A question that names a measurement and no operation it
recognises becomes "the latest reading" (or, about the workspace, the mean): "how high has her systolic
ever gone?" was answered with the latest systolic, as fact. Here every word of the question must be
explained by something the parser read (the measurement, the operation's wording, the threshold, the time
window, the cohort) or be a word that carries no meaning for a plan ("what", "her", "please"). Any word
left over means the plan may not be the question's: the model planner is asked (``ask.py``), and an
answer from a plan the parser was unsure of is marked.
"""

from __future__ import annotations

import re

from desktop.core.assistant.parse import (
    _ABOVE,
    _ALLERGIES,
    _BELOW,
    _HANDOVER,
    _MEDICATIONS,
    _OPERATIONS,
    BLOOD_PRESSURE,
    _measurement_phrases,
    normalise,
)
from desktop.core.assistant.plan import Plan


def _words(block: str) -> list[str]:
    return block.split()


# Words that carry nothing a plan needs: question words, pronouns, articles, politeness, "reading" nouns.
_FILLER = frozenset(_words("""
a an the of for to on in at by is are was were be been has have had do does did what what's whats which
her his their its my our your this that these those she he they patient patient's patients person
value values reading readings result results level levels measurement measurements number figure score
record recorded records chart file please me i we us you can could would tell give show get find
and or with any there it s 's 'm ever all every how across among range up down list
taken checked measured done drawn times time seen we've i've name named
"""))
# Words the parser reads for a time window and for a cohort (their exact numbers are read there too).
_WINDOW_WORDS = frozenset(_words("""
since after before until prior from during over past last latest year years month months week weeks day days
visit encounter appointment recent current currently now newest today
"""))
_COHORT_WORDS = frozenset(_words("""
who whose everyone people women woman men man female females male males girls boys aged age older younger
than over under or above below and between ages workspace cohort across board population diagnosed diagnosis suffer
having condition active years old year
"""))
_WORD = re.compile(r"[a-z0-9][a-z0-9'.-]*")


def unread_words(question: str, plan: Plan, also: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The words of ``question`` that nothing in the parser's reading of it explains (empty: fully read).
    ``also``: words another part of the parser read (reading_parse.py: "or higher", "including the deceased")."""
    if plan.kind != "data":
        return ()
    text = normalise(question)
    spans: list[tuple[int, int]] = []
    for phrase, _code in _measurement_phrases():
        spans += [m.span() for m in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?:e?s)?(?![\w-])", text)]
    for phrase in BLOOD_PRESSURE:
        spans += [m.span() for m in re.finditer(rf"(?<![\w-]){re.escape(phrase)}s?(?![\w-])", text)]
    for _op, pattern in _OPERATIONS:
        spans += [m.span() for m in re.finditer(pattern, text)]
    for pattern in (_ABOVE, _BELOW, _MEDICATIONS, _ALLERGIES, _HANDOVER, r"\bmost recent(ly)?\b", r"\bright now\b"):
        spans += [m.span() for m in re.finditer(pattern, text)]
    if plan.cohort.condition:
        spans += [m.span() for m in re.finditer(re.escape(plan.cohort.condition), text)]
    covered = [False] * len(text)
    for start, end in spans:
        for i in range(start, end):
            covered[i] = True
    allowed = _FILLER | _WINDOW_WORDS | (_COHORT_WORDS if plan.subject == "workspace" else frozenset()) | frozenset(also)
    for term in (plan.term_text, *plan.cohort.condition_terms):
        allowed |= frozenset(re.findall(r"[a-z0-9]+", term.lower()))
    left = []
    for m in _WORD.finditer(text):
        word = m.group().strip(".'")
        # The word itself, without the full stop or quote around it ("handover." ends a sentence).
        start = m.start() + len(m.group()) - len(m.group().lstrip(".'"))
        if not word or all(covered[start:start + len(word)]) or word in allowed or word.rstrip("s") in allowed:
            continue
        if re.fullmatch(r"-?\d+(\.\d+)?", word) and _number_is_read(float(word), plan):
            continue
        left.append(word)
    return tuple(left)


def _number_is_read(value: float, plan: Plan) -> bool:
    w, c = plan.window, plan.cohort
    years = {d.year for d in (w.start, w.end) if d is not None} | {d.year - 1 for d in (w.end,) if d is not None}
    return (value == plan.threshold or value in years or value in (c.age_min, c.age_max)
            or (c.age_min is not None and value + 1 == c.age_min) or (c.age_max is not None and value - 1 == c.age_max)
            or (w.text != "" and str(int(value)) in w.text))
