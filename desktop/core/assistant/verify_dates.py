"""The dates a text states, as the verifier reads them: "2019-06-01", "1 June 2019", "June 1st, 2019"."""

from __future__ import annotations

import re
from datetime import date

from desktop.core.assistant.verify_claims import Subject
from desktop.core.queries.patients import age_years

_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"), start=1)}
_MONTH_RE = "|".join(_MONTHS) + "|" + "|".join(m[:3] for m in _MONTHS)
DATE_PATTERNS = (
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
    re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH_RE})\.?,? (\d{{4}})\b", re.IGNORECASE),
    re.compile(rf"\b({_MONTH_RE})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", re.IGNORECASE),
)

def date_of(m: re.Match[str]) -> str | None:
    groups = m.groups()
    try:
        if groups[0].isdigit() and len(groups[0]) == 4:
            return date(int(groups[0]), int(groups[1]), int(groups[2])).isoformat()
        if groups[0].isdigit():
            month = _MONTHS.get(groups[1].lower()) or _month3(groups[1])
            return date(int(groups[2]), month, int(groups[0])).isoformat()
        month = _MONTHS.get(groups[0].lower()) or _month3(groups[0])
        return date(int(groups[2]), month, int(groups[1])).isoformat()
    except (ValueError, TypeError):
        return None


def _month3(word: str) -> int:
    return next(i for name, i in _MONTHS.items() if name.startswith(word.lower()[:3]))


def age_on_a_day(subject: Subject | None, text: str) -> tuple[str, int] | None:
    """The age the record gives on the one date a sentence names (None without a birth date or a date)."""
    if subject is None or subject.record is None or subject.record.birth is None:
        return None
    birth = subject.record.birth.isoformat()
    days = {d for pattern in DATE_PATTERNS for m in pattern.finditer(text) if (d := date_of(m)) and d != birth
            and not re.search(r"\b(born|birth)\b", text[max(0, m.start() - 16):m.start()], re.IGNORECASE)}
    if len(days) != 1:
        return None
    day = days.pop()
    age = age_years(subject.record.birth, date.fromisoformat(day))
    return (day, int(age)) if age is not None else None
