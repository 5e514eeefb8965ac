"""Units a clinician chooses to read (°C or °F, kg or lb); the workspace always stores canonical units.

Conversion happens only at display time, so a setting change never touches stored data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TEMPERATURE, WEIGHT = "8310-5", "29463-7"

# canonical unit -> display: shown = stored * factor + offset
_CONVERSIONS: dict[tuple[str, str], tuple[float, float, str]] = {
    (TEMPERATURE, "F"): (9.0 / 5.0, 32.0, "°F"),
    (TEMPERATURE, "C"): (1.0, 0.0, "°C"),
    (WEIGHT, "lb"): (1.0 / 0.45359237, 0.0, "lb"),
    (WEIGHT, "kg"): (1.0, 0.0, "kg"),
}

# Canonical UCUM units as a clinician writes them.
_PRETTY = {"Cel": "°C", "mm[Hg]": "mmHg", "/min": "/min", "10*3/uL": "×10³/µL", "mL/min/{1.73_m2}": "mL/min/1.73m²",
           "kg/m2": "kg/m²", "{score}": "score"}


@dataclass(frozen=True)
class DisplayUnits:
    temperature: str = "C"  # "C" or "F"
    weight: str = "kg"  # "kg" or "lb"

    def conversion(self, code: str, unit: str) -> tuple[float, float, str]:
        """(factor, offset, label) taking a stored value of ``code`` to what the clinician reads."""
        choice = {TEMPERATURE: self.temperature, WEIGHT: self.weight}.get(code)
        if choice is not None and (code, choice) in _CONVERSIONS:
            return _CONVERSIONS[(code, choice)]
        return 1.0, 0.0, pretty_unit(unit)

    def value(self, code: str, unit: str, value: float | None) -> float | None:
        if value is None:
            return None
        factor, offset, _ = self.conversion(code, unit)
        return value * factor + offset

    def label(self, code: str, unit: str) -> str:
        return self.conversion(code, unit)[2]


def pretty_unit(unit: str | None) -> str:
    if not unit:
        return ""
    return _PRETTY.get(unit, unit)


def format_value(value: float | None) -> str:
    """Enough digits to read a lab value, no trailing noise (5.0 -> 5, 1.234 -> 1.23)."""
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def normal_range_text(ref: dict[str, Any], convert: Callable[[float], float | None]) -> str:
    """'≥ 90 and < 120', in display units, with the inclusive/exclusive rule of each limit."""
    limits = ref.get("limits") or {}
    parts = []
    if "low" in limits:
        parts.append(f"{'≥' if limits['low']['inclusive'] else '>'} {format_value(convert(limits['low']['value']))}")
    if "high" in limits:
        parts.append(f"{'≤' if limits['high']['inclusive'] else '<'} {format_value(convert(limits['high']['value']))}")
    return " and ".join(parts)
