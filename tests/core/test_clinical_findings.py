"""Issue 11: flags, scores and "latest" a clinician can rely on. One test (or group) per finding; each failed
on the code before the fix. Patients are written into a real DuckDB workspace file."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from desktop.core.clinical.measurements import load_catalog
from desktop.core.clinical.patient_settings import set_spo2_scale2, spo2_scale2
from desktop.core.clinical.ranges import PREGNANCY, flag, load_ranges
from desktop.core.clinical.scores import LOW_BP, VERY_LOW_BP, bp_category
from desktop.core.queries.series import patient_series
from desktop.core.queries.summary import patient_summary
from desktop.core.workspace.store import Store, open_store

SBP, DBP, HR, RR, TEMP, SPO2, HB = "8480-6", "8462-4", "8867-4", "9279-1", "8310-5", "59408-5", "718-7"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "clinical.duckdb")
    yield s
    s.close()


def add_patient(store: Store, pid: str, *, sex: str | None = "F", birth: date | None = date(1970, 1, 1)) -> str:
    store.con.execute("INSERT INTO patients VALUES (?, ?, ?, ?, false, NULL, 1)", [pid, f"Test {pid}", sex, birth])
    return pid


def observe(store: Store, pid: str, when: str, code: str, value: float | str, unit: str = "", import_id: int = 1) -> None:
    number = value if isinstance(value, (int, float)) else None
    store.con.execute("INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                      [pid, when, code, str(value), unit, number, unit if number is not None else None, import_id])


def condition(store: Store, pid: str, description: str, onset: str, resolved: str | None = None) -> None:
    store.con.execute("INSERT INTO conditions VALUES (?, ?, ?, 'x', 'SNOMED', ?, NULL, 1)",
                      [pid, onset, resolved, description])


def latest(summary: dict, code: str) -> dict:
    return next(item for item in summary["latest"] if item["code"] == code)


def canonical(code: str, value: float, unit: str) -> float:
    factor, offset = load_catalog().by_code(code).units[unit]
    return value * factor + offset


# 1. Upper limits written by the authorities as "< X" are exclusive, and converted SI values are judged at
#    the precision the limit is written in.
@pytest.mark.parametrize(("code", "sex", "value", "unit"), [
    ("1558-6", "F", 5.5, "mmol/l"),      # fasting glucose 99.1 mg/dL: ADA normal < 100
    ("4548-4", "F", 38, "mmol/mol"),     # HbA1c 5.63 %: ADA normal < 5.7
    ("2093-3", "F", 5.15, "mmol/l"),     # cholesterol 199.2 mg/dL: < 200
    ("18262-6", "F", 3.35, "mmol/l"),    # LDL 129.5 mg/dL: < 130
    ("2571-8", "F", 1.69, "mmol/l"),     # triglycerides 149.7 mg/dL: < 150
    ("39156-5", "F", 24.95, "kg/m2"),    # BMI: < 25
    ("38483-4", "M", 114, "umol/l"),     # creatinine 1.2896 mg/dL: men 0.7-1.3 mg/dL (issue 20: no rounding,
])                                       # so 115 umol/L = 1.3009 mg/dL is H, shown as 1.301)
def test_converted_values_at_an_exclusive_or_written_limit_are_normal(code: str, sex: str, value: float,
                                                                       unit: str) -> None:
    reference = load_ranges().for_patient(code, sex, 40)
    assert flag(canonical(code, value, unit), reference) == "N"


@pytest.mark.parametrize(("code", "value", "expected"), [
    ("1558-6", 100.0, "H"), ("4548-4", 5.7, "H"), ("2093-3", 200.0, "H"), ("18262-6", 130.0, "H"),
    ("2571-8", 150.0, "H"), ("39156-5", 25.0, "H"), ("38483-4", 1.35, "H"),
])
def test_the_limit_itself_is_abnormal_where_the_authority_says_so(code: str, value: float, expected: str) -> None:
    assert flag(value, load_ranges().for_patient(code, "M", 40)) == expected


def test_every_limit_states_inclusive_and_its_source() -> None:
    for r in load_ranges().ranges:
        for name, limit in r.limits().items():
            assert isinstance(limit.inclusive, bool), (r.code, name)
            assert len(limit.source) > 10, (r.code, name)


# 2. Flags and the BP category come from the same thresholds.
def test_bp_flags_never_contradict_the_category() -> None:
    ranges = load_ranges()
    sbp_range, dbp_range = ranges.for_patient(SBP, "F", 50), ranges.for_patient(DBP, "F", 50)
    assert flag(120, sbp_range) == "H" and bp_category(120, 70) == "Elevated"
    assert flag(80, dbp_range) == "H" and bp_category(110, 80) == "Hypertension stage 1"
    for sbp, dbp in itertools.product(np.arange(80, 200, 0.5), np.arange(50, 130, 0.5)):
        s_flag, d_flag = flag(sbp, sbp_range), flag(dbp, dbp_range)
        category = bp_category(sbp, dbp)
        none_high = s_flag in ("N", "L", "LL") and d_flag in ("N", "L", "LL")
        any_low = s_flag in ("L", "LL") or d_flag in ("L", "LL")
        # Raised pressure graded by ACC/AHA; a low reading is said to be low, never "Normal" beside its flag.
        assert (category == "Normal") == (none_high and not any_low), (sbp, dbp, category, s_flag, d_flag)
        assert (category in (LOW_BP, VERY_LOW_BP)) == (none_high and any_low), (sbp, dbp, category, s_flag, d_flag)
        assert (category == VERY_LOW_BP) == (none_high and "LL" in (s_flag, d_flag)), (sbp, dbp, category)
        assert (category == "Hypertensive crisis") == ("HH" in (s_flag, d_flag)), (sbp, dbp)


# 3. Missing sex keeps the limits that do not depend on sex.
def test_unknown_sex_keeps_shared_criticals_and_flags_what_is_abnormal_for_both() -> None:
    ranges = load_ranges()
    hb = ranges.for_patient(HB, None, 40)
    assert flag(4.0, hb) == "LL"
    assert flag(12.5, hb) == "N"  # low for a man, normal for a woman: not flagged
    assert flag(11.0, hb) == "L"  # low for both
    assert "sex unknown" in hb.rule_for("L", "g/dL")
    for code in ("4544-3", "38483-4", "2085-9"):
        assert ranges.for_patient(code, None, 40) is not None


# 4. Plots judge each reading against the range at the age it was taken (issue 20: a child's by the
#    children's table for that age, never the adult one).
def test_childhood_readings_on_a_plot_are_judged_by_the_childrens_table(store: Store) -> None:
    pid = add_patient(store, "child-then", birth=date(2000, 6, 1))
    observe(store, pid, "2003-07-01 10:00", RR, 28, "/min")   # aged 3: Fleming 2011, 99th centile 31
    observe(store, pid, "2030-07-01 10:00", RR, 28, "/min")   # aged 30
    series = next(s for s in patient_series(store, pid) if s.code == RR)
    assert list(series.flags()) == ["", "HH"]
    assert series.describe_point(0, "", "/min").startswith("aged 3 · normal")
    assert "Fleming" in series.describe_point(0, "", "/min")
    assert "aged 30" in series.describe_point(1, "HH", "/min") and "NEWS2" in series.describe_point(1, "HH", "/min")


# 5. BP category and NEWS2 eligibility use the age at the reading; no birth date is not a child.
def test_category_and_news2_use_the_age_at_the_reading(store: Store) -> None:
    pid = add_patient(store, "grew-up", birth=date(2005, 1, 1))  # an adult today, a child at the readings
    for code, value in ((SBP, 150), (DBP, 95), (HR, 140), (RR, 28)):
        observe(store, pid, "2012-03-01 09:00", code, value)
    summary = patient_summary(store, pid)
    assert summary["bp_category"] == "Hypertension stage 2" and "AAP 2017" in summary["bp_reading"]["note"]
    assert summary["news2"]["score"] is None and "16" in summary["news2"]["note"]
    assert latest(summary, SBP)["flag"] == "H" and latest(summary, SBP)["age_at_reading"] == 7
    assert "aged 7" in latest(summary, SBP)["rule"]


def test_no_birth_date_is_an_adult_of_unknown_age(store: Store) -> None:
    pid = add_patient(store, "no-birth", birth=None)
    observe(store, pid, "2024-03-01 09:00", SBP, 150)
    observe(store, pid, "2024-03-01 09:00", DBP, 95)
    summary = patient_summary(store, pid)
    assert summary["bp_category"] == "Hypertension stage 2"
    assert latest(summary, SBP)["flag"] == "H" and "age unknown" in latest(summary, SBP)["rule"]
    assert summary["news2"]["score"] is not None and "age unknown" in summary["news2"]["note"]


# 6. "Latest" is one row.
def test_latest_never_mixes_an_older_number_with_a_newer_date(store: Store) -> None:
    pid = add_patient(store, "text-newest")
    observe(store, pid, "2023-01-01 09:00", SBP, 182)
    observe(store, pid, "2024-02-05 09:00", SBP, "patient refused")
    item = latest(patient_summary(store, pid), SBP)
    assert (item["value"], item["observed_at"], item["flag"]) == ("patient refused", "2024-02-05T09:00:00", None)
    news = patient_summary(store, pid)["news2"]
    assert "systolic blood pressure" not in news["components"]  # the old 182 never enters NEWS2 as current


def test_readings_at_the_same_time_are_chosen_the_same_way_and_listed(store: Store) -> None:
    pid = add_patient(store, "pair")
    observe(store, pid, "2024-02-05 09:00", SPO2, 91)
    observe(store, pid, "2024-02-05 09:00", SPO2, 97)
    for _ in range(3):
        item = latest(patient_summary(store, pid), SPO2)  # issue 20: the most abnormal decides
        assert item["value"] == 91 and sorted(item["same_time_values"]) == ["91.0", "97.0"]


# 7. NEWS2 scores one observation set.
def test_news2_does_not_stitch_inputs_from_a_day(store: Store) -> None:
    pid = add_patient(store, "stitched")
    for code, value in ((RR, 26), (SBP, 88), (TEMP, 39.5)):
        observe(store, pid, "2024-05-01 08:00", code, value)
    observe(store, pid, "2024-05-02 07:00", HR, 72)
    news = patient_summary(store, pid)["news2"]
    assert news["score"] == 0 and list(news["inputs"]) == ["pulse"]
    assert "60 minutes" in news["window"]


# 8. SpO2 scale 2: a recorded per-patient setting, used by NEWS2 and by the flags.
def test_spo2_scale2_is_a_recorded_setting_used_by_news2_and_flags(store: Store) -> None:
    pid = add_patient(store, "copd")
    observe(store, pid, "2024-05-01 08:00", SPO2, 90)
    before = patient_summary(store, pid)
    assert before["news2"]["components"]["SpO2"] == 3 and latest(before, SPO2)["flag"] == "LL"
    set_spo2_scale2(store, patient_id=pid, enabled=True, user="dr.okafor")
    after = patient_summary(store, pid)
    assert after["news2"]["components"]["SpO2"] == 0 and after["news2"]["scale"] == "SpO2 scale 2"
    assert latest(after, SPO2)["flag"] == "N"
    assert after["patient"]["spo2_scale2"]["set_by"] == "dr.okafor"
    set_spo2_scale2(store, patient_id=pid, enabled=False, user="dr.lind")
    assert spo2_scale2(store, pid).set_by == "dr.lind" and not spo2_scale2(store, pid).value


# 9. A partial score keeps its lower-bound risk band and names the single-parameter trigger.
def test_partial_news2_keeps_a_lower_bound_band(store: Store) -> None:
    pid = add_patient(store, "sick")
    for code, value in ((RR, 30), (SBP, 85), (HR, 140)):
        observe(store, pid, "2024-05-01 08:00", code, value)
    news = patient_summary(store, pid)["news2"]
    assert news["score"] == 9 and news["partial"] and news["risk"] == "high"
    assert set(news["red_score"]) == {"respiratory rate", "systolic blood pressure", "pulse"}
    pid = add_patient(store, "one-red")
    observe(store, pid, "2024-05-01 08:00", RR, 26)
    one = patient_summary(store, pid)["news2"]
    assert one["risk_text"] == "at least low-medium" and one["red_score"] == ["respiratory rate"]


# 10. Pregnancy: NEWS2 off with the reason; pregnancy ranges where they differ; NEWS2 from 16.
def test_pregnancy_turns_news2_off_and_uses_pregnancy_ranges(store: Store) -> None:
    pid = add_patient(store, "pregnant", birth=date(1995, 1, 1))
    condition(store, pid, "Normal pregnancy", "2024-01-10")
    for code, value in ((SBP, 132), (DBP, 84), (HR, 88), (RR, 18), (HB, 11.2)):
        observe(store, pid, "2024-05-01 08:00", code, value)
    summary = patient_summary(store, pid)
    assert summary["news2"]["score"] is None and "pregnancy" in summary["news2"]["note"]
    assert summary["bp_category"] is None and "pregnancy" in summary["bp_reading"]["note"]
    assert latest(summary, HB)["flag"] == "N"  # WHO: anaemia in pregnancy < 11.0 g/dL
    assert latest(summary, SBP)["flag"] == "N"  # ACOG: hypertension in pregnancy >= 140
    assert latest(summary, HB)["reference"]["population"] == PREGNANCY


def test_readings_before_the_pregnancy_use_ordinary_ranges(store: Store) -> None:
    pid = add_patient(store, "before", birth=date(1995, 1, 1))
    condition(store, pid, "Normal pregnancy", "2024-01-10", "2024-10-01")
    observe(store, pid, "2023-05-01 08:00", HB, 11.2)
    observe(store, pid, "2024-05-01 08:00", HB, 11.2)
    observe(store, pid, "2025-05-01 08:00", HB, 11.2)
    series = next(s for s in patient_series(store, pid) if s.code == HB)
    assert list(series.flags()) == ["L", "", "L"]


def test_news2_applies_from_sixteen(store: Store) -> None:
    pid = add_patient(store, "teen", birth=date(2007, 1, 1))
    observe(store, pid, "2023-06-01 08:00", RR, 26)  # aged 16
    assert patient_summary(store, pid)["news2"]["score"] == 3


# 11. The smaller ones.
def test_temperature_limits_match_their_sources() -> None:
    temp = load_ranges().for_patient(TEMP, "F", 40)
    assert flag(38.0, temp) == "H"  # CDC: fever >= 38.0 C
    assert flag(39.5, temp) == "H"  # NEWS2 scores 2 here: no critical claimed
    assert flag(35.0, temp) == "LL" and "scores 3" in temp.rule_for("LL", "Cel")


def test_bun_platelets_spo2_codes_and_glucose_kinds() -> None:
    ranges, catalog = load_ranges(), load_catalog()
    assert flag(6, ranges.for_patient("6299-2", "F", 40)) == "N"  # MedlinePlus 6-20 mg/dL
    assert ranges.for_patient("777-3", "F", 40).low != ranges.for_patient("777-3", "M", 40).low  # Mayo by sex
    assert catalog.by_code("2708-6").code == "59408-5" and catalog.by_code("2713-6").code == "59408-5"
    assert catalog.by_code("20570-8").code == "4544-3"
    assert flag(120, ranges.for_patient("2339-0", "F", 40)) == "N"  # random glucose is not held to fasting
    assert flag(110, ranges.for_patient("1558-6", "F", 40)) == "H"


def test_a_workspace_with_old_spo2_codes_is_migrated(tmp_path: Path) -> None:
    import duckdb

    from desktop.core.workspace.migrations import MIGRATIONS
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER, description VARCHAR, applied_at TIMESTAMP)")
    for m in MIGRATIONS[:2]:
        con.execute(m.sql)
        con.execute("INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)", [m.version, m.description])
    con.execute("INSERT INTO observation_codes VALUES ('2708-6', 'Oxygen saturation in Arterial blood', 'vital-signs')")
    con.execute("INSERT INTO observations VALUES ('p', TIMESTAMP '2024-01-01 08:00', '2708-6', '95', '%', 95, '%', NULL, 1)")
    con.close()
    with open_store(path) as upgraded:
        assert upgraded.con.execute("SELECT code FROM observations").fetchall() == [("59408-5",)]


def test_hover_and_summary_name_the_age_limit_and_authority(store: Store) -> None:
    pid = add_patient(store, "hover", sex="M", birth=date(1960, 3, 1))
    observe(store, pid, "2024-05-01 08:00", "38483-4", 1.6, "mg/dL")
    item = latest(patient_summary(store, pid), "38483-4")
    assert item["age_at_reading"] == 64
    assert item["rule"] == "H: > 1.3 mg/dL (MedlinePlus Creatinine - blood: men 0.7-1.3 mg/dL)"
    series = next(s for s in patient_series(store, pid) if s.code == "38483-4")
    assert series.describe_point(0, "H", "mg/dL") == "aged 64 · " + item["rule"]
    assert datetime.fromisoformat(item["observed_at"]).year == 2024
