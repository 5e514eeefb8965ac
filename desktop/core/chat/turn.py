"""The chat turn, written once: recover interrupted answers, build the context, find or create the
conversation, save the question, stream the answer, save the result. ``python -m desktop chat`` and the
chat benchmark call :func:`chat_turn`; the window runs the same steps split over its two threads.

The context comes from a builder callable and every piece of the answer goes through one ``on_text``
callback, so a later step "answer from computed facts, else ask the model" (desktop/core/assistant/) plugs
in as another builder or another answer source without changing the callers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.verify import Verdict, verify_text
from desktop.core.chat import history as h
from desktop.core.chat.db import DbCalls
from desktop.core.chat.patient_context import patient_context
from desktop.core.chat.persist import StreamingSaver
from desktop.core.chat.session import (
    ChatSettings,
    TurnResult,
    finish_turn,
    prepare_send,
    run_turn,
    title_from,
)
from desktop.core.llm.engine import Engine
from desktop.core.queries.summary import patient_summary
from desktop.core.store import Store

ContextBuilder = Callable[[Store, str], str]  # (store, patient id) -> the facts the model is given


@dataclass(frozen=True)
class ChatTurn:
    conversation_id: int
    result: TurnResult
    verdict: Verdict | None = None


def open_turn(store: Store, *, patient_id: str, conversation_id: int | None = None,
              build_context: ContextBuilder = patient_context) -> tuple[int, str]:
    """Recover interrupted answers, build the context, find or create the conversation (DuckDB thread).
    Raises ``LookupError`` for an unknown patient or a conversation about another patient."""
    h.recover_interrupted(store)
    context = build_context(store, patient_id)
    if conversation_id is not None:
        if h.get_conversation(store, conversation_id=conversation_id).patient_id != patient_id:
            raise LookupError(f"conversation {conversation_id} is about another patient")
    else:
        conversation_id = h.create_conversation(store, patient_id=patient_id).conversation_id
    return conversation_id, context


def chat_turn(*, db: DbCalls, get_engine: Callable[[], Engine], patient_id: str, question: str,
              model_name: str, settings: ChatSettings, on_text: Callable[[str], None],
              conversation_id: int | None = None, cancel: threading.Event | None = None,
              build_context: ContextBuilder = patient_context) -> ChatTurn:
    """One whole turn; database work goes through ``db`` (the one workspace thread), the model runs on the
    calling thread. ``get_engine`` is called only after the patient and conversation are known to exist, so
    a typo costs no model load, and before the question is written. A stop (``cancel``) keeps the partial
    answer, saved as ``stopped``."""
    conv_id, context = db.call(lambda store: open_turn(
        store, patient_id=patient_id, conversation_id=conversation_id, build_context=build_context)).result()
    engine = get_engine()
    request = db.call(lambda store: prepare_send(
        store, conversation_id=conv_id, user_text=question, model_name=model_name, context_text=context,
        settings=settings)).result()
    saver = StreamingSaver(db, lambda store, text: h.update_message_text(
        store, message_id=request.message_id, content=text))
    result = run_turn(engine, request, on_text=on_text, cancel=cancel, saver=saver)
    db.call(lambda store: finish_turn(store, result)).result()
    verdict = db.call(lambda store: verify_answer(store, message_id=request.message_id, patient_id=patient_id)).result()
    return ChatTurn(conv_id, result, verdict)


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
    """Check a model-written answer against the record (every number, unit, date, flag word, sex and age)
    and save the verdict with the message, so the panel, the CLI and an export all show it."""
    row = store.con.execute("SELECT content FROM messages WHERE message_id = ?", [message_id]).fetchone()
    text = str(row[0]) if row else ""
    summary = patient_summary(store, patient_id) if patient_id else None
    verdict = verify_text(text, summary=summary)
    store.con.execute("UPDATE messages SET verdict = ? WHERE message_id = ?", [json.dumps(verdict.to_dict()), message_id])
    return verdict
