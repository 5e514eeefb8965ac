"""The chat turn, written once: recover interrupted answers, build the context, find or create the
conversation, prepare (send, regenerate or edit-and-resend), stream the answer, save the result and check
it against the record. ``python -m desktop chat``, the chat benchmark and the window's model owner thread
(desktop/ui/chat/model_worker.py) all call :func:`chat_turn`; :func:`warm_turn` is the background step
that evaluates the system prompt and patient context before the first question (issue 9, speed).

Database work goes through ``db.call`` (the one DuckDB thread) and is waited for; the model runs on the
calling thread. Every piece of the answer goes through one ``on_text`` callback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.verify import Span, Verdict
from desktop.core.assistant.verify_patient import patient_verifier, verify_for_patient
from desktop.core.chat import history as h
from desktop.core.chat.db import DbCalls
from desktop.core.chat.persist import SAVE_INTERVAL_S, StreamingSaver
from desktop.core.chat.session import (
    ChatSettings,
    TurnRequest,
    TurnResult,
    finish_turn,
    prepare_edit,
    prepare_regenerate,
    prepare_send,
    run_turn,
    system_text,
    title_from,
)
from desktop.core.llm.engine import Engine
from desktop.core.llm.prompt import ChatMessage, PromptPlan
from desktop.core.trained import patient_context
from desktop.core.workspace.store import Store

ContextBuilder = Callable[[Store, str], str]  # (store, patient id) -> the facts the model is given


@dataclass(frozen=True)
class Send:
    """A new question at the end of the conversation (a new conversation when none is given)."""

    question: str


@dataclass(frozen=True)
class Regenerate:
    """Answer the last question again; the old answer stays in the workspace, superseded."""


@dataclass(frozen=True)
class EditResend:
    """Replace one of the user's messages (it and everything after it are superseded) and answer it."""

    message_id: int
    new_text: str


TurnAction = Send | Regenerate | EditResend


@dataclass(frozen=True)
class ChatTurn:
    conversation_id: int
    result: TurnResult
    verdict: Verdict | None = None
    saves: int = 0   # writes of the text while it streamed (the benchmark reports them)


def open_turn(store: Store, *, patient_id: str, conversation_id: int | None = None,
              build_context: ContextBuilder = patient_context) -> tuple[int | None, str]:
    """Recover interrupted answers, build the context and check the conversation (DuckDB thread). Raises
    ``LookupError`` for an unknown patient or a conversation about another patient. The conversation is
    created later, by :func:`prepare`, so a turn that cannot start (no model) leaves nothing behind."""
    h.recover_interrupted(store)
    context = build_context(store, patient_id)
    if conversation_id is not None and h.get_conversation(
            store, conversation_id=conversation_id).patient_id != patient_id:
        raise LookupError(f"conversation {conversation_id} is about another patient")
    return conversation_id, context


def prepare(store: Store, *, action: TurnAction, patient_id: str, conversation_id: int | None, model_name: str,
            context_text: str, settings: ChatSettings) -> TurnRequest:
    """Save what the action writes before the model runs (DuckDB thread); the answer starts ``generating``."""
    if isinstance(action, Send):
        if conversation_id is None:
            conversation_id = h.create_conversation(store, patient_id=patient_id).conversation_id
        return prepare_send(store, conversation_id=conversation_id, user_text=action.question,
                            model_name=model_name, context_text=context_text, settings=settings)
    if conversation_id is None:
        raise ValueError("regenerate and edit need a conversation")
    if isinstance(action, Regenerate):
        return prepare_regenerate(store, conversation_id=conversation_id, model_name=model_name,
                                  context_text=context_text, settings=settings)
    return prepare_edit(store, conversation_id=conversation_id, message_id=action.message_id,
                        new_text=action.new_text, model_name=model_name, context_text=context_text,
                        settings=settings)


