"""The raw-loop engine on the real default model and real llama.cpp."""

# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
from __future__ import annotations

import threading

from desktop.core.llm.engine import Engine, SamplingParams, TokenText
from desktop.core.llm.prompt import ChatMessage
from tests.core.llm_support import engine, model_path  # noqa: F401  (fixtures)

PARAMS = SamplingParams(temperature=0.0, max_tokens=48, seed=1)


def _prompt(engine: Engine, question: str) -> list[int]:
    text = engine.chat_template.render([ChatMessage("system", "You are a helpful assistant."),
                                        ChatMessage("user", question)])
    return engine.tokenize(text)


def test_streams_pieces_that_add_up_to_the_answer(engine: Engine) -> None:
    pieces: list[str] = []
    stats = engine.generate(_prompt(engine, "Name three colours."), params=PARAMS, on_text=pieces.append)
    assert len(pieces) > 3
    assert "".join(pieces).strip()
    assert stats.completion_tokens >= len(pieces) - 1
    assert stats.stop_reason in ("eos", "max_tokens")
    assert stats.ttft_s > 0 and stats.tokens_per_s > 0


def test_greedy_answers_are_repeatable_and_reuse_the_kv_cache(engine: Engine) -> None:
    prompt = _prompt(engine, "What is the capital of France?")
    texts = []
    for _ in range(2):
        engine.llm.reset()  # same path both times: the whole prompt in one batch
        out: list[str] = []
        engine.generate(prompt, params=PARAMS, on_text=out.append)
        texts.append("".join(out))
    assert texts[0] == texts[1]
    # Asking again reuses everything but the last prompt token. (Its answer may differ from the one-batch
    # answer: llama.cpp's batched and single-token kernels round differently, and greedy decoding of a
    # 135M model is sensitive to that.)
    stats = engine.generate(prompt, params=PARAMS, on_text=lambda _t: None)
    assert stats.reused_prompt_tokens == len(prompt) - 1


def test_stop_mid_answer_keeps_the_partial_text(engine: Engine) -> None:
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(text: str) -> None:
        pieces.append(text)
        if len(pieces) == 5:
            cancel.set()  # as the Stop button does, from whatever thread

    long = SamplingParams(temperature=0.0, max_tokens=400)
    stats = engine.generate(_prompt(engine, "Write a long story about a lighthouse."), params=long,
                            on_text=on_text, cancel=cancel)
    assert stats.stop_reason == "cancelled"
    assert len(pieces) == 5 and "".join(pieces).strip()
    assert stats.completion_tokens <= 6


def test_stop_before_the_first_token_generates_nothing(engine: Engine) -> None:
    cancel = threading.Event()
    cancel.set()
    pieces: list[str] = []
    stats = engine.generate(_prompt(engine, "Hello"), params=PARAMS, on_text=pieces.append, cancel=cancel)
    assert stats.stop_reason == "cancelled" and stats.completion_tokens == 0 and pieces == []


def test_max_tokens_is_respected(engine: Engine) -> None:
    stats = engine.generate(_prompt(engine, "Count from one to one hundred in words."),
                            params=SamplingParams(temperature=0.0, max_tokens=7), on_text=lambda _t: None)
    assert stats.completion_tokens == 7 and stats.stop_reason == "max_tokens"


def test_characters_split_across_tokens_come_out_whole(engine: Engine) -> None:
    text = "Température 38,5 °C — 😀 Ωμέγα 日本語"
    tokens = engine.tokenize(text)
    raw = [engine.piece_bytes(t) for t in tokens]
    # The point of the test: some tokens really are fragments of a character.
    assert any(_not_utf8(b) for b in raw)
    stream = TokenText(engine)
    pieces = [stream.push(t) for t in tokens] + [stream.flush()]
    assert "".join(pieces) == text
    assert all("\ufffd" not in p for p in pieces)


def _not_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
