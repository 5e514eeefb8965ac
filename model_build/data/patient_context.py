"""The patient summary a fine-tuned model will read, produced by the app's own code.

The app builds its chat context with ``desktop.core.chat.patient_context.format_patient_summary`` and its
system prompt with ``desktop.core.chat.session.system_text``; the question reaches the model through
``desktop.core.chat.relevant.grounded_question``. Training examples go through the very same functions,
so the model is fine-tuned on exactly the text the app gives it (a second formatter here would drift).

This module only adapts model_build's synthetic patients (plain dicts) to the app's summary shape::

    {"name": "Jane Doe", "sex": "F", "age": 54, "conditions": ["Hypertension"],
     "latest": [{"label": "Systolic blood pressure", "value": 152, "unit": "mm[Hg]",
                 "flag": "H", "date": "2024-03-02"}],
     "bp_category": "Hypertension stage 2",
     "news2": {"score": 1, "missing": ["SpO2", "temperature"]},
     "trends": [{"label": "Systolic blood pressure", "from": 138, "to": 152, "unit": "mm[Hg]", "months": 12}]}
"""

from __future__ import annotations

from typing import Any

from desktop.core.chat.patient_context import format_number, format_patient_summary
from desktop.core.chat.relevant import grounded_question
from desktop.core.chat.session import SYSTEM_PROMPT, system_text
from desktop.core.clinical.measurements import load_catalog

DEFAULT_SYSTEM_PROMPT = SYSTEM_PROMPT
fmt_number = format_number  # numbers in answers are written exactly as the summary writes them


def category(label: str) -> str:
    """'vital' or 'lab' as the app's catalog says; the app lists in-range labs by name only."""
    m = load_catalog().by_name(label)
    return m.category if m else "vital"


def app_summary(patient: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The app's ``patient_summary`` dict and trend list for a synthetic patient."""
    summary = {
        "patient": {"name": patient["name"], "sex": patient.get("sex"), "age": patient.get("age"),
                    "conditions": list(patient.get("conditions") or [])},
        "latest": [
            {"name": v["label"], "category": category(v["label"]), "value": v["value"], "unit": v.get("unit"),
             "flag": v.get("flag") or "N", "observed_at": v["date"]}
            for v in patient.get("latest") or []
        ],
        "bp_category": patient.get("bp_category"),
        "news2": None,
    }
    news2 = patient.get("news2")
    if news2 is not None:
        missing = list(news2.get("missing") or [])
        summary["news2"] = {"score": news2["score"], "partial": bool(missing), "missing": missing}
    trends = [
        {"name": t["label"], "first": t["from"], "last": t["to"], "unit": t.get("unit"),
         "days": float(t.get("months") or 0) * 30.44}
        for t in patient.get("trends") or []
    ]
    return summary, trends


def format_patient_context(patient: dict[str, Any]) -> str:
    summary, trends = app_summary(patient)
    return format_patient_summary(summary, trends)


def system_message(patient: dict[str, Any], system_prompt: str = DEFAULT_SYSTEM_PROMPT) -> str:
    """The system turn as the app sends it: its instructions, a blank line, then the patient summary."""
    context = format_patient_context(patient)
    if system_prompt == DEFAULT_SYSTEM_PROMPT:
        return system_text(context)
    return f"{system_prompt}\n\n{context}"


def user_message(question: str, patient: dict[str, Any]) -> str:
    """The question as the app sends it: followed by the summary lines it is about."""
    return grounded_question(question, format_patient_context(patient))
