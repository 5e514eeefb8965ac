"""The dates a text states, as the verifier reads them: "2019-06-01", "1 June 2019", "June 1st, 2019"."""

from __future__ import annotations

import re
from datetime import date

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
