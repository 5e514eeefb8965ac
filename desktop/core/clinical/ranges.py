"""Reference ranges as data (``resources/ranges/reference_ranges.json``) and the flags they give.

Flags follow HL7 v2 Table 0078: N, L, H and the critical LL, HH. Ranges are for adults; a child's
value gets no flag (None) rather than an adult flag that would mislead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from desktop.core.resources import resource_path


@dataclass(frozen=True)
class ReferenceRange:
    code: str
    sex: str  # "any", "F" or "M"
    low: float | None
    high: float | None
    critical_low: float | None
    critical_high: float | None
    authority: str


@dataclass(frozen=True)
class RangeTable:
    adult_age_years: float
    ranges: tuple[ReferenceRange, ...]

    def for_patient(self, code: str, sex: str | None, age_years: float | None) -> ReferenceRange | None:
        """The range that applies to this patient, or None (unknown code, child, unknown age)."""
        if age_years is None or age_years < self.adult_age_years:
            return None
        fallback = None
        for r in self.ranges:
            if r.code != code:
                continue
            if r.sex == (sex or "").upper():
                return r
            if r.sex == "any":
                fallback = r
        return fallback


@lru_cache(maxsize=1)
def load_ranges() -> RangeTable:
    data = json.loads(resource_path("ranges", "reference_ranges.json").read_text(encoding="utf-8"))
    ranges = tuple(
        ReferenceRange(
            code=item["code"],
            sex=item["sex"],
            low=item.get("low"),
            high=item.get("high"),
            critical_low=item.get("critical_low"),
            critical_high=item.get("critical_high"),
            authority=item["authority"],
        )
        for item in data["ranges"]
    )
    return RangeTable(float(data["adult_age_years"]), ranges)


def flag(value: float | None, reference: ReferenceRange | None) -> str | None:
    """N, L, H, LL or HH; None where there is no value or no range to judge it by."""
    if value is None or reference is None:
        return None
    if reference.critical_low is not None and value <= reference.critical_low:
        return "LL"
    if reference.critical_high is not None and value >= reference.critical_high:
        return "HH"
    if reference.low is not None and value < reference.low:
        return "L"
    if reference.high is not None and value > reference.high:
        return "H"
    return "N"
