"""The measurements Vitalsight knows (``resources/catalog/measurements.json``): codes, units, plausibility.

Everything here is data: a clinic can add a unit or an alias without touching code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from desktop.core.resources import resource_path


@dataclass(frozen=True)
class Measurement:
    code: str
    name: str
    short: str
    category: str
    unit: str
    #: normalised unit string -> (factor, offset): canonical = value * factor + offset
    units: dict[str, tuple[float, float]] = field(default_factory=dict)
    unit_optional: bool = False
    plausible: tuple[float, float] | None = None
    is_text: bool = False
    codes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def convert(self, value: float, unit: str | None) -> float | None:
        """``value`` in ``unit`` expressed in the canonical unit, or None if the unit is unknown."""
        conversion = self.units.get(normalise_unit(unit))
        if conversion is None:
            return None
        factor, offset = conversion
        return value * factor + offset

    def is_plausible(self, canonical_value: float) -> bool:
        return self.plausible is None or self.plausible[0] <= canonical_value <= self.plausible[1]


_SPACES = re.compile(r"\s+")


def normalise_unit(unit: str | None) -> str:
    """Unit strings compared loosely: case, spaces and the micro sign do not matter."""
    if unit is None:
        return ""
    text = _SPACES.sub("", unit).lower()
    return text.replace("µ", "u").replace("μ", "u")


def normalise_name(name: str | None) -> str:
    """Measurement names from column headers: case, spacing and a trailing unit in brackets ignored."""
    if name is None:
        return ""
    text = re.sub(r"[\(\[][^\)\]]*[\)\]]\s*$", "", name.strip())
    return _SPACES.sub(" ", text).strip().lower()


def _conversion(spec: float | list[float]) -> tuple[float, float]:
    if isinstance(spec, list):
        return float(spec[0]), float(spec[1])
    return float(spec), 0.0


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    data = json.loads(resource_path("catalog", "measurements.json").read_text(encoding="utf-8"))
    measurements = []
    for item in data["measurements"]:
        units = {normalise_unit(k): _conversion(v) for k, v in item.get("units", {}).items()}
        unit_optional = bool(item.get("unit_optional", False))
        if unit_optional:
            units.setdefault("", (1.0, 0.0))
        plausible = item.get("plausible")
        measurements.append(
            Measurement(
                code=item["code"],
                name=item["name"],
                short=item["short"],
                category=item["category"],
                unit=item["unit"],
                units=units,
                unit_optional=unit_optional,
                plausible=(float(plausible[0]), float(plausible[1])) if plausible else None,
                is_text=bool(item.get("text", False)),
                codes=tuple(item.get("codes", [])),
                aliases=tuple(item.get("aliases", [])),
            )
        )
    return Catalog(measurements)


class Catalog:
    """Lookup by LOINC code (including alternative codes) and by the names files use."""

    def __init__(self, measurements: list[Measurement]) -> None:
        self.measurements = measurements
        self._by_code: dict[str, Measurement] = {}
        self._by_name: dict[str, Measurement] = {}
        for m in measurements:
            for code in (m.code, *m.codes):
                self._by_code[code] = m
            for name in (m.name, m.short, *m.aliases):
                self._by_name[normalise_name(name)] = m

    def by_code(self, code: str) -> Measurement | None:
        return self._by_code.get(code)

    def by_name(self, name: str) -> Measurement | None:
        """A measurement from a column header or a long file's measurement column (name or LOINC code)."""
        return self._by_name.get(normalise_name(name)) or self._by_code.get(name.strip())

    def canonical_code(self, code: str) -> str:
        m = self._by_code.get(code)
        return m.code if m else code

    def unit_rows(self) -> list[tuple[str, str, float, float]]:
        """(code, normalised unit, factor, offset) for every accepted unit, for the SQL import path."""
        rows = []
        for m in self.measurements:
            for unit, (factor, offset) in m.units.items():
                rows.append((m.code, unit, factor, offset))
        return rows

    def code_alias_rows(self) -> list[tuple[str, str]]:
        """(code as written, canonical code) so that e.g. 2160-0 creatinine joins 38483-4."""
        return [(alias, m.code) for m in self.measurements for alias in (m.code, *m.codes)]
