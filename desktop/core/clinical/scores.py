"""Early-warning and classification scores: NEWS2 (RCP 2017) and the ACC/AHA 2017 BP category.

A missing NEWS2 input is never scored as 0: the result is marked partial and names what was missing. A
partial sum is still a lower bound of the full score, so its risk band is kept as "at least ...", and a
single parameter scoring 3 (the RCP's "red score") is named whether or not the score is complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.clinical.ranges import load_ranges

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


def _resp_rate(v: float) -> int:
    if v <= 8:
        return 3
    if v <= 11:
        return 1
    if v <= 20:
        return 0
    if v <= 24:
        return 2
    return 3


def _spo2_scale1(v: float) -> int:
    if v <= 91:
        return 3
    if v <= 93:
        return 2
    if v <= 95:
        return 1
    return 0


def _systolic(v: float) -> int:
    if v <= 90:
        return 3
    if v <= 100:
        return 2
    if v <= 110:
        return 1
    if v <= 219:
        return 0
    return 3


def _pulse(v: float) -> int:
    if v <= 40:
        return 3
    if v <= 50:
        return 1
    if v <= 90:
        return 0
    if v <= 110:
        return 1
    if v <= 130:
        return 2
    return 3


def _temperature(v: float) -> int:
    if v <= 35.0:
        return 3
    if v <= 36.0:
        return 1
    if v <= 38.0:
        return 0
    if v <= 39.0:
        return 1
    return 2


def _spo2_scale2(v: float, on_oxygen: bool | None) -> int:
    """RCP NEWS2 Chart 1, SpO2 scale 2 (target 88-92%): at 93% and above only oxygen scores. Without a
    recorded oxygen status, readings of 93% and above score 0 (the lower bound)."""
    if v <= 83:
        return 3
    if v <= 85:
        return 2
    if v <= 87:
        return 1
    if v <= 92 or not on_oxygen:
        return 0
    if v <= 94:
        return 1
    if v <= 96:
        return 2
    return 3


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


def bp_category(systolic: float | None, diastolic: float | None, *, pregnant: bool = False) -> str | None:
    """ACC/AHA 2017 category of one adult reading; where SBP and DBP disagree the higher category wins.

    Normal and crisis come from the same limits as the SBP/DBP flags (``reference_ranges.json``), so a
    reading flagged N is always "Normal" and one flagged HH always a crisis. The ACC/AHA categories are
    not for pregnancy: then None (the pregnancy ranges flag the readings instead)."""
    if systolic is None or diastolic is None or pregnant:
        return None
    table = load_ranges()
    sbp, dbp = table.bp_limits()
    if sbp is None or dbp is None:
        return None
    t = table.bp
    if sbp.classify(systolic) == "HH" or dbp.classify(diastolic) == "HH":
        return "Hypertensive crisis"
    if systolic >= t.stage2_systolic or diastolic >= t.stage2_diastolic:
        return "Hypertension stage 2"
    if systolic >= t.stage1_systolic or diastolic >= t.stage1_diastolic:
        return "Hypertension stage 1"
    if sbp.classify(systolic) == "H":
        return "Elevated"
    return "Normal"
