"""Prompt building: the GGUF's template rendered like llama-cpp-python, and fitting to the context."""

# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
from __future__ import annotations

import pytest

from desktop.core.chat import history as h
from desktop.core.trained import patient_context
from desktop.core.chat.session import ChatSettings, TurnRequest, prepare_send, run_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.prompt import ChatMessage, ChatTemplate, PromptTooLong, build_prompt
from tests.core.llm_support import PATIENT, engine, model_path, store, workspace  # noqa: F401  (fixtures)

MESSAGES = [ChatMessage("system", "Facts."), ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello."),
            ChatMessage("user", "BP?")]


def test_renders_exactly_like_llama_cpp_python(engine: Engine) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    source = engine.metadata["tokenizer.chat_template"]
    theirs = Jinja2ChatFormatter(source, eos_token=engine.eos_text, bos_token=engine.bos_text)
    expected = theirs(messages=[{"role": m.role, "content": m.content} for m in MESSAGES]).prompt
    assert engine.chat_template.render(MESSAGES) == expected
    assert expected.endswith("<|im_start|>assistant\n")


def test_a_model_without_template_gets_chatml() -> None:
    text = ChatTemplate(None).render([ChatMessage("user", "Hi")])
    assert text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def _words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def _history(turns: int) -> list[ChatMessage]:
    out = []
    for i in range(turns):
        out += [ChatMessage("user", f"question {i}: {_words(30)}"), ChatMessage("assistant", f"answer {i}: {_words(30)}")]
    return out + [ChatMessage("user", "And the latest heart rate?")]


def test_overflow_drops_oldest_turns_in_chunks_and_keeps_the_summary(engine: Engine) -> None:
    summary = "Patient: Jane Doe (F, 54 y). Latest values:\n- Heart rate: 88 /min (normal, 2024-03-02)"
    plan = build_prompt(template=engine.chat_template, tokenize=engine.tokenize, system_text=summary,
                        history=_history(20), n_ctx=1024, max_new_tokens=256)
    assert plan.dropped_messages > 0 and plan.dropped_messages % 2 == 0
    assert plan.prompt_tokens + 256 <= 1024
    assert summary in plan.text
    assert "And the latest heart rate?" in plan.text
    assert "question 0:" not in plan.text
    # What is kept starts with the user's turn and is the most recent part of the conversation.
    assert f"question {19}:" in plan.text
    kept_first = 20 - (plan.kept_messages - 1) // 2
    assert f"question {kept_first}:" in plan.text and f"question {kept_first - 1}:" not in plan.text


def test_nothing_dropped_when_it_fits(engine: Engine) -> None:
    plan = build_prompt(template=engine.chat_template, tokenize=engine.tokenize, system_text="S",
                        history=_history(2), n_ctx=2048, max_new_tokens=256)
    assert plan.dropped_messages == 0 and plan.kept_messages == 5


def test_a_message_too_long_for_any_context_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(PromptTooLong, match="Shorten the message"):
        build_prompt(template=engine.chat_template, tokenize=engine.tokenize, system_text="S",
                     history=[ChatMessage("user", _words(600))], n_ctx=512, max_new_tokens=128)


def test_a_real_turn_past_the_context_keeps_the_patient_summary(store, model_path) -> None:
    small = Engine.load(model_path, n_ctx=768, n_threads=1)
    try:
        conv = h.create_conversation(store, patient_id=PATIENT)
        for i in range(12):
            h.add_message(store, conversation_id=conv.conversation_id, role="user", content=f"q{i} {_words(25)}")
            h.add_message(store, conversation_id=conv.conversation_id, role="assistant", content=f"a{i} {_words(25)}")
        context = patient_context(store, PATIENT)
        settings = ChatSettings(n_threads=1, n_ctx=768, temperature=0.0, max_tokens=64)
        request: TurnRequest = prepare_send(store, conversation_id=conv.conversation_id,
                                            user_text="What is the latest systolic blood pressure?",
                                            model_name="m", context_text=context, settings=settings)
        result = run_turn(small, request, on_text=lambda _t: None)
    finally:
        small.close()
    assert result.status in ("complete", "truncated"), result.error
    assert result.plan is not None and result.plan.dropped_messages >= 2
    assert context in result.plan.text and "152 mm[Hg]" in result.plan.text
    assert result.text.strip()
