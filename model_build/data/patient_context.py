"""The patient context a fine-tuned model will read, produced by the app's own builder.

The app builds its chat context with ``desktop.core.trained.patient_context`` (ranked lines cut to a token
budget, ``desktop/core/assistant/context.py``), its system prompt with ``system_text`` and the question with
``grounded_question``: the chat's trained contract, ``desktop.core.trained``. Training examples go through
the very same functions (:func:`context_from_summary` is the builder without a database), so the model is
fine-tuned on exactly the text the app gives it.

This module only adapts model_build's synthetic patients (plain dicts) to the app's summary shape::

    {"name": "Jane Doe", "sex": "F", "age": 54, "conditions": ["Hypertension"],
     "latest": [{"label": "Systolic blood pressure", "value": 152, "unit": "mm[Hg]",
                 "flag": "H", "date": "2024-03-02"}],
     "bp_category": "Hypertension stage 2",
     "news2": {"score": 1, "missing": ["SpO2", "temperature"]},
     "trends": [{"label": "Systolic blood pressure", "from": 138, "to": 152, "unit": "mm[Hg]", "months": 12}]}
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from desktop.core.trained import (
    CHAT_SYSTEM_PROMPT,
    context_from_summary,
    format_number,
    grounded_question,
    system_text,
)
from desktop.core.trained.toolkit import load_catalog

DEFAULT_SYSTEM_PROMPT = CHAT_SYSTEM_PROMPT
fmt_number = format_number  # numbers in answers are written exactly as the context writes them


def category(label: str) -> str:
    """'vital' or 'lab' as the app's catalog says; the app lists in-range labs by name only."""
    m = load_catalog().by_name(label)
    return m.category if m else "vital"


def _code(label: str) -> str:
    m = load_catalog().by_name(label)
    return m.code if m else label


def app_summary(patient: dict[str, Any]) -> dict[str, Any]:
    """The app's ``patient_summary`` dict, with its ``trends`` as ``recent_trends`` returns them."""
    summary: dict[str, Any] = {
        "patient": {"id": patient["name"], "name": patient["name"], "sex": patient.get("sex"),
                    "age": patient.get("age"), "conditions": list(patient.get("conditions") or [])},
        "latest": [
            {"code": _code(v["label"]), "name": v["label"], "category": category(v["label"]), "value": v["value"],
             "unit": v.get("unit"), "flag": v.get("flag") or "N", "observed_at": v["date"]}
            for v in patient.get("latest") or []
        ],
        "bp_category": patient.get("bp_category"),
        "news2": None,
    }
    news2 = patient.get("news2")
    if news2 is not None:
        missing = list(news2.get("missing") or [])
        summary["news2"] = {"score": news2["score"], "partial": bool(missing), "missing": missing,
                            "risk_text": "low" if news2["score"] <= 4 else "medium" if news2["score"] <= 6 else "high",
                            "observed_at": max((v["date"] for v in patient.get("latest") or []), default="")}
    newest = {v["label"]: v["date"] for v in patient.get("latest") or []}
    trends = []
    for t in patient.get("trends") or []:
        last_at = str(newest.get(t["label"]) or "2024-01-01")[:10]
        first_at = date.fromisoformat(last_at) - timedelta(days=round(float(t.get("months") or 0) * 30.44))
        trends.append({"code": _code(t["label"]), "first": t["from"], "first_at": first_at.isoformat(),
                       "last": t["to"], "last_at": last_at, "unit": t.get("unit") or "", "n": 2,
                       "change": abs(t["to"] - t["from"]) / abs(t["from"]) if t["from"] else 0.0})
    summary["trends"] = trends
    return summary


def format_patient_context(patient: dict[str, Any]) -> str:
    return context_from_summary(app_summary(patient))


def system_message(patient: dict[str, Any], system_prompt: str = DEFAULT_SYSTEM_PROMPT) -> str:
    """The system turn as the app sends it: its instructions, a blank line, then the patient summary."""
    context = format_patient_context(patient)
    if system_prompt == DEFAULT_SYSTEM_PROMPT:
        return system_text(context)
    return f"{system_prompt}\n\n{context}"


def user_message(question: str, patient: dict[str, Any]) -> str:
    """The question as the app sends it: followed by the summary lines it is about."""
    return grounded_question(question, format_patient_context(patient))
