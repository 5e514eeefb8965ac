"""The patient summary the model reads, and the facts repeated beside a question. Pure functions, plus the
summary of a real workspace."""

from __future__ import annotations

from desktop.core.assistant.context import recent_trends
from desktop.core.queries.summary import patient_summary
from desktop.core.trained import context_from_summary, format_number, patient_context
from desktop.core.trained.grounding import grounded_question, relevant_facts
from desktop.core.workspace.store import open_store
from devtools.synthetic.workspaces import seed_demo_patient

JANE = {
    "patient": {"id": "p1", "name": "Jane Doe", "sex": "F", "age": 54,
                "conditions": ["Hypertension", "Type 2 diabetes"]},
    "latest": [
        {"code": "8480-6", "name": "Systolic blood pressure", "value": 152.0, "unit": "mm[Hg]", "flag": "H",
         "observed_at": "2024-03-02T09:30:00"},
        {"code": "8867-4", "name": "Heart rate", "value": 88, "unit": "/min", "flag": "N",
         "observed_at": "2024-03-02T09:30:00"},
    ],
    "bp_category": "Hypertension stage 2",
    "news2": {"score": 1, "partial": True,
              "missing": ["SpO2", "temperature", "consciousness", "supplemental oxygen"]},
}
TRENDS = [{"name": "Systolic blood pressure", "first": 138.0, "last": 152.0, "unit": "mm[Hg]", "days": 366}]

EXPECTED = """Patient: Jane Doe (F, 54 y). Conditions: Hypertension; Type 2 diabetes.
Latest values:
- Systolic blood pressure: 152 mm[Hg] (H, 2024-03-02)
- Heart rate: 88 /min (normal, 2024-03-02)
Blood pressure category: Hypertension stage 2.
NEWS2: 1 (partial; missing: SpO2, temperature, consciousness, supplemental oxygen).
Trends: Systolic blood pressure rose from 138 to 152 mm[Hg] over 12 months."""


def test_numbers_print_without_noise() -> None:
    assert [format_number(v) for v in (152.0, 36.85, 0.0841, 7, 2.6100)] == ["152", "36.85", "0.08", "7", "2.61"]  # as the context writes them


def test_trends_and_summary_from_a_workspace() -> None:
    with open_store(":memory:") as store:
        patient = seed_demo_patient(store)
        text = patient_context(store, patient)
        trends = recent_trends(store, patient_id=patient)
        # one builder: from a summary dict (what model_build trains on) the very same text
        from_summary = context_from_summary({**patient_summary(store, patient), "trends": trends})
    assert from_summary == text
    # The app's context is the ranked, budgeted one (desktop/core/assistant/context.py)
    assert text.startswith("Patient: Jane Doe, female, aged 56.")
    assert "- Systolic blood pressure: 152 mm[Hg] on 2024-03-02, flagged H (H: >= 120 mm[Hg], ACC/AHA" in text
    assert "Blood pressure category: Hypertension stage 2" in text
    assert "Systolic blood pressure rose from 138 mm[Hg] on 2023-03-05 to 152 mm[Hg] on 2024-03-02" in text
    assert {t["code"] for t in trends} >= {"8480-6"}


def test_the_facts_a_question_is_about_are_repeated_beside_it() -> None:
    context = EXPECTED
    assert relevant_facts(context, "What is the latest SBP?") == [
        "Systolic blood pressure: 152 mm[Hg] (H, 2024-03-02)",
        "Systolic blood pressure rose from 138 to 152 mm[Hg] over 12 months",
    ]
    assert relevant_facts(context, "Is she tachycardic?") == ["Heart rate: 88 /min (normal, 2024-03-02)"]
    assert relevant_facts(context, "What is her NEWS2?")[0].startswith("NEWS2: 1 (partial")
    assert relevant_facts(context, "Tell me a joke") == []
    assert grounded_question("Tell me a joke", context) == "Tell me a joke"
    assert grounded_question("Pulse?", context) == "Pulse?\n\nFrom the record:\n- Heart rate: 88 /min (normal, 2024-03-02)"
