"""When a pregnancy is ongoing, and which rule decided.

A pregnancy condition makes a woman pregnant only while it is ongoing: from its onset to its stop date, or,
with no stop date, for at most 42 weeks (no pregnancy lasts longer: post-term is >= 42 weeks, ACOG
Practice Bulletin 146, 2014), and never past a later miscarriage, ectopic or molar pregnancy, or
termination recorded for her. Ectopic (tubal) and molar pregnancies and miscarriages are not ongoing
pregnancies: pregnancy ranges do not apply and NEWS2 is not withheld. Each answer carries its rule in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MAX_PREGNANCY = timedelta(weeks=42)

# Conditions fetched as pregnancy candidates (SQL, on ``description``); negations and history rows never are.
# "Molar pregnancy" is found by "pregnan" (a bare "molar" would also find teeth).
PREGNANCY_CANDIDATE_SQL = (
    "(lower(description) LIKE '%pregnan%' OR lower(description) LIKE '%miscarriage%' "
    "OR lower(description) LIKE '%abortion%' OR lower(description) LIKE '%hydatidiform%' "
    "OR lower(description) LIKE '%blighted ovum%') "
    "AND lower(description) NOT LIKE '%not pregnant%' AND lower(description) NOT LIKE '%history of%'"
)
# Not an ongoing pregnancy, and an end to any pregnancy before it.
_NOT_ONGOING = re.compile(r"ectopic|tubal|molar|hydatidiform|miscarriage|abortion|blighted ovum|"
                          r"termination|fetal death|stillbirth", re.IGNORECASE)


@dataclass(frozen=True)
class PregnancyCondition:
    description: str
    onset: date | None
    stop: date | None

    @property
    def ongoing_kind(self) -> bool:
        return "pregnan" in self.description.lower() and not _NOT_ONGOING.search(self.description)


@dataclass(frozen=True)
class PregnancyStatus:
    pregnant: bool
    rule: str  # which rule decided, in words
    start: date | None = None
    end: date | None = None  # exclusive


def _end_of(p: PregnancyCondition, ends: list[date]) -> tuple[date | None, str]:
    """The (exclusive) end of an ongoing-kind pregnancy and the rule that gave it."""
    if p.stop is not None:
        return p.stop, f"to {p.stop.isoformat()} (its stop date)"
    if p.onset is None:
        return None, "no onset or stop date"
    later = [d for d in ends if d > p.onset]
    limit = p.onset + MAX_PREGNANCY
    if later and min(later) < limit:
        return min(later), f"to {min(later).isoformat()} (a miscarriage, ectopic or molar pregnancy recorded then)"
    return limit, f"no stop date: counted for at most 42 weeks, to {limit.isoformat()}"


def pregnancy_periods(conditions: tuple[PregnancyCondition, ...]) -> list[tuple[date | None, date | None, str]]:
    """(start, exclusive end, rule) of each ongoing pregnancy."""
    ends = [c.onset for c in conditions if not c.ongoing_kind and c.onset is not None]
    out = []
    for c in conditions:
        if c.ongoing_kind:
            end, rule = _end_of(c, ends)
            out.append((c.onset, end, f"'{c.description}' from {c.onset.isoformat() if c.onset else 'an unknown date'} {rule}"))
    return out


def pregnancy_at(conditions: tuple[PregnancyCondition, ...], day: date) -> PregnancyStatus:
    for start, end, rule in pregnancy_periods(conditions):
        if (start is None or start <= day) and (end is None or day < end):
            return PregnancyStatus(True, f"pregnant: {rule}", start, end)
    if not conditions:
        return PregnancyStatus(False, "no pregnancy recorded")
    earlier = [c for c in conditions if c.onset is None or c.onset <= day]
    if not earlier:
        return PregnancyStatus(False, "not pregnant: no pregnancy had started by then")
    last = max(earlier, key=lambda c: c.onset or date.min)
    if not last.ongoing_kind:
        return PregnancyStatus(False, f"not pregnant: '{last.description}' ({last.onset}) is not an ongoing pregnancy "
                                      "(ectopic, tubal and molar pregnancies and miscarriages are not)")
    _, _, rule = next(p for p in pregnancy_periods((last, *[c for c in conditions if not c.ongoing_kind]))
                      if p[0] == last.onset)
    return PregnancyStatus(False, f"not pregnant: the last pregnancy had ended ({rule})")
