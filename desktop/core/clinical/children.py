"""Children's tables (``resources/ranges/children_ranges.json``) as reference ranges, and the BP category
of a child's reading.

- Blood pressure: AAP 2017 (Flynn et al., Pediatrics 2017) simplified screening table by age and sex from
  1 to 12 years (a reading at or above it is flagged H: it needs the full percentile tables, which need the
  child's height); from 13 the adult-style thresholds (the adult ranges, so flags and category agree).
- Heart and respiratory rate: Fleming et al. (Lancet 2011) centiles; outside the 1st-99th centile is L/H.
- BMI percentile (Synthea's LOINC 59576-9): CDC BMI-for-age, ages 2-19: < 5th L, >= 85th H, >= 95th obese.
Every range carries a note naming the table and the row used; the age itself is added by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.core.clinical.ranges import CHILD, Limit, ReferenceRange, Threshold

SYSTOLIC, DIASTOLIC, BMI, BMI_PERCENTILE = "8480-6", "8462-4", "39156-5", "59576-9"


@dataclass(frozen=True)
class ChildBp:
    source: str
    first_age: float
    adult_style_from: float
    adult_style_note: str
    stage1: tuple[float, float]
    stage2: tuple[float, float]
    stage_note: str


@dataclass(frozen=True)
class ChildTables:
    ranges: tuple[ReferenceRange, ...]
    bp: ChildBp
    bmi_first_age: float
    under_2_note: str
    child_bmi_note: str

    def no_range_reason(self, code: str, age: float, adult_age: float) -> str:
        """Why a child's reading at this age has no range, in words."""
        if code in (SYSTOLIC, DIASTOLIC) and age < self.bp.first_age:
            return f"AAP 2017 blood-pressure tables start at age {self.bp.first_age:g}: an infant's reading is not flagged"
        if code == BMI_PERCENTILE and age < self.bmi_first_age:
            return self.under_2_note
        if code == BMI:
            return self.child_bmi_note
        return f"no children's table for this measurement; adult ranges apply from {adult_age:g}"

    def bp_category(self, systolic: float, diastolic: float, screening: tuple[float, float]) -> str:
        """AAP 2017 under 13 from the simplified table: only what the table (and the absolute stage limits,
        which apply whatever the height) can tell without the child's height percentile."""
        s2, d2 = self.bp.stage2
        s1, d1 = self.bp.stage1
        if systolic >= s2 or diastolic >= d2:
            return "Hypertension stage 2"
        if systolic >= s1 or diastolic >= d1:
            return "Hypertension stage 1 or higher"
        if systolic >= screening[0] or diastolic >= screening[1]:
            return "Elevated or higher (screening table: the full AAP tables by height decide)"
        return "Normal"


def _row_ranges(code: str, sex: str, age_from: float, age_to: float, note: str, **limits: Limit | None
                ) -> ReferenceRange:
    return ReferenceRange(code=code, sex=sex, population=CHILD, age_from=age_from, age_to=age_to, note=note,
                          low_limit=limits.get("low"), high_limit=limits.get("high"))


def _span(a: float, b: float) -> str:
    return f"{round(a * 12)}-{round(b * 12)} months" if b <= 2 else f"{a:g}-{b:g} years"


def parse_children(data: dict[str, Any]) -> ChildTables:
    ranges: list[ReferenceRange] = []
    bp = data["blood_pressure"]
    for age, boys_s, boys_d, girls_s, girls_d in bp["rows"]:
        for sex, s, d, who in (("M", boys_s, boys_d, "boys"), ("F", girls_s, girls_d, "girls")):
            note = f"AAP 2017 simplified screening table, {who} aged {age}"
            for code, value in ((SYSTOLIC, s), (DIASTOLIC, d)):
                # "at or above needs evaluation": the screening value itself is abnormal (an exclusive high).
                ranges.append(_row_ranges(code, sex, float(age), float(age) + 1, note,
                                          high=Limit(float(value), False, bp["source"])))
    for table in data["centiles"]:
        for age_from, age_to, c1, c99 in table["rows"]:
            note = f"Fleming 2011 {table['name']} centiles, ages {_span(age_from, age_to)}"
            ranges.append(_row_ranges(table["code"], "any", float(age_from), float(age_to), note,
                                      low=Limit(float(c1), True, table["source"] + f": 1st centile {c1}"),
                                      high=Limit(float(c99), True, table["source"] + f": 99th centile {c99}")))
    bmi = data["bmi_percentile"]
    first, last = (float(x) for x in bmi["ages"])
    ranges.append(ReferenceRange(
        code=bmi["code"], sex="any", population=CHILD, age_from=first, age_to=last,
        note=f"CDC BMI-for-age, ages {first:g}-{last - 1:g}",
        low_limit=Limit(float(bmi["low"]), True, bmi["source"]),
        high_limit=Limit(float(bmi["high"]), False, bmi["source"]),
        thresholds=(Threshold("CDC obese", float(bmi["obese"]), bmi["source"]),),
    ))
    child_bp = ChildBp(bp["source"], float(bp["ages"][0]), float(bp["adult_style_from"]), bp["adult_style_note"],
                       (float(bp["stage1"][0]), float(bp["stage1"][1])),
                       (float(bp["stage2"][0]), float(bp["stage2"][1])), bp["stage_note"])
    return ChildTables(tuple(ranges), child_bp, first, bmi["under_2"], bmi["child_bmi"])
