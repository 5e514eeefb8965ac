"""What a model's text may be checked against: the figures, days, limits, counts, sex and ages in the facts
it was given (a list of :class:`Fact` and/or the patient summary dict), indexed for the verifier."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from desktop.core.assistant.answer import Fact
from desktop.core.assistant.parse import find_measurements
from desktop.core.clinical.measurements import load_catalog, normalise_unit

NEWS2 = "news2"
# Facts whose value is a count, not a reading ("patients with Penicillin V Potassium 250 MG Oral Tablet": 9).
COUNT_LABELS = ("number of", "patients counted", "count", "patients with", "patients aged")
_LIMIT_NUMBER = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)(?![\w])")


@dataclass(frozen=True)
class KnownReading:
    """A figure the facts hold."""

    code: str | None
    value: float
    unit: str
    flag: str | None
    day: str | None


class FactBook:
    """What the facts support, indexed for checking: readings by measurement, days, limits, sex and ages."""

    def __init__(self, facts: Iterable[Fact] = (), summary: Mapping[str, Any] | None = None) -> None:
        self.readings: list[KnownReading] = []
        self.days: set[str] = set()
        self.limits: set[float] = set()   # range limits named in rules: the model may quote them
        self.counts: set[float] = set()
        self.sex: str | None = None
        self.ages: set[int] = set()
        catalog = load_catalog()
        for f in facts:
            code = _code_of_label(f.label)
            if isinstance(f.value, (int, float)) and f.label.startswith("threshold"):
                self.limits.add(float(f.value))  # the limit the question set ("above 140")
                continue
            if isinstance(f.value, (int, float)):
                if f.label.startswith(COUNT_LABELS):
                    self.counts.add(float(f.value))
                    continue
                self.readings.append(KnownReading(code, float(f.value), f.unit or "", f.flag, _iso_day(f.observed_at)))
            self._add_day(f.observed_at)
            self._add_limits(f.rule)
        if summary:
            self._add_summary(summary)
        self._catalog = catalog

    def _add_day(self, value: Any) -> None:
        day = _iso_day(value)
        if day:
            self.days.add(day)

    def _add_limits(self, rule: str | None) -> None:
        for m in _LIMIT_NUMBER.finditer(rule or ""):
            self.limits.add(float(m.group(1)))

    def _add_summary(self, summary: Mapping[str, Any]) -> None:
        p = summary.get("patient") or {}
        self.sex = p.get("sex") if p.get("sex") in ("F", "M") else None
        if isinstance(p.get("age"), (int, float)):
            self.ages.add(int(p["age"]))
        for key in ("birth_date", "deceased"):
            self._add_day(p.get(key))
        for item in summary.get("latest") or []:
            value = item.get("value")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.readings.append(KnownReading(item.get("code"), float(value), item.get("unit") or "", item.get("flag"),
                                            _iso_day(item.get("observed_at"))))
            if isinstance(item.get("count"), int):
                self.counts.add(float(item["count"]))
            if isinstance(item.get("age_at_reading"), (int, float)):
                self.ages.add(int(item["age_at_reading"]))
            self._add_day(item.get("observed_at"))
            self._add_limits(item.get("rule"))
            limits = (item.get("reference") or {}).get("limits") or {}
            for limit in limits.values():
                if isinstance(limit, dict) and isinstance(limit.get("value"), (int, float)):
                    self.limits.add(float(limit["value"]))
        bp = summary.get("bp_reading") or {}
        self._add_day(bp.get("observed_at"))
        news2 = summary.get("news2") or {}
        if isinstance(news2.get("score"), int):
            self.readings.append(KnownReading(NEWS2, float(news2["score"]), "", None, _iso_day(news2.get("observed_at"))))
        for trend in summary.get("trends") or []:
            for key in ("first", "last"):
                if isinstance(trend.get(key), (int, float)):
                    self.readings.append(KnownReading(trend.get("code"), float(trend[key]), trend.get("unit") or "", None,
                                                None))

    # ------------------------------------------------------------------------------------------ matching
    def _shown_values(self, known: KnownReading, unit: str | None) -> list[float]:
        """The reading as the text may show it: in the record's unit, or converted to the unit written."""
        if unit is None or normalise_unit(unit) == normalise_unit(known.unit) or known.code is None:
            return [known.value]
        m = self._catalog.by_code(known.code)
        conversion = m.units.get(unit) if m else None
        if conversion is None:
            return []
        factor, offset = conversion
        return [(known.value - offset) / factor]

    def holds(self, number: float, decimals: int, unit: str | None, codes: tuple[str, ...],
              day: str | None = None) -> KnownReading | None:
        """The reading this number states, within the rounding the text shows (36.85 read as 36.9 or 37); of
        equal readings, the one of the ``day`` the text gives with it ("22 /min on 2016-02-25")."""
        tolerance = 0.5 * 10 ** -decimals + 1e-9
        best: tuple[float, bool, KnownReading] | None = None
        for known in self.readings:
            if codes and known.code not in codes:
                continue
            for shown in self._shown_values(known, unit):
                gap = abs(shown - number)
                other_day = day is not None and known.day != day
                if gap <= tolerance and (best is None or (gap, other_day) < (best[0], best[1])):
                    best = (gap, other_day, known)  # the closest reading: "38" is the 38.0, not the 37.61
        return best[2] if best else None

    def unit_fits(self, unit: str, codes: tuple[str, ...], loose: Callable[[str], str] = normalise_unit) -> bool | None:
        """Whether a unit belongs to the named measurement(s); None when no measurement is named. ``loose`` is how
        units are compared (the unit given is already in that form)."""
        if not codes:
            return None
        for code in codes:
            m = self._catalog.by_code(code)
            if m and (unit in {loose(u) for u in m.units} or unit == loose(m.unit)):
                return True
        return False

    def flags_of(self, codes: tuple[str, ...]) -> list[str | None]:
        """The flags of the latest readings held for these measurements."""
        latest: dict[str, KnownReading] = {}
        for k in self.readings:
            if k.code in codes and (k.code not in latest or (k.day or "") >= (latest[k.code].day or "")):
                latest[k.code] = k
        return [k.flag for k in latest.values()]


def _code_of_label(label: str) -> str | None:
    """The catalog code a fact's label names ("Systolic blood pressure", "max Systolic blood pressure")."""
    codes = find_measurements(label.lower())
    return codes[0] if len(codes) == 1 else None


def _iso_day(value: Any) -> str | None:
    if isinstance(value, (datetime, date)):
        return value.isoformat()[:10]
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None
