"""Early-warning and classification scores: NEWS2 (RCP 2017) and the ACC/AHA 2017 BP category.

A missing NEWS2 input is never scored as 0: the result is marked partial and names what was missing. A
partial sum is still a lower bound of the full score, so its risk band is kept as "at least ...", and a
single parameter scoring 3 (the RCP's "red score") is named whether or not the score is complete.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from desktop.core.clinical.ranges import exact, load_ranges

# LOINC codes of the inputs (consciousness and supplemental oxygen use the catalog's codes).
RESP_RATE, SPO2, SYSTOLIC, DIASTOLIC, PULSE, TEMPERATURE = "9279-1", "59408-5", "8480-6", "8462-4", "8867-4", "8310-5"
CONSCIOUSNESS, SUPPLEMENTAL_O2 = "80288-4", "supplemental-o2"

NEWS2_INPUTS: dict[str, str] = {
    RESP_RATE: "respiratory rate",
    SPO2: "SpO2",
    SUPPLEMENTAL_O2: "supplemental oxygen",
    SYSTOLIC: "systolic blood pressure",
    PULSE: "pulse",
    CONSCIOUSNESS: "consciousness",
    TEMPERATURE: "temperature",
}


# RCP NEWS2 Chart 1 as written: (points, lowest, highest) per band, inclusive. The chart is for whole
# numbers; a value between two written bands (respiratory rate 20.3, temperature 36.05) is never put in the
# 0 band and, between two scoring bands, takes the smaller score. So the 0 band is exactly the flags' normal
# range where both come from NEWS2 (12-20 /min, SpO2 >= 96 %), and 3 points exactly their critical limits
# (<= 8 or >= 25 /min, pulse <= 40 or >= 131, SpO2 <= 91, temperature <= 35.0): NEWS2 and the flags agree.
Band = tuple[int, float | None, float | None]
RESP_RATE_BANDS: tuple[Band, ...] = ((3, None, 8), (1, 9, 11), (0, 12, 20), (2, 21, 24), (3, 25, None))
SPO2_SCALE1_BANDS: tuple[Band, ...] = ((3, None, 91), (2, 92, 93), (1, 94, 95), (0, 96, None))
SYSTOLIC_BANDS: tuple[Band, ...] = ((3, None, 90), (2, 91, 100), (1, 101, 110), (0, 111, 219), (3, 220, None))
PULSE_BANDS: tuple[Band, ...] = ((3, None, 40), (1, 41, 50), (0, 51, 90), (1, 91, 110), (2, 111, 130), (3, 131, None))
TEMPERATURE_BANDS: tuple[Band, ...] = ((3, None, 35.0), (1, 35.1, 36.0), (0, 36.1, 38.0), (1, 38.1, 39.0),
                                       (2, 39.1, None))
_SCALE2_LOW: tuple[Band, ...] = ((3, None, 83), (2, 84, 85), (1, 86, 87))


def band_points(value: float, bands: tuple[Band, ...]) -> int:
    v = exact(value)
    for points, low, high in bands:
        if (low is None or v >= low) and (high is None or v <= high):
            return points
    for (p_below, _, high), (p_above, low, _) in itertools.pairwise(bands):
        if high is not None and low is not None and high < v < low:
            return p_above if p_below == 0 else p_below if p_above == 0 else min(p_below, p_above)
    raise ValueError(f"no NEWS2 band for {value}")  # pragma: no cover - the bands cover every number


def _resp_rate(v: float) -> int:
    return band_points(v, RESP_RATE_BANDS)


def _spo2_scale1(v: float) -> int:
    return band_points(v, SPO2_SCALE1_BANDS)


def _systolic(v: float) -> int:
    return band_points(v, SYSTOLIC_BANDS)


def _pulse(v: float) -> int:
    return band_points(v, PULSE_BANDS)


def _temperature(v: float) -> int:
    return band_points(v, TEMPERATURE_BANDS)


def _spo2_scale2(v: float, on_oxygen: bool | None) -> int:
    """RCP NEWS2 Chart 1, SpO2 scale 2 (target 88-92%): at 93% and above only oxygen scores. Without a
    recorded oxygen status, readings of 93% and above score 0 (the lower bound)."""
    if on_oxygen:
        return band_points(v, (*_SCALE2_LOW, (0, 88, 92), (1, 93, 94), (2, 95, 96), (3, 97, None)))
    return band_points(v, (*_SCALE2_LOW, (0, 88, None)))


def _number(raw: float | str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def _on_oxygen(text: str) -> bool | None:
    t = text.strip().lower()
    if t in {"yes", "y", "true", "1", "oxygen", "o2", "on oxygen"}:
        return True
    if t in {"no", "n", "false", "0", "air", "room air"}:
        return False
    return None


def _consciousness(text: str) -> int | None:
    t = text.strip().upper()
    if t in {"A", "ALERT"}:
        return 0
    if t in {"C", "V", "P", "U", "CONFUSION", "NEW CONFUSION", "VOICE", "PAIN", "UNRESPONSIVE"}:
        return 3
    return None


@dataclass
class News2:
    score: int | None  # sum of the inputs that were present; None when none were
    partial: bool
    missing: list[str]
    components: dict[str, int] = field(default_factory=dict)
    # "low", "low-medium", "medium", "high"; for a partial score the band of the partial sum, which the full
    # score can only meet or exceed (``risk_is_lower_bound``).
    risk: str | None = None
    risk_is_lower_bound: bool = False
    red_score: list[str] = field(default_factory=list)  # inputs scoring 3 on their own (RCP "red score")
    scale: str = "SpO2 scale 1"

    def risk_text(self) -> str | None:
        if self.risk is None:
            return None
        return f"at least {self.risk}" if self.risk_is_lower_bound and self.risk != "high" else self.risk

    def to_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "partial": self.partial,
            "missing": self.missing,
            "components": self.components,
            "risk": self.risk,
            "risk_is_lower_bound": self.risk_is_lower_bound,
            "risk_text": self.risk_text(),
            "red_score": self.red_score,
            "scale": self.scale,
        }


def _risk(score: int, components: dict[str, int]) -> str:
    """RCP Chart 2: 7+ high, 5-6 medium, a single 3 low-medium, else low."""
    if score >= 7:
        return "high"
    if score >= 5:
        return "medium"
    if any(p == 3 for p in components.values()):
        return "low-medium"
    return "low"


def news2(values: dict[str, float | str], *, scale2: bool = False) -> News2:
    """NEWS2 of one observation set (numeric in canonical units; text for ACVPU and O2).

    ``scale2`` scores SpO2 on scale 2: for documented hypercapnic respiratory failure, a clinician's call
    recorded per patient (``desktop/core/clinical/patient_settings.py``).
    """
    on_oxygen = _on_oxygen(str(values[SUPPLEMENTAL_O2])) if values.get(SUPPLEMENTAL_O2) is not None else None
    scorers = {RESP_RATE: _resp_rate, SYSTOLIC: _systolic, PULSE: _pulse, TEMPERATURE: _temperature,
               SPO2: (lambda v: _spo2_scale2(v, on_oxygen)) if scale2 else _spo2_scale1}
    components: dict[str, int] = {}
    missing: list[str] = []
    for code, label in NEWS2_INPUTS.items():
        raw = values.get(code)
        points: int | None = None
        if raw is not None:
            if code in scorers:
                number = _number(raw)
                # A text answer where a number belongs ("patient refused") is not a reading of the input.
                points = None if number is None else scorers[code](number)
            elif code == SUPPLEMENTAL_O2:
                points = None if on_oxygen is None else (2 if on_oxygen else 0)
            elif code == CONSCIOUSNESS:
                points = _consciousness(str(raw))
        if points is None:
            missing.append(label)
        else:
            components[label] = points
    scale = "SpO2 scale 2" if scale2 else "SpO2 scale 1"
    if not components:
        return News2(score=None, partial=True, missing=missing, components={}, scale=scale)
    score = sum(components.values())
    partial = bool(missing)
    return News2(score=score, partial=partial, missing=missing, components=components,
                 risk=_risk(score, components), risk_is_lower_bound=partial,
                 red_score=[label for label, p in components.items() if p == 3], scale=scale)


BP_CATEGORIES = ("Normal", "Elevated", "Hypertension stage 1", "Hypertension stage 2", "Hypertensive crisis")


LOW_BP = "Low (below the healthy range; ACC/AHA 2017 grades only raised pressure)"
VERY_LOW_BP = "Very low (at or past the critical low limit; ACC/AHA 2017 grades only raised pressure)"


def bp_category(systolic: float | None, diastolic: float | None, *, pregnant: bool = False,
                age: float | None = None, sex: str | None = None) -> str | None:
    """The category of one reading; where SBP and DBP disagree the higher category wins.

    Adults and, from 13, adolescents: ACC/AHA 2017 (AAP 2017 uses the same adult-style thresholds from 13).
    Normal and crisis come from the same limits as the SBP/DBP flags (``reference_ranges.json``), so a
    reading flagged N is always "Normal" and one flagged HH always a crisis. Ages 1-12: AAP 2017 from its
    simplified screening table (see ``children.py``); under 1: None. Pregnancy: None (the pregnancy ranges
    flag the readings instead)."""
    if systolic is None or diastolic is None or pregnant:
        return None
    table = load_ranges()
    children = table.children
    if age is not None and children is not None and age < children.bp.adult_style_from:
        sbp_child, dbp_child = table.for_patient(SYSTOLIC, sex, age), table.for_patient(DIASTOLIC, sex, age)
        if sbp_child is None or dbp_child is None or sbp_child.high is None or dbp_child.high is None:
            return None
        return children.bp_category(exact(systolic), exact(diastolic), (sbp_child.high, dbp_child.high))
    sbp, dbp = table.bp_limits()
    if sbp is None or dbp is None:
        return None
    t = table.bp
    systolic, diastolic = exact(systolic), exact(diastolic)
    if sbp.classify(systolic) == "HH" or dbp.classify(diastolic) == "HH":
        return "Hypertensive crisis"
    if systolic >= t.stage2_systolic or diastolic >= t.stage2_diastolic:
        return "Hypertension stage 2"
    if systolic >= t.stage1_systolic or diastolic >= t.stage1_diastolic:
        return "Hypertension stage 1"
    if sbp.classify(systolic) == "H":
        return "Elevated"
    # ACC/AHA 2017 grades raised pressure only: 69/45 is not "Normal" beside its LL flag.
    if sbp.classify(systolic) == "LL" or dbp.classify(diastolic) == "LL":
        return VERY_LOW_BP
    if sbp.classify(systolic) == "L" or dbp.classify(diastolic) == "L":
        return LOW_BP
    return "Normal"
