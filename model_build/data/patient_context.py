"""The app's compact patient summary, as the chat model sees it.

A pure function of a plain dict, with no imports from the rest of model_build, so the desktop app can
import the very same formatter: the model is fine-tuned on exactly the text the app will give it.

Input shape (all keys but ``name`` optional)::

    {"name": "Jane Doe", "sex": "F", "age": 54,
     "conditions": ["Hypertension", "Type 2 diabetes"],
     "latest": [{"label": "Systolic blood pressure", "value": 152, "unit": "mm[Hg]",
                 "flag": "H", "date": "2024-03-02"}],
     "bp_category": "Hypertension stage 2",
     "news2": {"score": 1, "missing": ["SpO2", "temperature"]},
     "trends": [{"label": "Systolic blood pressure", "from": 138, "to": 152,
                 "unit": "mm[Hg]", "months": 12}]}
"""

from __future__ import annotations

from typing import Any

DEFAULT_SYSTEM_PROMPT = (
    "You are the assistant inside Vitalsight, a clinical data app. Answer the clinician's question "
    "using only the patient summary below. Quote values with their units and dates. If the summary "
    "does not contain the answer, say so. You do not diagnose."
)


def fmt_number(value: float) -> str:
    """152 -> "152", 36.80 -> "36.8": the shortest form that keeps the recorded precision."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _flag(flag: str | None) -> str:
    return flag if flag else "normal"


def _trend(t: dict[str, Any]) -> str:
    a, b, unit = t["from"], t["to"], t.get("unit", "")
    span = f" over {t['months']} months" if t.get("months") else ""
    unit_s = f" {unit}" if unit else ""
    if b > a:
        verb = f"rose from {fmt_number(a)} to {fmt_number(b)}{unit_s}"
    elif b < a:
        verb = f"fell from {fmt_number(a)} to {fmt_number(b)}{unit_s}"
    else:
        verb = f"stayed at {fmt_number(a)}{unit_s}"
    return f"{t['label']} {verb}{span}"


def format_patient_context(patient: dict[str, Any]) -> str:
    """Render the summary exactly in the app's chat-context format (lines joined by "\\n")."""
    who = [x for x in (patient.get("sex"), f"{patient['age']} y" if patient.get("age") is not None else None)
           if x]
    head = f"Patient: {patient['name']}" + (f" ({', '.join(who)})" if who else "") + "."
    conditions = patient.get("conditions") or []
    head += " Conditions: " + ("; ".join(conditions) if conditions else "none recorded") + "."
    lines = [head]
    latest = patient.get("latest") or []
    if latest:
        lines.append("Latest values:")
        for v in latest:
            unit = f" {v['unit']}" if v.get("unit") else ""
            lines.append(f"- {v['label']}: {fmt_number(v['value'])}{unit} ({_flag(v.get('flag'))}, {v['date']})")
    if patient.get("bp_category"):
        lines.append(f"Blood pressure category: {patient['bp_category']}.")
    news2 = patient.get("news2")
    if news2 is not None:
        missing = news2.get("missing") or []
        tail = f" (partial; missing: {', '.join(missing)})" if missing else ""
        lines.append(f"NEWS2: {news2['score']}{tail}.")
    trends = patient.get("trends") or []
    if trends:
        lines.append("Trends: " + "; ".join(_trend(t) for t in trends) + ".")
    return "\n".join(lines)


def system_message(patient: dict[str, Any], system_prompt: str = DEFAULT_SYSTEM_PROMPT) -> str:
    """The system turn the app sends: its instructions, a blank line, then the patient summary."""
    return f"{system_prompt}\n\n{format_patient_context(patient)}"
