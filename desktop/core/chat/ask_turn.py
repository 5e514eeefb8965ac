"""A question, from the words typed to the saved answer, written once: the window's model thread, ``python -m
desktop chat``, the evaluations and the chat benchmark all call :func:`ask_turn`.

    parse (DuckDB)  ->  plan with the model, only when the parser is unsure (model thread)
      ->  compute and save (DuckDB)  ->  or stream the model's prose, save and verify it (model + DuckDB)

Each step is told to the caller as an event (:data:`TurnEvent`), in order, on the calling thread (the model
thread in the window): the window's adapter turns them into signals, the CLI prints them.

**When the model plans** (the one rule, :func:`model_should_plan`): the exact parser made a data plan but left
words of the question unread. Not when the parser read every word (its plan is exact), nor when it made no
data plan: a question it reads as general goes to the model's prose without paying for a plan first, and a
data question the plan language cannot express is declined by the parser rather than guessed by a 135M
model. The held-out evaluation (benchmarks/eval_assistant_heldout.py) measures this same rule.

Database steps run through ``db.call`` (the one DuckDB thread) and are waited for; the model runs here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.ask import ParsedQuestion, answer_parsed, parse_question
from desktop.core.assistant.model_plan import MIN_CONFIDENCE, ModelPlanOutcome, plan_with_model
from desktop.core.assistant.verify import Span
from desktop.core.chat.db import DbCalls
from desktop.core.chat.persist import SAVE_INTERVAL_S
from desktop.core.chat.session import ChatSettings, TurnRequest
from desktop.core.chat.turn import ChatTurn, ContextBuilder, Send, chat_turn, computed_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.prompt import PromptPlan
from desktop.core.trained import patient_context
from desktop.core.workspace import audit
from desktop.core.workspace.store import Store


@dataclass(frozen=True)
class Parsed:
    parsed: ParsedQuestion


@dataclass(frozen=True)
class Planned:
    outcome: ModelPlanOutcome


@dataclass(frozen=True)
class Computed:
    """DuckDB computed the answer; question and answer are saved in ``conversation_id``."""

    answer: Answer
    conversation_id: int


@dataclass(frozen=True)
class NotAnswered:
    """Neither computed nor for the model (no patient selected, or no model): ``answer.text`` says why."""

    answer: Answer


@dataclass(frozen=True)
class Started:
    """The model answers: the question and an empty answer are saved (``request.message_id``)."""

    request: TurnRequest


@dataclass(frozen=True)
class PromptReady:
    plan: PromptPlan


@dataclass(frozen=True)
class Streamed:
    text: str


@dataclass(frozen=True)
class Checked:
    spans: list[Span]


@dataclass(frozen=True)
class Saved:
    """The model's answer is saved with its verdict (``turn.verdict``: checked against the record)."""

    turn: ChatTurn


TurnEvent = Parsed | Planned | Computed | NotAnswered | Started | PromptReady | Streamed | Checked | Saved


@dataclass(frozen=True)
class AskResult:
    parsed: ParsedQuestion
    answer: Answer                      # computed, or ``computed=False`` (then ``chat`` holds the prose)
    planned: ModelPlanOutcome | None = None
    conversation_id: int | None = None
    chat: ChatTurn | None = None


def model_should_plan(parsed: ParsedQuestion) -> bool:
    """THE rule for asking the model planner (see the module's docstring for why)."""
    return parsed.wants_model_plan


def _parse_and_audit(store: Store, question: str, patient_id: str | None, record: bool) -> ParsedQuestion:
    if record:
        audit.record_question(store, patient_id=patient_id)
    return parse_question(store, question=question, patient_id=patient_id)


def ask_turn(*, db: DbCalls, question: str, patient_id: str | None, settings: ChatSettings, model_name: str,
             chat_engine: Callable[[], Engine] | None, planner: Callable[[], Engine] | None,
             conversation_id: int | None = None, on_event: Callable[[TurnEvent], None] = lambda _e: None,
             cancel: threading.Event | None = None, build_context: ContextBuilder = patient_context,
             save_interval_s: float = SAVE_INTERVAL_S, stream_saves: bool = True, record_audit: bool = True,
             check_while_streaming: bool = True, plan_confidence: float = MIN_CONFIDENCE) -> AskResult:
    """Answer ``question`` about ``patient_id`` (None: the workspace). ``planner`` and ``chat_engine`` give the
    engines, loaded on first use (None: no model; a data question is still computed). ``record_audit``
    writes the ``question_asked`` entry (the evaluations, on a copy of a workspace, leave it out)."""
    parsed = db.call(lambda store: _parse_and_audit(store, question, patient_id, record_audit)).result()
    on_event(Parsed(parsed))
    outcome = None
    if planner is not None and model_should_plan(parsed):
        try:
            outcome = plan_with_model(planner(), question=question, patient_id=patient_id, today=parsed.today,
                                      cancel=cancel, min_confidence=plan_confidence)
        except Exception as exc:  # noqa: BLE001 (the parser's plan still runs, marked: the planner only helps)
            outcome = ModelPlanOutcome(None, reason=f"the on-device planner could not run ({exc})")
        on_event(Planned(outcome))
        if outcome.reason == "stopped":
            outcome = None  # stopped while planning: the parser's plan still answers, marked as unsure

    def compute(store: Store) -> tuple[Answer, int | None]:
        answer = answer_parsed(store, parsed, model_plan=outcome)
        if not answer.computed:
            return answer, None
        return answer, computed_turn(store, patient_id=patient_id, question=question, answer=answer,
                                     conversation_id=conversation_id)

    answer, conv = db.call(compute).result()
    if conv is not None:
        on_event(Computed(answer, conv))
        return AskResult(parsed, answer, outcome, conv)
    if patient_id is None or chat_engine is None:
        if patient_id is not None:
            answer.text = answer.text or "The model is not loaded, and this question is not one DuckDB computes."
        on_event(NotAnswered(answer))
        return AskResult(parsed, answer, outcome)
    turn = chat_turn(db=db, get_engine=chat_engine, patient_id=patient_id, action=Send(question),
                     model_name=model_name, settings=settings, on_text=lambda t: on_event(Streamed(t)),
                     conversation_id=conversation_id, cancel=cancel, build_context=build_context,
                     on_started=lambda r: on_event(Started(r)), on_plan=lambda p: on_event(PromptReady(p)),
                     stream_saves=stream_saves, save_interval_s=save_interval_s,
                     on_checked=(lambda s: on_event(Checked(s))) if check_while_streaming else None)
    on_event(Saved(turn))
    return AskResult(parsed, answer, outcome, turn.conversation_id, turn)
