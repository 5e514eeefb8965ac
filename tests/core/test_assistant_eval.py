"""A small slice of ``make eval-assistant``: a generated cohort and the committed sample, every question kind,
expected answers from the CSV files (pandas, not the app's queries). The full run is the make target."""

from __future__ import annotations

from benchmarks.eval_assistant import COHORT_KINDS, TEMPLATES, Report, Result, run_evaluation


def test_a_slice_of_the_evaluation_meets_the_goals() -> None:
    report = run_evaluation(patients=14, years=6, seeds=[3], per_kind=3, sample=True)
    kinds = report.by_kind()
    assert set(TEMPLATES) <= set(kinds), set(TEMPLATES) - set(kinds)
    assert report.goals_met(), report.text()
    assert not report.wrong_unmarked() and not report.verifier_disagrees()
    assert all(r.computed for k in COHORT_KINDS for r in kinds[k])


def test_the_report_counts_a_wrong_figure_and_misses_the_goal() -> None:
    right = Result("max", "peak SBP", True, True, 0.01, 150.0, "The highest ... 150")
    wrong = Result("cohort_count", "how many patients have diabetes", False, True, 0.01, 9.0, "The workspace has 30")
    report = Report([right, wrong])
    assert report.wrong_unmarked() == [wrong] and not report.goals_met()
    assert "wrong figures shown unmarked: 1" in report.text() and "GOALS NOT MET" in report.text()
