"""One chat turn, from the user's message to the saved answer, without Qt.

The steps run on two threads, in the app and in the CLI alike:

* ``prepare_*`` (DuckDB thread): save the user's message, create the assistant message with status
  ``generating`` and collect the history the model will see;
* :func:`run_turn` (model owner thread): fit the prompt, stream the answer, hand each piece to the caller
  and the text so far to a :class:`StreamingSaver`;
* :func:`finish_turn` (DuckDB thread): write the final text, status and figures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.core.chat import history as h
from desktop.core.chat.persist import StreamingSaver
from desktop.core.llm.engine import Engine, GenerationStats, SamplingParams
from desktop.core.llm.prompt import ChatMessage, PromptPlan, PromptTooLong, build_prompt
from desktop.core.llm.threads import physical_cores
from desktop.core.trained import CHAT_SYSTEM_PROMPT, grounded_question, system_text
from desktop.core.workspace.store import Store

__all__ = ["DISCLAIMER", "SYSTEM_PROMPT", "ChatSettings", "TurnRequest", "TurnResult", "finish_turn",
           "prepare_edit", "prepare_regenerate", "prepare_send", "run_turn", "system_text", "title_from"]

DISCLAIMER = "The assistant supports and does not replace clinical judgement."

SYSTEM_PROMPT = CHAT_SYSTEM_PROMPT  # the chat's trained contract (desktop/core/trained/chat.py)


def _default_threads() -> int:
    """The physical cores (desktop/core/llm/threads.py): ggml's threads spin while waiting, so more than the
    cores slows generation; fewer leaves speed unused."""
    return min(256, physical_cores())


@dataclass(frozen=True)
class ChatSettings:
    """What the user can set for the chat; the lead's QSettings layer persists it field by field."""

    n_threads: int = field(default_factory=_default_threads)
    n_ctx: int = 4096
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 512
    repeat_penalty: float = 1.1  # not in the settings dialog; SmolLM-size models loop without it
    use_adapter: bool = True  # the project's LoRA adapter over the default model (model_files.adapter_for)

    def problems(self) -> list[str]:
        """Every invalid field at once (empty when valid)."""
        out = []
        if not 1 <= self.n_threads <= 256:
            out.append(f"threads must be 1-256, not {self.n_threads}")
        if not 256 <= self.n_ctx <= 131072:
            out.append(f"context size must be 256-131072 tokens, not {self.n_ctx}")
        if not 0.0 <= self.temperature <= 2.0:
            out.append(f"temperature must be 0-2, not {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            out.append(f"top-p must be in (0, 1], not {self.top_p}")
        if not 1 <= self.max_tokens < self.n_ctx:
            out.append(f"max tokens must be 1 to context size - 1, not {self.max_tokens}")
        return out

    def sampling(self) -> SamplingParams:
        return SamplingParams(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                              repeat_penalty=self.repeat_penalty)


@dataclass(frozen=True)
class TurnRequest:
    conversation_id: int
    message_id: int                 # the assistant message being written
    history: list[ChatMessage]      # the active conversation, ending with the user's message
    context_text: str               # the patient summary
    settings: ChatSettings


@dataclass(frozen=True)
class TurnResult:
    message_id: int
    text: str
    status: str                     # complete, truncated (max tokens / full context), stopped, failed
    stats: GenerationStats | None = None
    plan: PromptPlan | None = None
    error: str | None = None


def _as_chat(messages: list[h.Message]) -> list[ChatMessage]:
    return [ChatMessage(m.role, m.content) for m in messages if m.content or m.role == "user"]


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57] + "…"


def prepare_send(store: Store, *, conversation_id: int, user_text: str, model_name: str, context_text: str,
                 settings: ChatSettings) -> TurnRequest:
    """Save the user's message and an empty ``generating`` answer; both are on disk when this returns."""
    before = h.active_messages(store, conversation_id=conversation_id)
    if not before:
        conv = h.get_conversation(store, conversation_id=conversation_id)
        if conv.title == "New conversation":
            h.rename_conversation(store, conversation_id=conversation_id, title=title_from(user_text))
    h.add_message(store, conversation_id=conversation_id, role="user", content=user_text)
    return _start_answer(store, conversation_id, model_name, context_text, settings)


