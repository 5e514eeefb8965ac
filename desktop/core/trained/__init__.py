"""Everything a shipped model was trained on, in one place, and its fingerprint.

A LoRA adapter learns the exact text it is shown: the planner adapter learnt the planner's short system
prompt, the question's format and the JSON reply's keys, order and operations (:mod:`.planner`); a chat
adapter would learn the system text, the patient context and the grounded question (:mod:`.chat`). Edit any
of them and the shipped adapter silently answers a prompt it never saw. So:

* the app and ``model_build`` both build those texts only through this package (an import-linter contract
  keeps ``model_build`` from reaching around it into ``desktop.core``);
* :func:`contract_hash` fingerprints each role's contract by rendering it on fixed probes (a refactor that
  changes no text keeps the hash; any change to what the model sees changes it);
* ``model_build`` records the hashes in the adapter's manifest (``contracts``), the app refuses an adapter
  for a role whose contract changed (``desktop.core.llm.load``), and a test fails the build when the
  contract changes without a retrained adapter (tests/core/test_llm_trained_contract.py).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from desktop.core.llm.manifest import CHAT_ROLE, PLANNER_ROLE
from desktop.core.trained.chat import (
    CHAT_SYSTEM_PROMPT,
    CONTEXT_BUDGET_TOKENS,
    context_from_summary,
    estimate_tokens,
    format_number,
    grounded_question,
    patient_context,
    system_text,
)
from desktop.core.trained.planner import (
    NO_PATIENT,
    PLANNER_N_CTX,
    PLANNER_OPERATIONS,
    TRAINED_SYSTEM_PROMPT,
    plan_prompt_messages,
    plan_reply_json,
    reply_json,
    reply_schema,
)

__all__ = [
    "CHAT_ROLE",
    "CHAT_SYSTEM_PROMPT",
    "CONTEXT_BUDGET_TOKENS",
    "NO_PATIENT",
    "PLANNER_N_CTX",
    "PLANNER_OPERATIONS",
    "PLANNER_ROLE",
    "TRAINED_SYSTEM_PROMPT",
    "context_from_summary",
    "contract_hash",
    "contract_probe",
    "estimate_tokens",
    "format_number",
    "grounded_question",
    "patient_context",
    "plan_prompt_messages",
    "plan_reply_json",
    "reply_json",
    "reply_schema",
    "system_text",
]

_PLANNER_QUESTIONS = ("what was her highest pulse in 2021?", "  Which patients have a systolic above 150? ")
_CHAT_SUMMARY: dict[str, Any] = {
    "patient": {"id": "p1", "name": "Jane Doe", "sex": "F", "age": 54, "conditions": ["Hypertension"]},
    "latest": [
        {"code": "8480-6", "name": "Systolic blood pressure", "category": "vital", "value": 152.0,
         "unit": "mm[Hg]", "flag": "H", "rule": "H: >= 130 mm[Hg] (ACC/AHA 2017 (Whelton): normal < 120)",
         "observed_at": "2024-03-02T09:30:00", "count": 4},
        {"code": "8867-4", "name": "Heart rate", "category": "vital", "value": 88, "unit": "/min", "flag": "N",
         "observed_at": "2024-03-02T09:30:00"},
        {"code": "2345-7", "name": "Glucose", "category": "lab", "value": 99, "unit": "mg/dL", "flag": "N",
         "observed_at": "2024-02-01T08:00:00"},
    ],
    "bp_category": "Hypertension stage 2",
    "news2": {"score": 1, "partial": True, "risk_text": "low", "observed_at": "2024-03-02T09:30:00"},
    "trends": [{"code": "8480-6", "first": 138.0, "first_at": "2023-03-02T09:00:00", "last": 152.0,
                "last_at": "2024-03-02T09:30:00", "unit": "mm[Hg]", "n": 4, "change": 0.1}],
}


def contract_probe(role: str) -> dict[str, Any]:
    """What a model trained for ``role`` is shown, rendered on fixed inputs (what :func:`contract_hash`
    fingerprints; a failing contract test prints it)."""
    if role == PLANNER_ROLE:
        prompts = [[(m.role, m.content) for m in plan_prompt_messages(q, patient_selected=s, trained=True)]
                   for q in _PLANNER_QUESTIONS for s in (True, False)]
        replies = [reply_json(), reply_json(kind="general"),
                   reply_json(subject="workspace", operation="which_patients", measurement="systolic",
                              threshold=150.5, condition="asthma")]
        return {"n_ctx": PLANNER_N_CTX, "prompts": prompts, "schema": reply_schema(), "replies": replies}
    if role == CHAT_ROLE:
        context = context_from_summary(_CHAT_SUMMARY)
        return {"system": system_text(context), "bare_system": system_text(""),
                "questions": [grounded_question(q, context) for q in ("What is her latest SBP?", "Any fever?",
                                                                      "Tell me a joke")]}
    raise ValueError(f"no trained contract for the role {role!r}")


def contract_hash(role: str) -> str:
    """sha256 of :func:`contract_probe` for ``role`` (``planner`` or ``chat``)."""
    text = json.dumps(contract_probe(role), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def contract_hashes() -> dict[str, str]:
    """Every role's hash, as ``model_build`` writes them into an adapter's manifest (``contracts``)."""
    return {role: contract_hash(role) for role in (PLANNER_ROLE, CHAT_ROLE)}
