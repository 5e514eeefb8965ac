"""The small rules behind the window's layout: social findings apart from diagnoses, the plots' order, the
default time range, short axis names, cohort period labels."""

from __future__ import annotations

import numpy as np

from desktop.core.clinical.social_findings import is_social_finding
from desktop.core.queries.condition_groups import split_conditions
from desktop.core.queries.plot_order import plot_groups
from desktop.core.queries.series import Series
from desktop.ui.plots.qt_cohort_view import period_label
from desktop.ui.plots.qt_plot_panel import _short_name
from desktop.ui.plots.qt_vitals_plots import DAY, DEFAULT_RANGE_DAYS, default_range_days


def test_social_findings_are_split_from_diagnoses_by_tag_and_words() -> None:
    groups = split_conditions([
        "Hypertension (disorder)", "Unemployed (finding)", "Prediabetes (finding)",
        "Received certificate of high school equivalency (finding)", "Body mass index 30+ - obesity (finding)",
        "Stress (finding)", "Chronic pain (finding)", "Limited social contact (finding)",
    ])
    assert groups.diagnoses == ["Hypertension (disorder)", "Prediabetes (finding)",
                                "Body mass index 30+ - obesity (finding)", "Chronic pain (finding)"]
    assert groups.social == ["Unemployed (finding)", "Received certificate of high school equivalency (finding)",
                             "Stress (finding)", "Limited social contact (finding)"]
    assert not is_social_finding("Drug-induced housing of cells (disorder)")  # a disorder stays clinical


def _series(code: str, name: str, values: list[float], days_ago: list[float] | None = None) -> Series:
    end = 1.75e9
    ago = days_ago or [float(len(values) - i) for i in range(len(values))]
    return Series(code, name, "", np.array([end - a * DAY for a in ago]), np.array(values, dtype=float), None)


def test_plots_come_in_clinical_order_with_administrative_rows_apart() -> None:
    lab = _series("2093-3", "Total cholesterol", [180.0])
    survey = _series("55758-7", "PHQ-2 total score", [1.0])
    qaly = _series("QALY", "QALY", [40.0])
    heart = _series("8867-4", "Heart rate", [70.0])
    groups = plot_groups([lab, survey, qaly, heart], {"55758-7": "survey", "QALY": None, "8867-4": "vital-signs"})
    assert [s.code for s in groups.main] == ["8867-4", "2093-3"]
    assert [s.code for s in groups.more] == ["55758-7", "QALY"]


def test_the_default_range_is_30_days_after_a_dense_end_else_a_year() -> None:
    sparse = [_series("8867-4", "Heart rate", [70.0] * 10, [float(400 - 40 * i) for i in range(10)])]
    assert default_range_days(sparse) == DEFAULT_RANGE_DAYS
    admission = [_series("8867-4", "Heart rate", [90.0] * 40, [i * 0.25 for i in range(40, 0, -1)])]
    assert default_range_days(admission) == 30


def test_axis_names_are_cut_at_a_word_outside_brackets() -> None:
    long = _series("X-1", "Leukocytes [#/volume] in Blood by Automated count", [5.0])
    short = _short_name(long)
    assert "[" not in short and "(" not in short and short.startswith("Leukocytes")
    assert _short_name(_series("X-2", "Body mass index (BMI) [Percentile] Per age and sex", [5.0])).endswith("…")
    assert _short_name(_series("8867-4", "Heart rate", [70.0])) == "HR"


def test_cohort_periods_read_as_years_quarters_and_months() -> None:
    assert period_label("1991-01-01", "year") == "1991"
    assert period_label("2020-07-01", "quarter") == "2020 Q3"
    assert period_label("2020-07-01", "month") == "2020-07"
