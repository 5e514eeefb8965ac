from __future__ import annotations

import pytest

from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.ranges import flag, load_ranges
from desktop.core.clinical.scores import bp_category, news2


@pytest.mark.parametrize(
    ("code", "value", "unit", "expected"),
    [
        ("8310-5", 98.6, "[degF]", 37.0),
        ("8310-5", 100.4, "°F", 38.0),
        ("29463-7", 154.0, "[lb_av]", 69.853),
        ("8302-2", 70.0, "[in_i]", 177.8),
        ("2339-0", 7.0, "mmol/L", 126.1),
        ("38483-4", 88.4, "µmol/L", 1.0),
        ("718-7", 135.0, "g/L", 13.5),
        ("6690-2", 7500.0, "cells/µL", 7.5),
        ("6690-2", 7.5, "10*3/uL", 7.5),
        ("1988-5", 1.2, "mg/dL", 12.0),
        ("4548-4", 48.0, "mmol/mol", 6.5),
        ("2947-0", 140.0, "mEq/L", 140.0),
    ],
)
def test_conversion_to_canonical_unit(code: str, value: float, unit: str, expected: float) -> None:
    m = load_catalog().by_code(code)
    assert m is not None
    assert m.convert(value, unit) == pytest.approx(expected, abs=0.06)


def test_unknown_unit_is_not_converted() -> None:
    glucose = load_catalog().by_code("2339-0")
    assert glucose is not None and glucose.convert(5.0, "furlongs") is None


def test_alternative_codes_and_names_resolve() -> None:
    catalog = load_catalog()
    assert catalog.canonical_code("2160-0") == "38483-4"
    assert catalog.by_name("Systolic BP").code == "8480-6"  # type: ignore[union-attr]
    assert catalog.by_name("Weight (lb)").code == "29463-7"  # type: ignore[union-attr]


def test_creatinine_range_depends_on_sex() -> None:
    ranges = load_ranges()
    woman = ranges.for_patient("38483-4", "F", 40)
    man = ranges.for_patient("38483-4", "M", 40)
    assert woman is not None and man is not None
    assert (woman.low, woman.high) == (0.6, 1.1)
    assert (man.low, man.high) == (0.7, 1.3)
    assert flag(1.2, woman) == "H"
    assert flag(1.2, man) == "N"


def test_children_are_judged_by_their_own_table_never_the_adult_one() -> None:
    ranges = load_ranges()
    child = ranges.for_patient("8867-4", "M", 6)
    assert child is not None and child.population == "child"
    assert flag(110.0, child) == "N"  # adult H (> 100); Fleming 2011, 6-8 years: 99th centile 123
    assert flag(130.0, child) == "H" and "Fleming" in child.rule_for("H") and "aged 6" in child.rule_for("H")


@pytest.mark.parametrize(("value", "expected"), [(35, "LL"), (55, "L"), (80, "N"), (105, "H"), (140, "HH")])
def test_heart_rate_flags(value: float, expected: str) -> None:
    assert flag(value, load_ranges().for_patient("8867-4", None, 50)) == expected


@pytest.mark.parametrize(
    ("sbp", "dbp", "category"),
    [(115, 75, "Normal"), (125, 75, "Elevated"), (135, 75, "Hypertension stage 1"), (118, 85, "Hypertension stage 1"),
     (145, 70, "Hypertension stage 2"), (185, 100, "Hypertensive crisis"), (150, 125, "Hypertensive crisis")],
)
def test_bp_category_takes_the_higher(sbp: float, dbp: float, category: str) -> None:
    assert bp_category(sbp, dbp) == category


def test_news2_complete_score() -> None:
    result = news2({"9279-1": 22, "59408-5": 94, "supplemental-o2": "no", "8480-6": 105, "8867-4": 115,
                    "80288-4": "A", "8310-5": 38.5})
    # RR 21-24 -> 2, SpO2 94-95 -> 1, air -> 0, SBP 101-110 -> 1, pulse 111-130 -> 2, alert -> 0, temp 38.1-39 -> 1
    assert result.score == 7
    assert not result.partial and result.missing == []
    assert result.risk == "high"


def test_news2_missing_inputs_are_not_zero() -> None:
    result = news2({"8480-6": 88, "8867-4": 72})
    assert result.partial
    assert result.score == 3  # only what was measured
    assert set(result.missing) == {"respiratory rate", "SpO2", "supplemental oxygen", "consciousness", "temperature"}
    # A partial sum is a lower bound: the band it reaches is kept as "at least", and the red score named.
    assert result.risk == "low-medium" and result.risk_is_lower_bound
    assert result.risk_text() == "at least low-medium"
    assert result.red_score == ["systolic blood pressure"]


def test_news2_with_nothing_has_no_score() -> None:
    assert news2({}).score is None
