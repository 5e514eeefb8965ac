"""Judging one answer against its expected answer: right, wrong or declined. Strict on figures, lenient on
wording (contracts.md section 1 says how answers look):

- yes/no: the text begins with "Yes" or "No" (after any caution line the app puts first), and it is the
  expected one;
- a date: the text states it as YYYY-MM-DD, and it leads: it is the text's first date or the first dated
  fact's (``observed_at``);
- a count: the text states the integer, and it leads: it is the text's first whole number (dates, years
  of the window and ids left out) or the first numeric fact;
- a name: the text holds one of the accepted names (case-insensitive, whole words), and when the answer
  has named facts (a fact whose value is text) the first or the last of them is one;
- names (a top-k list): every expected name is in the text (``names_any``: every name of one of the
  readings of "most frequent": rows or patients, the living or everyone);
- patients: the patient ids in the answer's rows (or else its text) are exactly the expected ones;
- decline (a question the record cannot answer): ``answer.declined``.

An answerable question declined, or handed to the model's prose (``computed=False``), is "declined"; a
computed answer that is not right is "wrong". An unanswerable question that is not declined is "wrong"
whatever the answer says: a figure invented for data the record does not hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RIGHT, WRONG, DECLINED = "right", "wrong", "declined"
_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+Z?)?\b")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_WINDOW_YEAR = re.compile(r"\b(in|since|during|from|before|after|until|between)\s+(19|20)\d\d\b",
                          re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w.]|\.\d)")
# Lines the app puts before the answer itself ("Planned by the on-device model ...", "Check the plan ...").
_CAUTIONS = ("planned by the on-device model", "check the plan", "matched:")


@dataclass(frozen=True)
class Expect:
    """What a right answer must say. ``how``: yesno, date, count, value, name, names, names_any, patients,
    decline."""

    how: str
    value: Any = None
    accepted: tuple[str, ...] = ()     # "name": any of these is right (ties); "patients": every patient id
    tolerance: float = 0.011

    def __repr__(self) -> str:
        shown = self.accepted if self.accepted and self.how != "patients" else self.value
        return f"{self.how}:{shown}"


def is_declined(answer: Any) -> bool:
    return bool(getattr(answer, "declined", False))


def answer_body(text: str) -> str:
    """The text without the caution lines the app puts first."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    while len(lines) > 1 and lines[0].strip().lower().startswith(_CAUTIONS):
        lines = lines[1:]
    return "\n".join(lines).strip()


def _numeric_facts(answer: Any) -> list[float]:
    return [float(f.value) for f in getattr(answer, "facts", []) if isinstance(f.value, (int, float))
            and not isinstance(f.value, bool)]


def _counts_text(text: str) -> str:
    """The text without dates, ids and the years of its window ("in 2016", "since 2018")."""
    return _WINDOW_YEAR.sub(" ", _UUID.sub(" ", _DAY.sub(" ", text)))


def first_count_in_text(text: str) -> int | None:
    m = _NUMBER.search(_counts_text(text))
    return int(m.group(1)) if m else None


def _whole_numbers(text: str) -> set[int]:
    return {int(m.group(1)) for m in _NUMBER.finditer(_counts_text(text))}


def check(answer: Any, expect: Expect) -> bool:
    """True when the answer says what is expected (the answer is computed and not declined)."""
    text = answer_body(answer.text or "")
    how = expect.how
    if how == "yesno":
        word = "yes" if expect.value else "no"
        return re.match(rf"{word}\b", text, re.IGNORECASE) is not None
    if how == "date":
        # The date must be stated, and be the answer's lead: the first date of the text or of the dated facts
        # (an answer that names the first event when asked for the last leads with the wrong one).
        dated = [f.observed_at[:10] for f in answer.facts if getattr(f, "observed_at", None)]
        stated = [m.group(1) for m in _DAY.finditer(text)]
        return expect.value in stated and (stated[0] == expect.value or (bool(dated) and dated[0] == expect.value))
    if how == "count":
        # The integer must be stated, as the first number of the text or as the first numeric fact.
        n = int(expect.value)
        numbers = _numeric_facts(answer)
        lead = first_count_in_text(text)
        said = n in _whole_numbers(text)
        return said and (lead == n or (bool(numbers) and numbers[0] == float(n)))
    if how == "value":
        numbers = _numeric_facts(answer)
        return bool(numbers) and abs(numbers[0] - float(expect.value)) <= expect.tolerance
    if how == "name":
        # Named in the text (case-insensitive, whole words); when the answer has named facts, the first or
        # the last of them is the one (not merely a name somewhere in a list).
        accepted = [a.lower() for a in (expect.accepted or (expect.value,))]
        named = [str(f.value).lower() for f in answer.facts if isinstance(f.value, str)]

        def says(where: str) -> bool:
            return any(re.search(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])", where) for a in accepted)

        return says(text.lower()) and (not named or says(named[0]) or says(named[-1]))
    if how == "names":
        return all(str(n).lower() in text.lower() for n in expect.value)
    if how == "names_any":   # several readings of the question, each a list of names: one must be named whole
        flat = " ".join(text.lower().split())   # names as Synthea spells them, with doubled spaces squeezed
        return any(all(" ".join(str(n).lower().split()) in flat for n in names) for names in expect.value)
    if how == "patients":
        # ``accepted`` holds every patient id of the workspace: other ids in the rows (encounters) are not patients.
        known = set(expect.accepted) if expect.accepted else None
        cells = {str(c) for row in getattr(answer, "rows", []) for c in row}
        ids = {c for c in cells if _UUID.fullmatch(c) and (known is None or c in known)}
        ids = ids or {c for c in _UUID.findall(text) if known is None or c in known}
        return ids == set(expect.value)
    raise ValueError(f"unknown expectation {how!r}")


def judge(answer: Any, expect: Expect, *, prose_judged: bool = False) -> str:
    """right / wrong / declined. ``prose_judged``: the model's prose was run for a general reply, and its
    text is judged like a computed answer's."""
    if expect.how == "decline":
        return RIGHT if is_declined(answer) else WRONG
    if is_declined(answer):
        return DECLINED
    if not answer.computed and not (prose_judged and (answer.text or "").strip()):
        return DECLINED
    return RIGHT if check(answer, expect) else WRONG
