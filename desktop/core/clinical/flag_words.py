"""Flag wording, written once: every view, answer and export says a flag the same way.

Flags are HL7 v2 Table 0078 interpretation codes; the letter is kept in front of the words so that a
clinician who reads codes and one who reads words see the same thing ("H high", "LL critically low").
"""

from __future__ import annotations

FLAG_WORDS: dict[str, str] = {
    "N": "normal",
    "L": "L low",
    "H": "H high",
    "LL": "LL critically low",
    "HH": "HH critically high",
}

# The same flags inside a sentence of an answer ("150 mmHg on 2024-02-05 (above the healthy range; ...)").
FLAG_PHRASES: dict[str, str] = {
    "N": "within the healthy range",
    "L": "below the healthy range",
    "H": "above the healthy range",
    "LL": "critically low",
    "HH": "critically high",
}

NO_RANGE = "no range"


def describe_flag(flag: str | None) -> str:
    """'H high', 'LL critically low', 'normal'; 'no range' where nothing judged the value."""
    if not flag:
        return NO_RANGE
    return FLAG_WORDS.get(flag, flag)


def flag_phrase(flag: str) -> str:
    """'above the healthy range', 'critically low': a flag inside an answer's sentence."""
    return FLAG_PHRASES.get(flag, flag)


def flag_severity(flag: str | None) -> int:
    """How abnormal a flag is, for choosing between readings: critical 3, abnormal 2, normal 1, none 0."""
    return {"LL": 3, "HH": 3, "L": 2, "H": 2, "N": 1}.get(flag or "", 0)
