"""The computed assistant answers "what medications is she on / any allergies?" from the tables, with the SQL
it ran; knowledge questions about drugs and allergies stay with the model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desktop.core.assistant.ask import answer_question
from desktop.core.assistant.parse import plan_question
from desktop.core.assistant.plan import plan_from_dict
from desktop.core.workspace.store import Store

from .test_context_history import _import


@pytest.mark.parametrize(("question", "operation"), [
    ("What medications is she on / any allergies?", "medications"),
    ("what is she taking?", "medications"),
    ("What drugs was he prescribed?", "medications"),
    ("Any allergies?", "allergies"),
    ("Is he allergic to anything?", "allergies"),
])
def test_history_questions_are_planned(question: str, operation: str) -> None:
    plan = plan_question(question, patient_id="p1", today=date(2024, 1, 1))
    assert (plan.kind, plan.subject, plan.operation, plan.measurements) == ("data", "patient", operation, ())


@pytest.mark.parametrize("question", ["What is an allergy?", "side effects of metformin",
                                      "which patients are on metformin?", "What are drug interactions?"])
def test_knowledge_and_workspace_questions_are_not(question: str) -> None:
    assert plan_question(question, patient_id="p1", today=date(2024, 1, 1)).operation not in ("medications",
                                                                                               "allergies")


def test_a_measurement_question_stays_a_measurement_question() -> None:
    plan = plan_question("when was her blood pressure last taken?", patient_id="p1", today=date(2024, 1, 1))
    assert plan.operation == "last_date" and plan.measurements


def test_the_model_planner_may_give_the_same_plan() -> None:
    plan = plan_from_dict({"kind": "data", "subject": "patient", "patient_id": "p1", "measurements": [],
                           "operation": "allergies"})
    assert plan.operation == "allergies" and "allergies" in plan.in_words()


def test_computed_from_the_tables(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path)
    answer = answer_question(store, question="What medications is she on / any allergies?", patient_id="p-ann")
    assert answer.computed
    assert answer.text == (
        "Active medications as of 2023-03-12 (1): lisinopril 10 MG Oral Tablet (since 2016-03-01, for Essential "
        "hypertension (disorder)). Allergies and intolerances (1): Penicillin V (Eruption of skin (disorder), "
        "severe).")
    assert len(answer.sql) == 2 and "FROM medications" in answer.sql[0] and "FROM allergies" in answer.sql[1]
    assert [r[0] for r in answer.rows] == ["medication", "allergy"]
    none = answer_question(store, question="any allergies?", patient_id="p-ben")
    assert none.computed and none.text == "No allergies recorded."
