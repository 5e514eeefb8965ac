"""Reference ranges as data (``resources/ranges/reference_ranges.json``, children's tables in
``children_ranges.json``) and the flags they give.

Flags follow HL7 v2 Table 0078: N, L, H and the critical LL, HH. Every limit says whether a value equal to
it is inside (``inclusive``) and which authority it comes from, so that a flag can always be explained
("H: > 1.3 mg/dL, MedlinePlus"). A limit is applied to the value as stored, at full precision: 5.9 is below
">= 6" and 1.346 is above "<= 1.3", so the rule shown beside a value and its flag never disagree. Only the
noise of a unit conversion is ignored (values are compared at 10 significant digits, so 100.4 °F is 38.0 °C
and not 38.00000000000001). Adult ranges apply from ``adult_age_years``; a child's reading is judged by the
children's table for its age and sex when there is one (and says which), otherwise it gets no flag (None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop.core.resources import resource_path

if TYPE_CHECKING:
    from desktop.core.clinical.children import ChildTables

ADULT, PREGNANCY, SPO2_SCALE2, CHILD = "adult", "pregnancy", "spo2_scale2", "child"

_SIGNIFICANT = 10  # digits kept when comparing with a limit: unit-conversion noise only, never a clinical digit


def exact_array(values: np.ndarray) -> np.ndarray:
    """Values as compared with limits: full precision, less the float noise of a unit conversion (kept to
    ``_SIGNIFICANT`` significant digits). One function for single values and plots, so both agree."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(v)))
    scale = np.where(np.isfinite(magnitude), 10.0 ** (_SIGNIFICANT - 1 - magnitude), 1.0)
    return np.where(v == 0, v, np.rint(v * scale) / scale)


def exact(value: float) -> float:
    """The stored value as compared with limits (see :func:`exact_array`)."""
    return float(exact_array(np.array([float(value)]))[0])


@dataclass(frozen=True)
class Limit:
    """One limit. For ``low``/``high`` an inclusive limit is itself normal; for the critical limits an
    inclusive limit is itself critical. ``decimals`` is the precision the authority wrote it in (used only
    to show a value with enough digits to see which side of the limit it is on)."""

    value: float
    inclusive: bool
    source: str
    decimals: int = 0


@dataclass(frozen=True)
class Threshold:
    """A named threshold that is not a limit of the normal range (ADA's random glucose >= 200 mg/dL with
    symptoms, CDC's obese BMI percentile >= 95): reported beside the flag when a value meets it."""

    name: str
    value: float
    source: str
    at_or_above: bool = True

    def met_by(self, value: float) -> bool:
        v = exact(value)
        return v >= self.value if self.at_or_above else v < self.value

    def text(self, unit: str = "") -> str:
        op = ">=" if self.at_or_above else "<"
        return f"{self.name}: {op} {_number(self.value)}{' ' + unit if unit else ''} ({self.source})"


