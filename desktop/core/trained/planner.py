"""The planner's trained contract: the prompt the planner adapter was trained on and the reply format it
learnt to write (``model_build/data/plans.py`` builds its training data from these very functions).

Changing anything here changes :func:`desktop.core.trained.contract_hash` for the planner role, and the app
then refuses the shipped planner adapter until it is retrained (``make model``): the adapter learnt this
exact text, key order and list of operations. New plan operations are planned by the deterministic parser;
this list stays the one the adapter knows.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from desktop.core.clinical.measurements import load_catalog
from desktop.core.llm.prompt import ChatMessage

if TYPE_CHECKING:
    from desktop.core.assistant.plan import Plan

PLANNER_N_CTX = 2048  # the planner's prompt is about 1,000 tokens (few-shot) or 30 (trained), its reply at most 96
#: The operations the planner may choose (the reply grammar's enum), in the order the adapter was trained on.
PLANNER_OPERATIONS = ("latest", "first", "count", "min", "max", "mean", "median", "change", "last_date",
                      "readings", "in_range", "above", "below", "medications", "allergies", "which_patients",
                      "attention")
NO_PATIENT = " (no patient selected)"
TEXT_MAX = 40


def reply_schema() -> dict[str, Any]:
    """The JSON the model writes. Key order is the order it decides in: what kind of question, about whom,
    which operation, which words name the measurement, the threshold it states, the condition it names."""
    return {
        "type": "object",
        "properties": {
            "kind": {"enum": ["data", "general"]},
            "subject": {"enum": ["patient", "workspace"]},
            "operation": {"enum": list(PLANNER_OPERATIONS)},
            "measurement": {"type": "string", "maxLength": TEXT_MAX},
            "threshold": {"type": ["number", "null"]},
            "condition": {"type": "string", "maxLength": TEXT_MAX},
        },
        "required": ["kind", "subject", "operation", "measurement", "threshold", "condition"],
        "additionalProperties": False,
    }


def reply_json(kind: str = "data", subject: str = "patient", operation: str = "latest", measurement: str = "",
               threshold: float | None = None, condition: str = "") -> str:
    """The reply text exactly as the grammar lets the model write it (json.dumps spacing, schema key order)."""
    return json.dumps({"kind": kind, "subject": subject, "operation": operation, "measurement": measurement,
                       "threshold": threshold, "condition": condition})


PLAN_SYSTEM_PROMPT = (
    "You turn a clinician's question about a health record into a JSON plan. kind: data when the question asks "
    "for recorded values, general otherwise. subject: patient (the selected patient) or workspace (all "
    "patients). operation: latest (newest value), first (oldest value), count (how many readings or "
    "patients), min (lowest), max (highest), mean (average), median, change (trend over time), last_date "
    "(when it was last measured), readings (list them), in_range (is it normal), above or below (readings "
    "past a number), which_patients (list the patients), attention (who is sickest). measurement: the words "
    "of the question that name it, copied exactly, or \"\". threshold: the number the question states, or "
    "null. condition: the diagnosis the question names, copied, or \"\".\nMeasurements: {vocabulary}."
)

# (question, patient selected, reply): the few-shot turns for the plain base. Measurement words are catalog
# names and aliases (checked against the catalog in :func:`_few_shot`).
_SHOTS: tuple[tuple[str, bool, dict[str, Any]], ...] = (
    ("what was the top {HR} we have for her?", True, {"operation": "max", "measurement": "{HR}"}),
    ("tally up the {Weight} measurements", True, {"operation": "count", "measurement": "{Weight}"}),
    ("which patients have a {SBP} above 150?", False,
     {"subject": "workspace", "operation": "which_patients", "measurement": "{SBP}", "threshold": 150}),
    ("on what day was the {Glucose} last taken", True, {"operation": "last_date", "measurement": "{Glucose}"}),
    ("was the {Temp} ever over 38?", True, {"operation": "above", "measurement": "{Temp}", "threshold": 38}),
    ("give me the newest {HbA1c} figure", True, {"operation": "latest", "measurement": "{HbA1c}"}),
    ("what does {Creat} tell us about the kidneys?", True, {"kind": "general"}),
    ("the smallest {SpO2} on file", True, {"operation": "min", "measurement": "{SpO2}"}),
    ("across everyone with asthma, what is the typical {RR}?", False,
     {"subject": "workspace", "operation": "mean", "measurement": "{RR}", "condition": "asthma"}),
    ("has the {eGFR} been drifting?", True, {"operation": "change", "measurement": "{eGFR}"}),
    ("is her {BMI} where it should be?", True, {"operation": "in_range", "measurement": "{BMI}"}),
    ("who should be seen first today?", False, {"subject": "workspace", "operation": "attention"}),
)
_SHOT_WORD = {"HR": "heart rate", "Weight": "weight", "SBP": "systolic", "Glucose": "glucose", "Temp": "temperature",
              "HbA1c": "hba1c", "Creat": "creatinine", "SpO2": "oxygen saturation", "RR": "respiratory rate",
              "eGFR": "egfr", "BMI": "bmi"}


@lru_cache(maxsize=1)
def _few_shot() -> tuple[tuple[str, str], ...]:
    shorts = {m.short: m for m in load_catalog().measurements}
    shots = []
    for question, selected, reply in _SHOTS:
        for short, word in _SHOT_WORD.items():
            m = shorts.get(short)
            if m is None or word not in {a.lower() for a in (m.name, m.short, *m.aliases)}:
                raise RuntimeError(f"the planner's examples use {word!r} for {short}, which the catalog no longer has")
            question = question.replace("{" + short + "}", word)
        filled: dict[str, Any] = {k: (v.replace("{", "").replace("}", "") if isinstance(v, str) else v)
                                  for k, v in reply.items()}
        if "measurement" in filled:
            filled["measurement"] = _SHOT_WORD[filled["measurement"]]
        shots.append((question + ("" if selected else NO_PATIENT), reply_json(**filled)))
    return tuple(shots)


@lru_cache(maxsize=1)
def _vocabulary() -> str:
    return ", ".join(m.name.lower() for m in load_catalog().measurements)


# The prompt the project's planner adapter was trained on: the adapter learnt the schema, the operations and
# the vocabulary from examples, so it needs none of them spelled out; ~15 tokens instead of ~1,000 makes
# training ~8x cheaper per example and a plan faster to start.
TRAINED_SYSTEM_PROMPT = "Write the JSON plan for the clinician's question about a health record."


def plan_prompt_messages(question: str, *, patient_selected: bool, trained: bool = False) -> list[ChatMessage]:
    """THE planner prompt, for the app and for the adapter's training data alike. ``trained=False`` (the plain
    base): system text with the catalog's vocabulary, the few-shot turns, then the question. ``trained=True``
    (the project's adapter is loaded): the short instruction it was trained on, then the question. Nothing in
    either depends on the record, so the prefix stays in the KV cache from one plan to the next."""
    user = ChatMessage("user", question.strip() + ("" if patient_selected else NO_PATIENT))
    if trained:
        return [ChatMessage("system", TRAINED_SYSTEM_PROMPT), user]
    messages = [ChatMessage("system", PLAN_SYSTEM_PROMPT.replace("{vocabulary}", _vocabulary()))]
    for shot_question, reply in _few_shot():
        messages += [ChatMessage("user", shot_question), ChatMessage("assistant", reply)]
    return [*messages, user]


def plan_reply_json(plan: Plan, *, question: str) -> str:
    """The reply the model should write for ``question`` whose right plan is ``plan`` (training targets): the
    longest measurement phrase of the question that names one of the plan's measurements."""
    from desktop.core.assistant.parse import find_measurements, normalise

    if plan.kind != "data":
        return reply_json(kind="general")
    text = normalise(question)
    words = ""
    if plan.measurements:
        wanted = set(plan.measurements)
        for phrase in sorted(_phrases(), key=len, reverse=True):
            if re.search(rf"(?<![\w-]){re.escape(phrase)}", text) and set(find_measurements(phrase)) & wanted:
                words = phrase
                break
    return reply_json(subject=plan.subject, operation=plan.operation, measurement=words, threshold=plan.threshold,
                      condition=plan.cohort.condition or "")


@lru_cache(maxsize=1)
def _phrases() -> tuple[str, ...]:
    from desktop.core.assistant.parse import BLOOD_PRESSURE, _measurement_phrases

    return tuple(p for p, _ in _measurement_phrases()) + BLOOD_PRESSURE