def chat_turn(*, db: DbCalls, get_engine: Callable[[], Engine], patient_id: str, action: TurnAction,
              model_name: str, settings: ChatSettings, on_text: Callable[[str], None],
              conversation_id: int | None = None, cancel: threading.Event | None = None,
              build_context: ContextBuilder = patient_context,
              on_started: Callable[[TurnRequest], None] | None = None,
              on_plan: Callable[[PromptPlan], None] | None = None,
              stream_saves: bool = True, save_interval_s: float = SAVE_INTERVAL_S,
              on_checked: Callable[[list[Span]], None] | None = None) -> ChatTurn:
    """One whole turn. ``get_engine`` is called only after the patient and conversation are known to exist,
    so a typo costs no model load, and before anything is written. ``on_started`` gets the prepared request
    (its question and the empty answer are on disk); a stop (``cancel``) keeps the partial answer, saved as
    ``stopped``. ``stream_saves=False`` leaves out the writes while streaming (the benchmark shows their
    cost); the final text is always saved. ``on_checked`` gets the spans of each sentence as soon as it is
    complete, judged against the record while the rest is still being written (the saved verdict, made on
    the whole text at the end, is the one that stays)."""
    conv_id, context = db.call(lambda store: open_turn(
        store, patient_id=patient_id, conversation_id=conversation_id, build_context=build_context)).result()
    engine = get_engine()
    request = db.call(lambda store: prepare(
        store, action=action, patient_id=patient_id, conversation_id=conv_id, model_name=model_name,
        context_text=context, settings=settings)).result()
    if on_started is not None:
        on_started(request)

    def save(store: Store, text: str) -> None:
        if stream_saves:
            h.update_message_text(store, message_id=request.message_id, content=text)

    saver = StreamingSaver(db, save, min_interval_s=save_interval_s)
    shown = on_text
    if on_checked is not None:
        verifier = db.call(lambda store: patient_verifier(store, patient_id)).result()

        def shown(text: str) -> None:
            on_text(text)
            spans = verifier.feed(text)
            if spans:
                on_checked(spans)

    result = run_turn(engine, request, on_text=shown, cancel=cancel, saver=saver, on_plan=on_plan)
    db.call(lambda store: finish_turn(store, result)).result()
    verdict = None
    if result.text:
        verdict = db.call(lambda store: verify_answer(
            store, message_id=request.message_id, patient_id=patient_id)).result()
    return ChatTurn(request.conversation_id, result, verdict, saver.writes)


def warm_prompt(engine: Engine, context_text: str) -> list[int]:
    """The tokens every turn about this patient starts with: the system prompt and the patient's facts,
    rendered by the model's own template exactly as :func:`desktop.core.llm.prompt.build_prompt` renders
    them before the first user turn (the template's special tokens end the system turn, so tokenizing the
    part alone gives the same ids as tokenizing the whole prompt)."""
    text = engine.chat_template.render([ChatMessage("system", system_text(context_text))],
                                       add_generation_prompt=False)
    return engine.tokenize(text)


def warm_turn(*, db: DbCalls, engine: Engine, patient_id: str, cancel: threading.Event | None = None,
              build_context: ContextBuilder = patient_context) -> int:
    """Evaluate the prompt prefix for ``patient_id`` into the model's KV cache, so the first question only
    evaluates itself (llama.cpp keeps the evaluated tokens; :meth:`Engine.generate` reuses the common
    prefix). Stops between small batches when ``cancel`` is set: a question asked meanwhile is not held up
    for long, and what was evaluated is still reused. Returns the tokens now in the cache for this prefix."""
    context = db.call(lambda store: build_context(store, patient_id)).result()
    if cancel is not None and cancel.is_set():
        return 0
    return engine.warm(warm_prompt(engine, context), cancel=cancel)


#: ``conversations.patient_id`` of a conversation about the workspace as a whole (no patient selected).
WORKSPACE_SUBJECT = ""
COMPUTED_MODEL = "computed from the workspace (DuckDB)"


def computed_turn(store: Store, *, patient_id: str | None, question: str, answer: Answer,
                  conversation_id: int | None = None) -> int:
    """Save a turn whose answer DuckDB computed: the question and the answer, each committed as it is
    written, the answer's plan, SQL and facts kept with it (``context_summary`` holds them as JSON, so an
    export carries how every figure was computed). Returns the conversation id."""
    subject = patient_id or WORKSPACE_SUBJECT
    if conversation_id is None:
        conversation_id = h.create_conversation(store, patient_id=subject, title=title_from(question)).conversation_id
    elif h.get_conversation(store, conversation_id=conversation_id).patient_id != subject:
        raise LookupError(f"conversation {conversation_id} is about another subject")
    h.add_message(store, conversation_id=conversation_id, role="user", content=question)
    h.add_message(store, conversation_id=conversation_id, role="assistant", content=answer.text,
                  model=COMPUTED_MODEL, context_summary=json.dumps(answer.to_dict(), default=str))
    return conversation_id


def verify_answer(store: Store, *, message_id: int, patient_id: str | None) -> Verdict:
    """Check a model-written answer against the record (every number, unit, date, flag word, sex and age;
    diagnoses, drugs, visits, procedures, immunizations, allergies, yes/no claims and counts of events) and save the verdict with the message, so the panel, the CLI and an export all show it."""
    row = store.con.execute("SELECT content FROM messages WHERE message_id = ?", [message_id]).fetchone()
    text = str(row[0]) if row else ""
    verdict = verify_for_patient(store, text, patient_id=patient_id)
    store.con.execute("UPDATE messages SET verdict = ? WHERE message_id = ?", [json.dumps(verdict.to_dict()), message_id])
    return verdict
