"""Numbers that belong to a name, not to a reading: a terminology code and a drug's strength.

A computed answer names what it matched with its code ("Hypertension (38341003)", "Amoxicillin 250 MG Oral
Capsule (308182)"), and drug and vaccine names carry their strength ("30 mcg/0.3mL dose"). Read as readings,
those numbers were called contradicted whenever the sentence also named a measurement. They are judged here
for what they are, before any number is read as a reading:

- a code: a run of five or more digits in parentheses after a name, or a number after "code", "SNOMED",
  "RxNorm", "CVX" or "LOINC": verified when the facts state it, else unverified (never a reading);
- a bound: "30+" in "Body mass index 30+ - obesity" ("30 or more"): unverified, never a reading;
- a strength: a number followed by a dose unit (mg, mcg, mL, UNT, ...; "mg/dL" and the other units of
  readings are not doses): verified when a name in the facts holds that strength, else unverified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

VERIFIED, UNVERIFIED = "verified", "unverified"
Add = Callable[[int, int, str, str, str], None]
Free = Callable[[int, int], bool]

_CODE = re.compile(r"(?<=[\w)\]])\s*\((\d{5,}(?:-\d)?)\)|\b(?:code|snomed(?: ct)?|rxnorm|cvx|loinc)\s*:?\s*"
                   r"(\d+(?:-\d)?)\b", re.IGNORECASE)
# A reading's units that start like a dose ("mg/dL", "mL/min") are left to the reading check.
_READING_UNIT = re.compile(r"mg/dl|mmol|ml/min|g/dl|g/l\b|mg/l\b|meq/l|kg", re.IGNORECASE)
_DOSE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(mg|mcg|µg|ug|g|ml|unt|units?|meq|iu)"
                   r"(?:\s?/\s?(?:\d+(?:\.\d+)?\s?)?(?:ml|mg|g|actuat|hr|dose|l)\b)?(?![\w/])", re.IGNORECASE)
# "Body mass index 30+ - obesity": a bound inside a name ("30 or more"), not a reading.
_BOUND = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\+(?![\d\w])")
_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text).strip().lower()


def judge_names(text: str, stated: Iterable[str], add: Add, free: Free) -> None:
    """Marks the codes and strengths of one sentence; ``stated`` are the strings the facts give (labels,
    names, values), against which they are verified."""
    said = " | ".join(_plain(s) for s in stated)
    for m in _CODE.finditer(text):
        group = 1 if m.group(1) else 2
        start, end = m.start(group), m.end(group)
        if free(start, end):
            ok = m.group(group) in said
            add(start, end, "code", VERIFIED if ok else UNVERIFIED,
                "a code the facts give" if ok else "a terminology code, not a reading: the facts do not give it")
    for m in _BOUND.finditer(text):
        if free(m.start(), m.end()):
            add(m.start(), m.end(), "bound", UNVERIFIED, "a bound ('30 or more'), not a reading")
    for m in _DOSE.finditer(text):
        if _READING_UNIT.match(text, m.start(2)) or not free(m.start(), m.end()):
            continue
        ok = _plain(m.group(0)) in said
        add(m.start(), m.end(), "dose", VERIFIED if ok else UNVERIFIED,
            "a strength named in the facts" if ok else "a drug's strength, not a reading: the facts do not name it")
