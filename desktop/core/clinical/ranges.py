"""Reference ranges as data (``resources/ranges/reference_ranges.json``) and the flags they give.

Flags follow HL7 v2 Table 0078: N, L, H and the critical LL, HH. Every limit says whether a value equal to
it is inside (``inclusive``) and which authority it comes from, so that a flag can always be explained
("H: > 1.3 mg/dL, MedlinePlus"). Ranges are for adults at the time of the reading; a child's value gets no
flag (None) rather than an adult flag that would mislead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import numpy as np

from desktop.core.resources import resource_path

ADULT, PREGNANCY, SPO2_SCALE2 = "adult", "pregnancy", "spo2_scale2"


@dataclass(frozen=True)
class Limit:
    """One limit. For ``low``/``high`` an inclusive limit is itself normal; for the critical limits an
    inclusive limit is itself critical. ``decimals`` is the precision the authority wrote it in."""

    value: float
    inclusive: bool
    source: str
    decimals: int = 0

    def at_precision(self, value: float) -> float:
        """An inclusive limit is judged at its written precision (labs report 1.3, not 1.3009); an exclusive
        one ('< 100') on the exact value."""
        if not self.inclusive:
            return value
        quantum = Decimal(1).scaleb(-self.decimals)
        return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ReferenceRange:
    code: str
    sex: str  # "any", "F" or "M"
    population: str = ADULT
    low_limit: Limit | None = None
    high_limit: Limit | None = None
    critical_low_limit: Limit | None = None
    critical_high_limit: Limit | None = None
    note: str = ""  # why this range was chosen, when not obvious (sex unknown, age unknown)

    # Plain numbers for bands on plots and JSON output.
    @property
    def low(self) -> float | None:
        return None if self.low_limit is None else self.low_limit.value

    @property
    def high(self) -> float | None:
        return None if self.high_limit is None else self.high_limit.value

    @property
    def critical_low(self) -> float | None:
        return None if self.critical_low_limit is None else self.critical_low_limit.value

    @property
    def critical_high(self) -> float | None:
        return None if self.critical_high_limit is None else self.critical_high_limit.value

    @property
    def authority(self) -> str:
        sources: list[str] = []
        for limit in self.limits().values():
            if limit.source not in sources:
                sources.append(limit.source)
        return "; ".join(sources)

    def limits(self) -> dict[str, Limit]:
        named = {"low": self.low_limit, "high": self.high_limit, "critical_low": self.critical_low_limit,
                 "critical_high": self.critical_high_limit}
        return {k: v for k, v in named.items() if v is not None}

    def classify(self, value: float) -> str:
        """N, L, H, LL or HH for one value in the canonical unit."""
        cl, ch, lo, hi = self.critical_low_limit, self.critical_high_limit, self.low_limit, self.high_limit
        if cl is not None and _below(cl.at_precision(value), cl.value, cl.inclusive):
            return "LL"
        if ch is not None and _above(ch.at_precision(value), ch.value, ch.inclusive):
            return "HH"
        if lo is not None and _below(lo.at_precision(value), lo.value, not lo.inclusive):
            return "L"
        if hi is not None and _above(hi.at_precision(value), hi.value, not hi.inclusive):
            return "H"
        return "N"

    def classify_array(self, values: np.ndarray) -> np.ndarray:
        """The same rules as :meth:`classify`, vectorised for plots: '' where normal, else the flag."""
        out = np.full(values.shape, "", dtype="<U2")
        # Later assignments win, so criticals are written last (as in classify, they take precedence).
        steps = ((self.high_limit, "H", "high"), (self.low_limit, "L", "low"),
                 (self.critical_high_limit, "HH", "critical_high"), (self.critical_low_limit, "LL", "critical_low"))
        for limit, name, key in steps:
            if limit is None:
                continue
            v = values
            if limit.inclusive:
                scale = 10.0 ** limit.decimals
                v = np.floor(values * scale + 0.5) / scale
            if key == "critical_low":
                hit = v <= limit.value if limit.inclusive else v < limit.value
            elif key == "critical_high":
                hit = v >= limit.value if limit.inclusive else v > limit.value
            elif key == "low":
                hit = v < limit.value if limit.inclusive else v <= limit.value
            else:
                hit = v > limit.value if limit.inclusive else v >= limit.value
            out[hit] = name
        return out

    def rule_for(self, flag: str | None, unit: str = "") -> str:
        """The limit behind a flag in words, with its authority: 'H: >= 130 mg/dL (NCEP ATP III ...)'."""
        unit_text = f" {unit}" if unit else ""
        if flag in ("LL", "HH", "L", "H"):
            key = {"LL": "critical_low", "HH": "critical_high", "L": "low", "H": "high"}[flag]
            limit = self.limits()[key]
            if key.startswith("critical"):
                op = ("<=" if limit.inclusive else "<") if key == "critical_low" else (">=" if limit.inclusive else ">")
            else:
                op = ("<" if limit.inclusive else "<=") if key == "low" else (">" if limit.inclusive else ">=")
            text = f"{flag}: {op} {_number(limit.value)}{unit_text} ({limit.source})"
        else:
            text = f"normal: {self.normal_text(unit)}"
        return f"{text}; {self.note}" if self.note else text

    def normal_text(self, unit: str = "") -> str:
        parts = []
        if self.low_limit is not None:
            parts.append(f"{'>=' if self.low_limit.inclusive else '>'} {_number(self.low_limit.value)}")
        if self.high_limit is not None:
            parts.append(f"{'<=' if self.high_limit.inclusive else '<'} {_number(self.high_limit.value)}")
        text = " and ".join(parts) if parts else "no normal limits"
        return f"{text} {unit}".rstrip()

    def to_dict(self) -> dict[str, object]:
        return {
            "low": self.low, "high": self.high, "critical_low": self.critical_low,
            "critical_high": self.critical_high, "authority": self.authority, "population": self.population,
            "normal": self.normal_text(),
            "limits": {k: {"value": v.value, "inclusive": v.inclusive, "source": v.source}
                       for k, v in self.limits().items()},
            **({"note": self.note} if self.note else {}),
        }


def _below(value: float, limit: float, inclusive: bool) -> bool:
    return value <= limit if inclusive else value < limit


def _above(value: float, limit: float, inclusive: bool) -> bool:
    return value >= limit if inclusive else value > limit


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class BpThresholds:
    stage1_systolic: float
    stage1_diastolic: float
    stage2_systolic: float
    stage2_diastolic: float
    source: str


@dataclass(frozen=True)
class RangeTable:
    adult_age_years: float
    ranges: tuple[ReferenceRange, ...]
    bp: BpThresholds = field(default_factory=lambda: BpThresholds(130, 80, 140, 90, ""))

    def for_patient(self, code: str, sex: str | None, age_years: float | None, *,
                    populations: frozenset[str] = frozenset()) -> ReferenceRange | None:
        """The range for this reading: the patient's sex, their age AT THE READING, and the special
        populations that applied then (``PREGNANCY``, ``SPO2_SCALE2``). None for a child or an unknown code.

        With no age the adult range is used, and its note says so; with no sex, sex-specific ranges are
        combined so that only values abnormal for both sexes are flagged."""
        if age_years is not None and age_years < self.adult_age_years:
            return None
        candidates = [r for r in self.ranges if r.code == code]
        if not candidates:
            return None
        special = [r for r in candidates if r.population in populations]
        pool = special or [r for r in candidates if r.population == ADULT]
        if not pool:
            return None
        wanted = (sex or "").upper()
        chosen = next((r for r in pool if r.sex == wanted), None) or next((r for r in pool if r.sex == "any"), None)
        if chosen is None and wanted not in ("F", "M"):
            chosen = _combine_sexes([r for r in pool if r.sex in ("F", "M")])
        if chosen is not None and age_years is None:
            chosen = replace(chosen, note=_join(chosen.note, "age unknown: adult range used"))
        return chosen

    def bp_limits(self) -> tuple[ReferenceRange | None, ReferenceRange | None]:
        return self.for_patient("8480-6", "any", None), self.for_patient("8462-4", "any", None)


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _combine_sexes(ranges: list[ReferenceRange]) -> ReferenceRange | None:
    """Sex unknown: keep each limit at its least strict value across the sexes (a limit only one sex has
    is dropped), so a flag is right whatever the sex. Criticals that do not depend on sex stay as they are."""
    if not ranges:
        return None

    def loosest(key: str, lowest: bool) -> Limit | None:
        limits = [r.limits().get(key) for r in ranges]
        if any(limit is None for limit in limits):
            return None
        present = [limit for limit in limits if limit is not None]
        return min(present, key=lambda x: x.value) if lowest else max(present, key=lambda x: x.value)

    first = ranges[0]
    return ReferenceRange(
        code=first.code, sex="any", population=first.population,
        low_limit=loosest("low", True), high_limit=loosest("high", False),
        critical_low_limit=loosest("critical_low", True), critical_high_limit=loosest("critical_high", False),
        note="sex unknown: flagged only when abnormal for both sexes",
    )


def _limit(item: dict[str, Any] | None) -> Limit | None:
    if item is None:
        return None
    value = item["value"]
    text = repr(value) if isinstance(value, float) else str(value)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return Limit(value=float(value), inclusive=bool(item["inclusive"]), source=str(item["source"]),
                 decimals=decimals)


def parse_ranges(data: dict[str, Any]) -> RangeTable:
    ranges = tuple(
        ReferenceRange(
            code=item["code"], sex=item["sex"], population=item.get("population", ADULT),
            low_limit=_limit(item.get("low")), high_limit=_limit(item.get("high")),
            critical_low_limit=_limit(item.get("critical_low")),
            critical_high_limit=_limit(item.get("critical_high")),
        )
        for item in data["ranges"]
    )
    bp = data["bp_categories"]
    thresholds = BpThresholds(float(bp["stage1_systolic"]), float(bp["stage1_diastolic"]),
                              float(bp["stage2_systolic"]), float(bp["stage2_diastolic"]), str(bp["source"]))
    return RangeTable(float(data["adult_age_years"]), ranges, thresholds)


@lru_cache(maxsize=1)
def load_ranges() -> RangeTable:
    return parse_ranges(json.loads(resource_path("ranges", "reference_ranges.json").read_text(encoding="utf-8")))


def flag(value: float | None, reference: ReferenceRange | None) -> str | None:
    """N, L, H, LL or HH; None where there is no value or no range to judge it by."""
    if value is None or reference is None:
        return None
    return reference.classify(value)
