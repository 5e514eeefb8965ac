"""One entry point for every caller (the panel, the CLI, the evaluation): a question in, an answer out.

A data question is planned, computed by DuckDB and returned with its facts, SQL and rows; anything else
comes back with ``computed=False``, for the language model to answer (its text then goes through the
verifier). Relative windows count back from the newest reading in the record, not from the clock.

When the deterministic parser is unsure of its plan and a model is at hand, the model may plan it
(``model_plan.py``). The work falls in three steps on two threads, which
:func:`desktop.core.chat.ask_turn.ask_turn` runs for every caller (and :func:`answer_question` on one
thread, for tests):

    parsed = parse_question(store, question=q, patient_id=pid)           # DuckDB thread
    outcome = plan_with_model(engine, question=q, patient_id=pid,         # model thread, only when
                              today=parsed.today) if parsed.wants_model_plan else None   # the parser is unsure
    answer = answer_parsed(store, parsed, model_plan=outcome)             # DuckDB thread
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.execute import record_today, run_plan
from desktop.core.assistant.model_plan import ModelPlanOutcome
from desktop.core.assistant.plan import Plan
from desktop.core.assistant.read_question import read_question
from desktop.core.workspace.store import Store

PARSER_UNSURE = ("Check the plan under \"How this was computed\": the exact parser did not read every word of "
                 "this question ({words}), so this may not be what was asked.")
MODEL_PLANNED = ("Planned by the on-device model, not the exact parser: check the plan under \"How this was "
                 "computed\" before relying on this figure.")


class FallbackPlanner(Protocol):
    """``plan_with_model`` with its engine bound (``functools.partial(plan_with_model, engine)``)."""

    def __call__(self, *, question: str, patient_id: str | None, today: date) -> ModelPlanOutcome: ...


@dataclass(frozen=True)
class ParsedQuestion:
    """The parser's part: its plan (or why it could not make a valid one) and the record's today."""

    question: str
    patient_id: str | None
    today: date
    plan: Plan
    error: str | None = None
    seconds: float = 0.0
    unread: tuple[str, ...] = ()   # words of the question the parser's data plan does not account for
    # The patient the question names by id or by name, when it names one (its plan is about them);
    # ``patient_id`` stays the caller's (the conversation's subject).
    named_patient_id: str | None = None

    @property
    def wants_model_plan(self) -> bool:
        """THE rule for asking the model planner, for every caller (``desktop.core.chat.ask_turn``): the parser
        made a data plan but left words of the question unread. A question the parser reads as general goes to
        the chat model without paying for a plan first; one it reads completely needs no help."""
        return self.error is None and self.plan.kind == "data" and bool(self.unread)


def parse_question(store: Store, *, question: str, patient_id: str | None = None) -> ParsedQuestion:
    """Step 1, on the DuckDB thread: the deterministic plan (reads only the record's newest date)."""
    started = time.perf_counter()
    # The patient the question names (by id or by name) is read like any other word and becomes its patient.
    read = read_question(store, question, patient_id, record_today)
    named = read.patient_id if read.patient_id != patient_id else None
    return ParsedQuestion(question, patient_id, read.today, read.plan, read.error,
                          time.perf_counter() - started, read.unread, named)


def answer_parsed(store: Store, parsed: ParsedQuestion, *, model_plan: ModelPlanOutcome | None = None) -> Answer:
    """Step 3, on the DuckDB thread: run the parser's data plan, else the model's checked plan (its answer
    marked as planned by the model), else hand the question on (``computed=False``)."""
    started = time.perf_counter()
    model_info = model_plan.to_dict() if model_plan is not None else None
    if parsed.plan.kind == "declined":  # contracts.md 1: one sentence, no facts, never the language model
        answer = Answer(parsed.plan, parsed.plan.decline, declined=True)
    elif parsed.error is not None:
        answer = Answer(Plan("general"), f"Not computed: {parsed.error}", computed=False)
    elif parsed.plan.kind == "data" and not parsed.unread:
        answer = run_plan(store, parsed.plan)
    elif model_plan is not None and model_plan.plan is not None and model_plan.plan.kind == "data":
        answer = run_plan(store, model_plan.plan)
        answer.text = f"{MODEL_PLANNED}\n{answer.text}"
        answer.planner, answer.model_plan = "model", model_info
    elif model_plan is not None and model_plan.reason == "stopped":
        answer = Answer(Plan("general"), "Stopped before the model made a plan.", computed=False, planner="model",
                        model_plan=model_info)
    elif parsed.plan.kind == "data":  # the parser was unsure and the model made no better plan: marked
        answer = run_plan(store, parsed.plan)
        words = ", ".join(repr(w) for w in parsed.unread)
        answer.text = f"{PARSER_UNSURE.format(words=words)}\n{answer.text}"
        answer.planner, answer.model_plan = "parser_unsure", model_info
    elif model_plan is not None and model_plan.plan is None:
        answer = Answer(Plan("general"), "Not computed: the exact parser does not know this wording, and the "
                                         f"on-device model's plan was not used ({model_plan.reason}).",
                        computed=False, planner="model", model_plan=model_info)
    elif parsed.patient_id is None and parsed.named_patient_id is None:
        answer = Answer(parsed.plan, "This question is not about the recorded data, and no patient is selected: "
                                     "ask about a patient, or about patients with a condition, a measurement or a "
                                     "range.", computed=False, model_plan=model_info)
    else:
        answer = Answer(parsed.plan, "", computed=False, model_plan=model_info)
    answer.seconds = parsed.seconds + (model_plan.seconds if model_plan else 0.0) + time.perf_counter() - started
    return answer


def answer_question(store: Store, *, question: str, patient_id: str | None = None,
                    fallback_planner: FallbackPlanner | None = None) -> Answer:
    """All three steps on the calling thread (the CLI and the evaluation own both store and model)."""
    parsed = parse_question(store, question=question, patient_id=patient_id)
    outcome = None
    if fallback_planner is not None and parsed.wants_model_plan:
        outcome = fallback_planner(question=question, patient_id=parsed.named_patient_id or parsed.patient_id,
                                   today=parsed.today)
    return answer_parsed(store, parsed, model_plan=outcome)
