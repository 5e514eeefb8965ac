"""A small slice of ``make eval-assistant``: a generated cohort and the committed sample, every question kind,
expected answers from the CSV files (pandas, not the app's queries). The full run is the make target.

The slice holds the report's goals for every kind (issue 18): each kind 100% right, no wrong figure shown
unmarked, and the verifier never calls the app's own computed text contradicted."""

from __future__ import annotations

from benchmarks.eval_assistant import COHORT_KINDS, TEMPLATES, _in_attention_order, run_evaluation
from benchmarks.eval_judge import DECLINED, RIGHT
from benchmarks.eval_record_patient import PATIENT_KINDS
from benchmarks.eval_record_workspace import WORKSPACE_KINDS
from benchmarks.eval_report import Report, Result


def test_a_slice_of_the_evaluation_asks_every_kind_and_meets_every_goal() -> None:
    report = run_evaluation(patients=14, years=6, seeds=[3], per_kind=3, sample=True)
    kinds = report.by_kind()
    asked = set(TEMPLATES) | set(PATIENT_KINDS) | set(WORKSPACE_KINDS)
    assert asked <= set(kinds), asked - set(kinds)
    assert not report.kinds_missing_goal(), [(r.kind, r.question, r.expected, r.got) for r in report.results
                                             if not r.ok]
    assert not report.wrong_unmarked()
    assert not report.verifier_disagrees(), [(r.question, r.contradicted) for r in report.verifier_disagrees()]
    assert report.goals_met() and "goals met" in report.text()
    assert all(r.computed for k in COHORT_KINDS for r in kinds[k])
    assert {r.outcome for r in report.results} == {RIGHT}
    assert {r.source for r in report.results} == {"cohort-3", "sample"}


def test_the_report_counts_a_wrong_figure_and_misses_the_goal() -> None:
    right = Result("max", "peak SBP", True, True, 0.01, 150.0, "The highest ... 150")
    wrong = Result("cohort_count", "how many patients have diabetes", False, True, 0.01, 9.0, "The workspace has 30")
    report = Report([right, wrong])
    assert report.wrong_unmarked() == [wrong] and not report.goals_met()
    assert "wrong figures shown unmarked: 1" in report.text() and "GOALS NOT MET" in report.text()
    assert report.kinds_missing_goal() == ["cohort_count"]


def test_a_declined_answer_is_not_a_wrong_figure_but_misses_the_kind_goal() -> None:
    declined = Result("cond_exists", "has she had asthma?", False, True, 0.01, "yesno:True", "The record ...",
                      outcome=DECLINED)
    general = Result("med_first", "when was she first on metformin?", False, False, 0.0, "date", "")
    report = Report([declined, general])
    assert general.outcome == DECLINED
    assert not report.wrong_unmarked() and not report.goals_met()
    line = next(s for s in report.text().splitlines() if s.startswith("cond_exists"))
    assert line.split()[1:4] == ["0", "0", "1"]


def test_the_attention_order_is_the_agreed_rule_band_then_current_news2() -> None:
    critical = ["a", "A", 0, True, None, None, "Systolic blood pressure 195 mmHg HH critically high (2025-05-31)"]
    news3 = ["b", "B", 3, True, None, None, "NEWS2 3 partial, at least low risk (2025-06-17)"]
    abnormal = ["c", "C", 0, True, None, None, "Body mass index 29.1 kg/m² H high (2025-06-28)"]
    old_news5 = ["d", "D", 5, True, None, None, "old: NEWS2 5 partial (2024-01-02, 17 mo ago)"]
    assert _in_attention_order([critical, news3, abnormal, old_news5])
    assert not _in_attention_order([news3, critical])
    assert not _in_attention_order([abnormal, news3])
