"""Issue 20: the last clinical edges (precision, pregnancy, same-time readings, children, random glucose,
flag wording). Patients are written into a real DuckDB workspace; each test failed on the code before."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from desktop.core.clinical.flag_words import FLAG_WORDS, describe_flag
from desktop.core.clinical.ranges import flag, load_ranges
from desktop.core.clinical.scores import (
    PULSE_BANDS,
    RESP_RATE_BANDS,
    SPO2_SCALE1_BANDS,
    TEMPERATURE_BANDS,
    band_points,
    bp_category,
    news2,
)
from desktop.core.queries.series import patient_series
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store
from tests.core.test_clinical_findings import add_patient, condition, latest, observe

SBP, DBP, HR, RR, TEMP, SPO2 = "8480-6", "8462-4", "8867-4", "9279-1", "8310-5", "59408-5"


# Precision: limits applied to the value as stored; the rule shown and the flag never disagree.
@pytest.mark.parametrize(("code", "sex", "value", "expected"), [
    ("6299-2", "F", 5.9, "L"),       # BUN: normal >= 6
    ("38483-4", "M", 1.346, "H"),    # creatinine 119 umol/L in a man: normal <= 1.3
    ("20565-8", "F", 22.5, "L"),     # CO2: >= 23
    ("2069-3", "F", 106.1, "H"),     # chloride: <= 106
    ("2339-0", "F", 69.5, "L"),      # glucose: >= 70
    ("33914-3", "F", 59.9, "L"),     # eGFR: >= 60
    ("9279-1", "F", 20.3, "H"),      # respiratory rate: 12-20 (NEWS2 scores it 2)
])
def test_limits_apply_to_the_stored_value_at_full_precision(code: str, sex: str, value: float, expected: str) -> None:
    reference = load_ranges().for_patient(code, sex, 40)
    assert flag(value, reference) == expected
    shown = float(reference.value_text(value))
    assert flag(shown, reference) == expected  # the figure shown beside the rule is on the same side


def test_unit_conversion_noise_is_not_precision() -> None:
    temp = load_ranges().for_patient(TEMP, "F", 40)
    assert flag(100.4 * 0.5555555555555556 - 17.77777777777778, temp) == "H"  # 100.4 F is 38.0 C: CDC fever


def test_plots_and_summary_flag_the_same_way(store: Store) -> None:
    pid = add_patient(store, "bun", sex="M")
    observe(store, pid, "2024-05-01 08:00", "6299-2", 5.9, "mg/dL")
    observe(store, pid, "2024-05-01 08:00", "38483-4", 115 / 88.4, "mg/dL")  # 115 umol/L = 1.3009 mg/dL
    summary = patient_summary(store, pid)
    assert latest(summary, "6299-2")["flag"] == "L" and latest(summary, "6299-2")["rule"].startswith("L: < 6")
    assert latest(summary, "38483-4")["value_text"] == "1.301"  # never "1.3" beside "H: > 1.3"
    series = {s.code: s for s in patient_series(store, pid)}
    assert list(series["6299-2"].flags()) == ["L"] and list(series["38483-4"].flags()) == ["H"]


@pytest.mark.parametrize(("bands", "code", "sex"), [
    (RESP_RATE_BANDS, RR, "F"), (SPO2_SCALE1_BANDS, SPO2, "F"), (TEMPERATURE_BANDS, TEMP, "F"), (PULSE_BANDS, HR, "F"),
])
def test_news2_and_flags_agree_on_the_same_reading(bands: tuple, code: str, sex: str) -> None:
    reference = load_ranges().for_patient(code, sex, 40)
    for value in np.arange(5, 200, 0.05) if code in (HR, SPO2) else np.arange(5, 45, 0.05):
        value = round(float(value), 2)
        points, f = band_points(value, bands), flag(value, reference)
        assert (points == 3) == (f in ("LL", "HH")), (code, value, points, f)
        if code in (RR, SPO2):  # where NEWS2 is the flags' authority, 0 points is exactly "normal"
            assert (points == 0) == (f == "N"), (code, value, points, f)
    assert news2({RR: 20.3}).components["respiratory rate"] == 2


# Pregnancy: active only while ongoing, and the rule that decided is said.
def test_a_tubal_pregnancy_without_a_stop_never_makes_her_pregnant(store: Store) -> None:
    pid = add_patient(store, "tubal", birth=date(1949, 5, 5))
    condition(store, pid, "Tubal pregnancy", "1987-03-02")
    condition(store, pid, "Essential hypertension", "1990-01-01")
    for code, value in ((SBP, 139), (DBP, 72), (RR, 26)):
        observe(store, pid, "1999-06-01 09:00", code, value)
    summary = patient_summary(store, pid)
    assert summary["bp_category"] == "Hypertension stage 1"
    assert latest(summary, SBP)["flag"] == "H" and latest(summary, SBP)["reference"]["population"] == "adult"
    assert summary["news2"]["score"] == 3  # not withheld as "not for pregnancy"
    assert "not an ongoing pregnancy" in summary["patient"]["pregnancy"]


@pytest.mark.parametrize("description", ["Ectopic pregnancy", "Molar pregnancy", "Miscarriage in first trimester"])
def test_ectopic_molar_and_miscarriage_are_not_ongoing(store: Store, description: str) -> None:
    pid = add_patient(store, "p", birth=date(1990, 1, 1))
    condition(store, pid, description, "2024-03-01")
    observe(store, pid, "2024-04-01 09:00", SBP, 135)
    assert latest(patient_summary(store, pid), SBP)["reference"]["population"] == "adult"


def test_a_pregnancy_without_a_stop_date_ends_after_42_weeks(store: Store) -> None:
    pid = add_patient(store, "long", birth=date(1990, 1, 1))
    condition(store, pid, "Normal pregnancy", "2023-01-10")
    observe(store, pid, "2023-06-01 09:00", SBP, 135)   # week 20: pregnant, ACOG < 140 is normal
    observe(store, pid, "2024-06-01 09:00", SBP, 135)   # long past 42 weeks: ordinary ranges
    series = next(s for s in patient_series(store, pid) if s.code == SBP)
    assert list(series.flags()) == ["", "H"]
    assert "42 weeks" in series.describe_point(0, "", "mmHg")
    summary = patient_summary(store, pid)
    assert not summary["patient"]["pregnant"] and "42 weeks" in summary["patient"]["pregnancy"]


def test_a_miscarriage_ends_an_open_pregnancy(store: Store) -> None:
    pid = add_patient(store, "ended", birth=date(1990, 1, 1))
    condition(store, pid, "Normal pregnancy", "2023-01-10")
    condition(store, pid, "Impacted molar tooth", "2023-01-20")  # a tooth ends no pregnancy
    observe(store, pid, "2023-02-01 09:00", SBP, 135)
    assert latest(patient_summary(store, pid), SBP)["flag"] == "N"  # still pregnant: ACOG < 140
    condition(store, pid, "Miscarriage in first trimester", "2023-02-20")
    observe(store, pid, "2023-03-01 09:00", SBP, 135)
    assert latest(patient_summary(store, pid), SBP)["flag"] == "H"


# Same-time readings: the most abnormal decides, and all are shown.
def test_same_time_spo2_88_and_97_shows_88_and_scores_it(store: Store) -> None:
    pid = add_patient(store, "pair")
    observe(store, pid, "2024-02-05 09:00", SPO2, 88)
    observe(store, pid, "2024-02-05 09:00", SPO2, 97)
    summary = patient_summary(store, pid)
    item = latest(summary, SPO2)
    assert (item["value"], item["flag"]) == (88, "LL")
    assert sorted((r["value"], r["flag"]) for r in item["same_time"]) == [(88, "LL"), (97, "N")]
    assert summary["news2"]["components"]["SpO2"] == 3 and summary["news2"]["same_time"]["SpO2"]



def test_a_critically_low_pair_outranks_stage_2_at_the_same_time_and_a_mildly_low_one_does_not(store: Store) -> None:
    sbp_range = load_ranges().for_patient(SBP, "F", 50)
    critical = next(v for v in range(100, 40, -1) if flag(v, sbp_range) == "LL")
    mild = next(v for v in range(100, 40, -1) if flag(v, sbp_range) == "L")
    for low, decides in ((critical, "low"), (mild, "stage 2")):
        pid = add_patient(store, f"pair-{low}")
        for sbp, dbp in ((low, 60), (162, 101)):  # 162/101: stage 2, short of a crisis
            observe(store, pid, "2024-02-05 09:00", SBP, sbp)
            observe(store, pid, "2024-02-05 09:00", DBP, dbp)
        summary = patient_summary(store, pid)
        category, reading = summary["bp_category"], summary["bp_reading"]
        assert len(reading["same_time"]) >= 2
        if decides == "low":
            assert category.startswith("Very low") and reading["systolic"] == low, (low, category)
        else:
            assert category == "Hypertension stage 2" and reading["systolic"] == 162, (low, category)


# Children: AAP 2017, Fleming 2011, CDC; every flag names its table and age.
def test_a_three_year_olds_127_75_is_flagged_by_aap_2017(store: Store) -> None:
    pid = add_patient(store, "toddler", sex="F", birth=date(2021, 1, 1))
    observe(store, pid, "2024-03-01 09:00", SBP, 127)
    observe(store, pid, "2024-03-01 09:00", DBP, 75)
    summary = patient_summary(store, pid)
    item = latest(summary, SBP)
    assert item["flag"] == "H" and "AAP 2017" in item["rule"] and "girls aged 3" in item["rule"]
    assert "aged 3 at the reading" in item["rule"]
    assert summary["bp_category"].startswith("Elevated or higher")
    assert "height" in summary["bp_reading"]["note"]


def test_from_thirteen_blood_pressure_uses_adult_style_categories(store: Store) -> None:
    pid = add_patient(store, "teen", sex="M", birth=date(2008, 1, 1))
    observe(store, pid, "2024-03-01 09:00", SBP, 138)
    observe(store, pid, "2024-03-01 09:00", DBP, 78)
    summary = patient_summary(store, pid)
    assert summary["bp_category"] == "Hypertension stage 1"
    assert latest(summary, SBP)["flag"] == "H" and "aged 16" in latest(summary, SBP)["rule"]
    assert "from age 13" in latest(summary, SBP)["rule"]


@pytest.mark.parametrize(("age", "sex", "category"), [
    (5, "M", "Normal"), (5, "M", None), (11, "F", "Hypertension stage 1 or higher"), (8, "F", "Hypertension stage 2")])
def test_aap_categories_under_13(age: int, sex: str, category: str | None) -> None:
    readings = {"Normal": (100, 60), None: (100, 60), "Hypertension stage 1 or higher": (132, 70),
                "Hypertension stage 2": (141, 70)}[category]
    if category is None:  # an infant: no AAP table under 1
        assert bp_category(*readings, age=0.5, sex=sex) is None
    else:
        assert bp_category(*readings, age=age, sex=sex) == category


def test_infants_heart_rate_by_month_and_no_infant_bp(store: Store) -> None:
    pid = add_patient(store, "baby", sex="F", birth=date(2024, 1, 1))
    observe(store, pid, "2024-06-05 09:00", HR, 150)  # 5 months: Fleming 104-175
    observe(store, pid, "2024-06-05 09:00", SBP, 85)
    summary = patient_summary(store, pid)
    hr = latest(summary, HR)
    assert hr["flag"] == "N" and "aged 5 months" in hr["rule"] and "Fleming" in hr["rule"]
    sbp = latest(summary, SBP)
    assert sbp["flag"] is None and "start at age 1" in sbp["rule"]


def test_bmi_percentile_by_cdc_and_a_childs_bmi_read_by_its_percentile(store: Store) -> None:
    pid = add_patient(store, "kid", sex="M", birth=date(2015, 1, 1))
    observe(store, pid, "2024-03-01 09:00", "59576-9", 96.0, "%")
    observe(store, pid, "2024-03-01 09:00", "39156-5", 22.0, "kg/m2")
    summary = patient_summary(store, pid)
    pct = latest(summary, "59576-9")
    assert pct["flag"] == "H" and "CDC obese" in pct["rule"] and "aged 9" in pct["rule"]
    assert latest(summary, "39156-5")["flag"] is None and "percentile" in latest(summary, "39156-5")["rule"]
    ranges = load_ranges()
    assert flag(4.9, ranges.for_patient("59576-9", "F", 10)) == "L"  # CDC underweight < 5th
    assert flag(85, ranges.for_patient("59576-9", "F", 10)) == "H"   # overweight >= 85th
    assert ranges.for_patient("59576-9", "F", 1.5) is None
    assert "WHO weight-for-length" in ranges.no_range_reason("59576-9", 1.5)


# Random and capillary glucose: a lab's range; ADA's 200 mg/dL a separate, named threshold.
def test_random_glucose_has_a_lab_range_and_the_ada_threshold_is_separate() -> None:
    glucose = load_ranges().for_patient("2339-0", "F", 40)
    assert flag(189, glucose) == "H" and flag(150, glucose) == "H" and flag(110, glucose) == "N"
    assert "MedlinePlus" in glucose.rule_for("H")
    assert "ADA" in glucose.rule_for("H", "mg/dL", 210) and "ADA" not in glucose.rule_for("H", "mg/dL", 189)
    assert [t.value for t in glucose.thresholds] == [200]


def test_flag_words_are_written_once() -> None:
    assert describe_flag("H") == "H high" and describe_flag("LL") == "LL critically low"
    assert describe_flag(None) == "no range" and set(FLAG_WORDS) == {"N", "L", "H", "LL", "HH"}


def test_plots_and_single_values_flag_alike_at_every_limit() -> None:
    table = load_ranges()
    for reference in (*table.ranges, *(table.children.ranges if table.children else ())):
        for limit in reference.limits().values():
            values = np.array([limit.value + d for d in (-0.1, -0.01, -1e-6, 0.0, 1e-6, 0.01, 0.1)])
            plotted = reference.classify_array(values)
            assert [p or "N" for p in plotted] == [reference.classify(v) for v in values], reference.code
