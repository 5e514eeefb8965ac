"""One entry point for every caller (the panel, the CLI, the evaluation): a question in, an answer out.

A data question is planned, computed by DuckDB and returned with its facts, SQL and rows; anything else
comes back with ``computed=False``, for the language model to answer (its text then goes through the
verifier). Relative windows count back from the newest reading in the record, not from the clock.
"""

from __future__ import annotations

import time

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.execute import record_today, run_plan
from desktop.core.assistant.parse import plan_question
from desktop.core.assistant.plan import Plan, PlanError
from desktop.core.store import Store


def answer_question(store: Store, *, question: str, patient_id: str | None = None) -> Answer:
    started = time.perf_counter()
    try:
        plan = plan_question(question, patient_id=patient_id, today=record_today(store, patient_id))
    except PlanError as exc:
        answer = Answer(Plan("general"), f"Not computed: {exc}", computed=False)
    else:
        if plan.kind == "data":
            answer = run_plan(store, plan)
        elif patient_id is None:
            answer = Answer(plan, "This question is not about the recorded data, and no patient is selected: "
                                  "ask about a patient, or about patients with a condition, a measurement or a range.",
                            computed=False)
        else:
            answer = Answer(plan, "", computed=False)
    answer.seconds = time.perf_counter() - started
    return answer
