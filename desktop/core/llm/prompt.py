"""Chat prompts: the GGUF's own chat template, rendered the way llama-cpp-python does, fitted to the context.

What must always reach the model is the system prompt and the patient summary (one system message). When
the conversation outgrows the context window, the oldest turns go, in chunks of whole exchanges, and the
result says how many went so the UI can tell the user.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

# ChatML, for a GGUF that carries no template of its own.
FALLBACK_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


class PromptTooLong(ValueError):
    """Even with every earlier turn dropped, the prompt does not fit the context window."""


class _IgnoreGenerationTags(jinja2.ext.Extension):
    """HF templates may wrap assistant turns in ``{% generation %}``; it only marks them, so pass through."""

    # jinja2 declares ``tags`` a plain class attribute; a ClassVar annotation here would clash with it (mypy).
    tags = {"generation"}  # noqa: RUF012

    def parse(self, parser: Any) -> Any:
        parser.stream.skip(1)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class ChatTemplate:
    """A compiled chat template; the same environment settings as llama_cpp's ``Jinja2ChatFormatter``
    (sandboxed, ``trim_blocks``, ``lstrip_blocks``, loop controls, ``raise_exception``, ``strftime_now``)."""

    def __init__(self, source: str | None, *, bos_token: str = "", eos_token: str = "") -> None:
        env = ImmutableSandboxedEnvironment(
            loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True,
            extensions=[_IgnoreGenerationTags, jinja2.ext.loopcontrols],
        )
        env.filters["tojson"] = _tojson
        self.source = source or FALLBACK_TEMPLATE
        self._template = env.from_string(self.source)
        self.bos_token = bos_token
        self.eos_token = eos_token

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str:
        def raise_exception(message: str) -> None:
            raise ValueError(message)

        return self._template.render(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            bos_token=self.bos_token, eos_token=self.eos_token,
            add_generation_prompt=add_generation_prompt, raise_exception=raise_exception,
            strftime_now=lambda f: datetime.now().strftime(f),
        )


@dataclass(frozen=True)
class PromptPlan:
    text: str
    tokens: list[int]
    n_ctx: int
    reserved_for_answer: int
    kept_messages: int      # turns of the conversation that made it into the prompt
    dropped_messages: int   # oldest turns left out to fit the context

    @property
    def prompt_tokens(self) -> int:
        return len(self.tokens)

    @property
    def fraction_used(self) -> float:
        return (len(self.tokens) + self.reserved_for_answer) / self.n_ctx


def _chunk_size(n_turns: int) -> int:
    """Drop about a quarter of the remaining turns at a time, and always whole user+assistant pairs, so the
    kept history still starts with a user turn and one overflow does not cost one re-render per turn."""
    pairs = max(1, (n_turns // 2) // 4)
    return 2 * pairs


def build_prompt(
    *,
    template: ChatTemplate,
    tokenize: Callable[[str], list[int]],
    system_text: str,
    history: Sequence[ChatMessage],
    n_ctx: int,
    max_new_tokens: int,
) -> PromptPlan:
    """Render ``system_text`` + ``history`` (ending with the new user turn) so prompt + answer fit ``n_ctx``.

    Raises :class:`PromptTooLong` when the system text and the last user turn alone do not fit.
    """
    if not history or history[-1].role != "user":
        raise ValueError("history must end with the user's message")
    system = ChatMessage("system", system_text)
    budget = n_ctx - max_new_tokens
    turns = list(history)
    dropped = 0
    while True:
        text = template.render([system, *turns])
        tokens = tokenize(text)
        if len(tokens) <= budget:
            return PromptPlan(text, tokens, n_ctx, max_new_tokens, len(turns), dropped)
        if len(turns) <= 1:
            raise PromptTooLong(
                f"The system prompt, patient summary and your message need {len(tokens)} tokens, but the "
                f"context holds {n_ctx} with {max_new_tokens} kept for the answer. Shorten the message, "
                "lower max tokens or raise the context size."
            )
        cut = min(_chunk_size(len(turns) - 1), len(turns) - 1)
        turns = turns[cut:]
        dropped += cut
        # A history must not start with an assistant turn (some templates raise on that).
        while len(turns) > 1 and turns[0].role != "user":
            turns = turns[1:]
            dropped += 1