def prepare_regenerate(store: Store, *, conversation_id: int, model_name: str, context_text: str,
                       settings: ChatSettings) -> TurnRequest:
    """Retire the last answer (it stays in the workspace, superseded) and start a new one."""
    msgs = h.active_messages(store, conversation_id=conversation_id)
    if not msgs or not any(m.role == "user" for m in msgs):
        raise ValueError("nothing to regenerate: the conversation has no question yet")
    last_user = max(i for i, m in enumerate(msgs) if m.role == "user")
    if last_user + 1 < len(msgs):
        h.supersede_from(store, conversation_id=conversation_id, position=msgs[last_user + 1].position)
    return _start_answer(store, conversation_id, model_name, context_text, settings)


def prepare_edit(store: Store, *, conversation_id: int, message_id: int, new_text: str, model_name: str,
                 context_text: str, settings: ChatSettings) -> TurnRequest:
    """Replace one of the user's messages: it and everything after it are superseded, the new text is sent."""
    msgs = h.active_messages(store, conversation_id=conversation_id)
    target = next((m for m in msgs if m.message_id == message_id), None)
    if target is None or target.role != "user":
        raise ValueError(f"message {message_id} is not an active user message of conversation {conversation_id}")
    h.supersede_from(store, conversation_id=conversation_id, position=target.position)
    h.add_message(store, conversation_id=conversation_id, role="user", content=new_text)
    return _start_answer(store, conversation_id, model_name, context_text, settings)


def _start_answer(store: Store, conversation_id: int, model_name: str, context_text: str,
                  settings: ChatSettings) -> TurnRequest:
    history = _as_chat(h.active_messages(store, conversation_id=conversation_id))
    answer = h.add_message(store, conversation_id=conversation_id, role="assistant", content="",
                           status="generating", model=model_name, context_summary=context_text)
    return TurnRequest(conversation_id, answer.message_id, history, context_text, settings)


def run_turn(engine: Engine, request: TurnRequest, *, on_text: Callable[[str], None],
             cancel: threading.Event | None = None, saver: StreamingSaver | None = None,
             on_plan: Callable[[PromptPlan], None] | None = None) -> TurnResult:
    """Fit the prompt and stream the answer. Never raises for a model-side problem: the result says it."""
    parts: list[str] = []
    plan: PromptPlan | None = None
    try:
        # Every user turn gets the same grounding each time, so the prompt prefix (and the KV cache) of
        # earlier turns stays identical from one turn to the next.
        history = [ChatMessage(m.role, grounded_question(m.content, request.context_text)) if m.role == "user" else m
                   for m in request.history]
        plan = build_prompt(
            template=engine.chat_template, tokenize=engine.tokenize,
            system_text=system_text(request.context_text), history=history,
            n_ctx=engine.n_ctx, max_new_tokens=min(request.settings.max_tokens, engine.n_ctx // 2),
        )
        if on_plan is not None:
            on_plan(plan)

        def piece(text: str) -> None:
            parts.append(text)
            if saver is not None:
                saver.update("".join(parts))
            on_text(text)

        stats = engine.generate(plan.tokens, params=request.settings.sampling(), on_text=piece, cancel=cancel)
    except (PromptTooLong, ValueError, RuntimeError) as exc:
        return _ended(request, parts, "failed", plan, None, str(exc), saver)
    status = {"cancelled": "stopped", "max_tokens": "truncated", "context_full": "truncated"}.get(
        stats.stop_reason, "complete")
    return _ended(request, parts, status, plan, stats, None, saver)


def _ended(request: TurnRequest, parts: list[str], status: str, plan: PromptPlan | None,
           stats: GenerationStats | None, error: str | None, saver: StreamingSaver | None) -> TurnResult:
    if saver is not None:
        saver.drain()
    return TurnResult(request.message_id, "".join(parts), status, stats, plan, error)


def finish_turn(store: Store, result: TurnResult) -> None:
    s = result.stats
    h.finish_message(
        store, message_id=result.message_id, content=result.text, status=result.status,
        prompt_tokens=result.plan.prompt_tokens if result.plan else None,
        completion_tokens=s.completion_tokens if s else None,
        dropped_messages=result.plan.dropped_messages if result.plan else None,
        tokens_per_s=s.tokens_per_s if s else None, ttft_s=s.ttft_s if s else None, error=result.error,
    )
