"""The chat's trained contract: the system text, the patient context the model reads and the question as it
reaches the model (grounded with the facts it is about). ``model_build`` builds chat training examples with
these same functions, from a workspace (:func:`patient_context`) or from a summary dict
(:func:`context_from_summary`: the same ranking and budget, without a database).
"""

from __future__ import annotations

from typing import Any

from desktop.core.assistant.context import build_patient_context, fit_to_budget, rank_lines
from desktop.core.clinical.display_units import format_value
from desktop.core.trained.grounding import grounded_question
from desktop.core.workspace.store import Store

__all__ = ["CHAT_SYSTEM_PROMPT", "CONTEXT_BUDGET_TOKENS", "context_from_summary", "estimate_tokens",
           "format_number", "grounded_question", "patient_context", "system_text"]

CHAT_SYSTEM_PROMPT = (
    "You are a clinical assistant inside Vitalsight, helping a clinician review one patient's record. "
    "Answer from the patient facts below and quote their values with units and dates. If a fact is not "
    "listed, say that it is not recorded; never invent values. Be brief. You support and do not replace "
    "clinical judgement."
)

# What the patient's facts may take of the context, counted conservatively (about three characters a token
# for text full of numbers and units): with the system prompt, the history and a 512-token answer it fits a
# 4,096-token context, so a ten-year record with 150 kinds of observation never makes the assistant refuse.
CONTEXT_BUDGET_TOKENS = 1800

format_number = format_value  # numbers written exactly as the context writes them


def system_text(context_text: str) -> str:
    """The system turn: the instructions, a blank line, then the patient's facts (none: the instructions)."""
    return f"{CHAT_SYSTEM_PROMPT}\n\n{context_text}" if context_text else CHAT_SYSTEM_PROMPT


def estimate_tokens(text: str) -> int:
    return len(text) // 3 + 1


def patient_context(store: Store, patient_id: str) -> str:
    """The facts the model reads about ``patient_id``: ranked (vitals, abnormal results, active conditions,
    recent trends; survey and QALY/DALY rows left out; a death said) and cut to a token budget
    (``desktop/core/assistant/context.py``)."""
    return build_patient_context(store, patient_id=patient_id, question="", budget_tokens=CONTEXT_BUDGET_TOKENS,
                                 count_tokens=estimate_tokens).text


def context_from_summary(summary: dict[str, Any]) -> str:
    """:func:`patient_context` for a summary dict already in hand (the shape of ``patient_summary`` plus
    ``trends`` as ``recent_trends`` returns them): the same lines, ranking and budget."""
    lines, _ = rank_lines(summary, question="")
    return fit_to_budget(lines, budget_tokens=CONTEXT_BUDGET_TOKENS, count_tokens=estimate_tokens,
                         summary=summary).text
