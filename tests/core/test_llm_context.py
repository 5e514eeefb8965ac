"""The patient summary the model reads, and the facts repeated beside a question. Pure functions, plus the
summary of a real workspace."""

from __future__ import annotations

from desktop.core.chat.patient_context import (
    compute_trends,
    format_number,
    format_patient_summary,
    patient_context,
)
from desktop.core.chat.relevant import grounded_question, relevant_facts
from desktop.core.store import open_store
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


def test_the_summary_reads_exactly_as_specified() -> None:
    assert format_patient_summary(JANE, TRENDS) == EXPECTED


def test_missing_parts_are_left_out_or_said_plainly() -> None:
    bare = {"patient": {"id": "p9", "name": None, "sex": None, "age": None, "conditions": []}, "latest": [],
            "bp_category": None, "news2": {"score": None, "partial": True, "missing": ["SpO2"]}}
    assert format_patient_summary(bare) == (
        "Patient: p9. Conditions: none recorded.\nLatest values: none recorded.\n"
        "NEWS2: not enough data (missing: SpO2).")


def test_labs_within_range_are_named_not_listed() -> None:
    summary = dict(JANE, latest=[
        *JANE["latest"],
        {"code": "2823-3", "name": "Potassium", "category": "lab", "value": 4.1, "unit": "mmol/L", "flag": "N",
         "observed_at": "2024-03-02"},
        {"code": "33914-3", "name": "eGFR", "category": "lab", "value": 19, "unit": "mL/min", "flag": "L",
         "observed_at": "2024-03-02"},
        {"code": "x", "name": "Pain severity", "category": "vital", "value": 0, "unit": "{score}", "flag": None,
         "observed_at": "2024-03-02"},
    ])
    text = format_patient_summary(summary)
    assert "- eGFR: 19 mL/min (L, 2024-03-02)" in text
    assert "- Pain severity: 0 (2024-03-02)" in text  # UCUM annotations like {score} are dropped
    assert "Latest results within range: Potassium." in text and "4.1" not in text


def test_numbers_print_without_noise() -> None:
    assert [format_number(v) for v in (152.0, 36.85, 0.0841, 7, 2.6100)] == ["152", "36.85", "0.084", "7", "2.61"]


def test_trends_and_summary_from_a_workspace() -> None:
    with open_store(":memory:") as store:
        patient = seed_demo_patient(store)
        text = patient_context(store, patient)
        latest = [{"code": "8480-6", "name": "Systolic blood pressure"}, {"code": "8867-4", "name": "Heart rate"}]
        trends = compute_trends(store, patient_id=patient, latest=latest)
    # The app's context is the ranked, budgeted one (desktop/core/assistant/context.py)
    assert text.startswith("Patient: Jane Doe, female, aged 56.")
    assert "- Systolic blood pressure: 152 mm[Hg] on 2024-03-02, flagged H (H: >= 120 mm[Hg], ACC/AHA" in text
    assert "Blood pressure category: Hypertension stage 2" in text
    assert "Systolic blood pressure rose from 138 mm[Hg] on 2023-03-05 to 152 mm[Hg] on 2024-03-02" in text
    assert [t["name"] for t in trends] == ["Systolic blood pressure", "Heart rate"]


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