@dataclass(frozen=True)
class ReferenceRange:
    code: str
    sex: str  # "any", "F" or "M"
    population: str = ADULT
    low_limit: Limit | None = None
    high_limit: Limit | None = None
    critical_low_limit: Limit | None = None
    critical_high_limit: Limit | None = None
    note: str = ""  # why this range was chosen, when not obvious (sex unknown, age unknown, a child's table)
    age_from: float | None = None  # children's tables: the ages (years, at the reading) the row covers
    age_to: float | None = None
    thresholds: tuple[Threshold, ...] = ()

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
        v = exact(value)
        if cl is not None and _below(v, cl.value, cl.inclusive):
            return "LL"
        if ch is not None and _above(v, ch.value, ch.inclusive):
            return "HH"
        if lo is not None and _below(v, lo.value, not lo.inclusive):
            return "L"
        if hi is not None and _above(v, hi.value, not hi.inclusive):
            return "H"
        return "N"

    def classify_array(self, values: np.ndarray) -> np.ndarray:
        """The same rules as :meth:`classify`, vectorised for plots: '' where normal, else the flag."""
        out = np.full(values.shape, "", dtype="<U2")
        exact_values = exact_array(values)
        # Later assignments win, so criticals are written last (as in classify, they take precedence).
        steps = ((self.high_limit, "H", "high"), (self.low_limit, "L", "low"),
                 (self.critical_high_limit, "HH", "critical_high"), (self.critical_low_limit, "LL", "critical_low"))
        for limit, name, key in steps:
            if limit is None:
                continue
            v = exact_values
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

    def thresholds_met(self, value: float | None) -> list[Threshold]:
        return [] if value is None else [t for t in self.thresholds if t.met_by(value)]

    def value_text(self, value: float) -> str:
        """The value with enough digits to see which side of each limit it is on: creatinine 1.3009 beside
        '<= 1.3' reads '1.301', never '1.3' (a rounded figure that would contradict its flag)."""
        base = 0 if abs(value) >= 100 else 2
        text = f"{value:.{base}f}"
        for digits in range(base, base + 7):
            text = f"{value:.{digits}f}"
            if all(self._same_side(float(text), value, limit.value) for limit in self.limits().values()):
                break
        return text.rstrip("0").rstrip(".") if "." in text else text

    @staticmethod
    def _same_side(shown: float, value: float, limit: float) -> bool:
        v = exact(value)
        return (shown < limit) == (v < limit) and (shown > limit) == (v > limit)

    def rule_for(self, flag: str | None, unit: str = "", value: float | None = None) -> str:
        """The limit behind a flag in words, with its authority: 'H: >= 130 mg/dL (NCEP ATP III ...)'; with a
        value, any named threshold it meets (ADA's 200 mg/dL) is added."""
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
        for threshold in self.thresholds_met(value):
            text += f"; meets {threshold.text(unit)}"
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
            **({"thresholds": [{"name": t.name, "value": t.value, "at_or_above": t.at_or_above, "source": t.source}
                               for t in self.thresholds]} if self.thresholds else {}),
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


def age_words(age: float) -> str:
    """'aged 7', 'aged 5 months' (ages under 2 in months: the children's tables change by the month)."""
    return f"aged {round(age * 12)} months" if age < 2 else f"aged {int(age)}"


