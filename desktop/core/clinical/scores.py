"""Early-warning and classification scores: NEWS2 (RCP 2017) and the ACC/AHA 2017 BP category.

A missing NEWS2 input is never scored as 0: the result is marked partial and names what was missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# LOINC codes of the inputs (consciousness and supplemental oxygen use the catalog's codes).
RESP_RATE, SPO2, SYSTOLIC, DIASTOLIC, PULSE, TEMPERATURE = "9279-1", "2708-6", "8480-6", "8462-4", "8867-4", "8310-5"
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
    risk: str | None = None  # "low", "low-medium", "medium", "high" (only for a complete score)
    scale: str = "SpO2 scale 1"

    def to_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "partial": self.partial,
            "missing": self.missing,
            "components": self.components,
            "risk": self.risk,
            "scale": self.scale,
        }


def news2(values: dict[str, float | str]) -> News2:
    """NEWS2 from the latest value of each input (numeric in canonical units; text for ACVPU and O2).

    Uses SpO2 scale 1: scale 2 is for documented hypercapnic respiratory failure, a clinician's call.
    """
    scorers = {RESP_RATE: _resp_rate, SPO2: _spo2_scale1, SYSTOLIC: _systolic, PULSE: _pulse, TEMPERATURE: _temperature}
    components: dict[str, int] = {}
    missing: list[str] = []
    for code, label in NEWS2_INPUTS.items():
        raw = values.get(code)
        points: int | None = None
        if raw is not None:
            if code in scorers:
                points = scorers[code](float(raw))
            elif code == SUPPLEMENTAL_O2:
                on = _on_oxygen(str(raw))
                points = None if on is None else (2 if on else 0)
            elif code == CONSCIOUSNESS:
                points = _consciousness(str(raw))
        if points is None:
            missing.append(label)
        else:
            components[label] = points
    if not components:
        return News2(score=None, partial=True, missing=missing, components={})
    score = sum(components.values())
    partial = bool(missing)
    risk = None
    if not partial:
        if score >= 7:
            risk = "high"
        elif score >= 5:
            risk = "medium"
        elif any(p == 3 for p in components.values()):
            risk = "low-medium"
        else:
            risk = "low"
    return News2(score=score, partial=partial, missing=missing, components=components, risk=risk)


BP_CATEGORIES = ("Normal", "Elevated", "Hypertension stage 1", "Hypertension stage 2", "Hypertensive crisis")


def bp_category(systolic: float | None, diastolic: float | None) -> str | None:
    """ACC/AHA 2017 category of one reading; where SBP and DBP disagree the higher category wins."""
    if systolic is None or diastolic is None:
        return None
    if systolic > 180 or diastolic > 120:
        return "Hypertensive crisis"
    if systolic >= 140 or diastolic >= 90:
        return "Hypertension stage 2"
    if systolic >= 130 or diastolic >= 80:
        return "Hypertension stage 1"
    if systolic >= 120:
        return "Elevated"
    return "Normal"