@dataclass(frozen=True)
class RangeTable:
    adult_age_years: float
    ranges: tuple[ReferenceRange, ...]
    bp: BpThresholds = field(default_factory=lambda: BpThresholds(130, 80, 140, 90, ""))
    children: ChildTables | None = None

    def for_patient(self, code: str, sex: str | None, age_years: float | None, *,
                    populations: frozenset[str] = frozenset()) -> ReferenceRange | None:
        """The range for this reading: the patient's sex, their age AT THE READING (years, months as a
        fraction), and the special populations that applied then (``PREGNANCY``, ``SPO2_SCALE2``).

        A child's reading is judged by the children's table for that age when there is one (its note names
        the table and the age); None when there is none (see :meth:`no_range_reason`). With no age the adult
        range is used, and its note says so; with no sex, sex-specific ranges are combined so that only
        values abnormal for both sexes are flagged."""
        candidates = [r for r in self.ranges if r.code == code]
        special = [r for r in candidates if r.population in populations]
        if age_years is not None and age_years < self.adult_age_years:
            style = self._adult_style_from(code)
            if PREGNANCY in populations and special:
                pass  # ACOG's pregnancy thresholds cover pregnant adolescents too
            elif style is not None and age_years >= style[0]:
                adult = self._adult(candidates, [], sex, age_years)
                return None if adult is None else replace(adult, note=_join(adult.note, f"{age_words(age_years)}: {style[1]}"))
            else:
                return self._child(code, sex, age_years)
        if not candidates:
            return None if age_years is None else self._child(code, sex, age_years)
        return self._adult(candidates, special, sex, age_years)

    def _adult(self, candidates: list[ReferenceRange], special: list[ReferenceRange], sex: str | None,
               age_years: float | None) -> ReferenceRange | None:
        pool = special or [r for r in candidates if r.population == ADULT]
        chosen = _by_sex(pool, sex)
        if chosen is not None and age_years is None:
            chosen = replace(chosen, note=_join(chosen.note, "age unknown: adult range used"))
        return chosen

    def _adult_style_from(self, code: str) -> tuple[float, str] | None:
        if self.children is None or code not in ("8480-6", "8462-4"):
            return None
        return self.children.bp.adult_style_from, self.children.bp.adult_style_note

    def _child(self, code: str, sex: str | None, age: float) -> ReferenceRange | None:
        if self.children is None:
            return None
        rows = [r for r in self.children.ranges if r.code == code and r.age_from is not None and r.age_to is not None
                and r.age_from <= age < r.age_to]
        chosen = _by_sex(rows, sex)
        if chosen is None:
            return None
        # A combined range (sex unknown) names the table and says how the sexes were combined.
        table = chosen.note if chosen in rows else f"{rows[0].note.split(',')[0]}; {chosen.note}"
        return replace(chosen, note=f"{age_words(age)} at the reading: {table}")

    def no_range_reason(self, code: str, age: float | None) -> str:
        """Why a reading has no range, in words (an infant's BP, a code with no range at all)."""
        if age is not None and age < self.adult_age_years and self.children is not None:
            return f"not flagged: {age_words(age)} at the reading; " + self.children.no_range_reason(
                code, age, self.adult_age_years)
        if age is not None and age < self.adult_age_years:
            return f"not flagged: {age_words(age)} at the reading; adult ranges apply from {self.adult_age_years:g}"
        return "no reference range for this measurement"

    def bp_limits(self) -> tuple[ReferenceRange | None, ReferenceRange | None]:
        return self.for_patient("8480-6", "any", None), self.for_patient("8462-4", "any", None)


def _by_sex(pool: list[ReferenceRange], sex: str | None) -> ReferenceRange | None:
    wanted = (sex or "").upper()
    chosen = next((r for r in pool if r.sex == wanted), None) or next((r for r in pool if r.sex == "any"), None)
    if chosen is None and wanted not in ("F", "M"):
        chosen = _combine_sexes([r for r in pool if r.sex in ("F", "M")])
    return chosen


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
        code=first.code, sex="any", population=first.population, age_from=first.age_from, age_to=first.age_to,
        thresholds=first.thresholds,
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


def parse_ranges(data: dict[str, Any], children: dict[str, Any] | None = None) -> RangeTable:
    ranges = tuple(
        ReferenceRange(
            code=item["code"], sex=item["sex"], population=item.get("population", ADULT),
            low_limit=_limit(item.get("low")), high_limit=_limit(item.get("high")),
            critical_low_limit=_limit(item.get("critical_low")),
            critical_high_limit=_limit(item.get("critical_high")),
            thresholds=tuple(Threshold(t["name"], float(t["value"]), t["source"], bool(t.get("at_or_above", True)))
                             for t in item.get("thresholds", [])),
        )
        for item in data["ranges"]
    )
    bp = data["bp_categories"]
    thresholds = BpThresholds(float(bp["stage1_systolic"]), float(bp["stage1_diastolic"]),
                              float(bp["stage2_systolic"]), float(bp["stage2_diastolic"]), str(bp["source"]))
    child_tables = None
    if children is not None:
        from desktop.core.clinical.children import parse_children  # children.py builds on this module

        child_tables = parse_children(children)
    return RangeTable(float(data["adult_age_years"]), ranges, thresholds, child_tables)


@lru_cache(maxsize=1)
def load_ranges() -> RangeTable:
    def read(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(resource_path("ranges", name).read_text(encoding="utf-8"))
        return data
    return parse_ranges(read("reference_ranges.json"), read("children_ranges.json"))


def flag(value: float | None, reference: ReferenceRange | None) -> str | None:
    """N, L, H, LL or HH; None where there is no value or no range to judge it by."""
    if value is None or reference is None:
        return None
    return reference.classify(value)
