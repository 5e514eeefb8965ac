"""The generation engine: a llama.cpp model driven by the raw ``eval`` + sample loop.

Why not ``create_chat_completion(stream=True)``: it detokenizes the whole output again for every token,
scans it for stop strings and builds OpenAI-style dicts, about 20% slower here (see benchmarks/bench_chat).
This loop does per token only what the app needs: sample, one ``eval``, one piece of text through an
incremental UTF-8 decoder (a character split across tokens comes out whole), an end-of-generation check and
a cancellation check.

An :class:`Engine` is not thread-safe; exactly one thread (the model owner) may call it.
"""

from __future__ import annotations

import codecs
import ctypes
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.prompt import ChatTemplate


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    seed: int | None = None


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int
    reused_prompt_tokens: int   # served from the KV cache of the previous turn
    completion_tokens: int
    prompt_s: float             # prompt processing (what was not reused)
    ttft_s: float               # request start to the first generated token
    generation_s: float         # first sampled token to the last
    stop_reason: str            # "eos", "max_tokens", "cancelled", "context_full"

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.generation_s if self.generation_s > 0 else 0.0


class TokenText:
    """Token ids to text one token at a time. Bytes of a character split across tokens are held back until
    the character is complete, so a streamed piece never ends in half an emoji or a replacement char."""

    def __init__(self, engine: Engine) -> None:
        self._piece = engine.piece_bytes
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, token: int) -> str:
        return self._decoder.decode(self._piece(token))

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)


class Engine:
    """One loaded model. ``load`` is slow-ish (mmap, ~0.1 s for 100 MB); keep the engine for many turns."""

    def __init__(self, llm: Any, *, model_path: Path, load_s: float, adapter_path: Path | None = None) -> None:
        import llama_cpp

        self._lc = llama_cpp
        # Any, not llama_cpp.Llama: the engine drives llama-cpp-python's low-level members (_model, _ctx,
        # _init_sampler, eval, n_tokens) that its public type does not declare; tests pass a scripted fake.
        self.llm: Any = llm
        self.model_path = model_path
        self.adapter_path = adapter_path  # the LoRA adapter loaded over the model, if any
        self.load_s = load_s
        self._vocab = llm._model.vocab
        self._piece_buf = ctypes.create_string_buffer(128)
        self._template: ChatTemplate | None = None

    @classmethod
    def load(cls, path: str | Path, *, n_ctx: int = 4096, n_threads: int | None = None,
             n_batch: int = 512, seed: int = 0, lora_path: str | Path | None = None) -> Engine:
        """Load ``path`` in this process, with the LoRA adapter ``lora_path`` over it when given. Check both
        first (``model_files.check_model`` / ``check_adapter``): llama.cpp can abort."""
        from llama_cpp import Llama

        path = Path(path)
        t0 = time.perf_counter()
        try:
            llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_batch=n_batch,
                        seed=seed, verbose=False, lora_path=str(lora_path) if lora_path else None)
        except (ValueError, RuntimeError) as exc:
            what = f"{path} with the adapter {lora_path}" if lora_path else str(path)
            raise ModelFileError(f"{what}: llama.cpp could not load it ({exc})") from exc
        return cls(llm, model_path=path, load_s=time.perf_counter() - t0,
                   adapter_path=Path(lora_path) if lora_path else None)

    # -- facts the prompt builder needs ------------------------------------------------------------------
    @property
    def n_ctx(self) -> int:
        return int(self.llm.n_ctx())

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.llm.metadata)

    def token_text(self, token_id: int) -> str:
        return self.piece_bytes(token_id, special=True).decode("utf-8", errors="replace")

    @property
    def bos_text(self) -> str:
        return self.token_text(self.llm.token_bos())

    @property
    def eos_text(self) -> str:
        return self.token_text(self.llm.token_eos())

    @property
    def chat_template(self) -> ChatTemplate:
        """The GGUF's own template (ChatML when it has none), compiled once."""
        if self._template is None:
            self._template = ChatTemplate(self.metadata.get("tokenizer.chat_template"),
                                          bos_token=self.bos_text, eos_token=self.eos_text)
        return self._template

    def tokenize(self, text: str) -> list[int]:
        """Tokens of a rendered chat prompt: special tokens parsed, no extra BOS (the template adds its own,
        as llama-cpp-python's Jinja2ChatFormatter path does)."""
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    # -- generation --------------------------------------------------------------------------------------
    def piece_bytes(self, token: int, *, special: bool = False) -> bytes:
        """The bytes of one token: may be part of a UTF-8 character (byte-level BPE splits them)."""
        n = self._lc.llama_token_to_piece(self._vocab, token, self._piece_buf, len(self._piece_buf), 0, special)
        if n < 0:  # piece longer than the buffer: grow once and retry
            self._piece_buf = ctypes.create_string_buffer(-n + 1)
            n = self._lc.llama_token_to_piece(self._vocab, token, self._piece_buf, len(self._piece_buf), 0, special)
        return self._piece_buf.raw[:n]

    def _reuse_prefix(self, tokens: Sequence[int]) -> int:
        """Keep the KV cache for the part of the prompt the previous turn already evaluated."""
        llm = self.llm
        cached = llm.input_ids[: llm.n_tokens]
        prefix = 0
        for a, b in zip(cached, tokens):
            if a != b:
                break
            prefix += 1
        prefix = min(prefix, len(tokens) - 1)  # the last prompt token is evaluated again for fresh logits
        if prefix > 0 and llm._ctx.kv_cache_seq_rm(-1, prefix, -1):
            llm.n_tokens = prefix
            return prefix
        llm.reset()
        return 0

    def warm(self, tokens: Sequence[int], *, cancel: threading.Event | None = None, batch: int = 32) -> int:
        """Evaluate ``tokens`` into the KV cache ahead of a question (llama.cpp keeps them; the next
        :meth:`generate` whose prompt starts with them evaluates only the rest). Small batches, so a set
        ``cancel`` is noticed within about one batch; what was evaluated before it stays usable. Returns how
        many of ``tokens`` are in the cache."""
        llm = self.llm
        if not tokens or len(tokens) >= self.n_ctx:
            return 0
        done = self._reuse_prefix(tokens)
        for i in range(done, len(tokens), batch):
            if cancel is not None and cancel.is_set():
                return i
            llm.eval(list(tokens[i : i + batch]))
        return len(tokens)

    def generate(
        self,
        prompt_tokens: Sequence[int],
        *,
        params: SamplingParams,
        on_text: Callable[[str], None],
        cancel: threading.Event | None = None,
        grammar: Any = None,
        on_token: Callable[[int], None] | None = None,
    ) -> GenerationStats:
        """Evaluate the prompt, then sample until end-of-turn, ``max_tokens``, a full context or ``cancel``.

        ``on_text`` receives each new piece of text as soon as it is complete UTF-8. ``cancel`` is checked
        between prompt batches and between tokens, so Stop answers within one token; what was generated so
        far has already gone to ``on_text``. ``grammar`` (a ``llama_cpp.LlamaGrammar``) constrains sampling
        (the assistant's planner asks for JSON that way); ``on_token`` sees each sampled token id while the
        context still holds the logits it was sampled from (the planner reads the model's own confidence).
        """
        llm = self.llm
        lc = self._lc
        t0 = time.perf_counter()
        if not prompt_tokens:
            raise ValueError("empty prompt")
        n_ctx = self.n_ctx
        if len(prompt_tokens) >= n_ctx:
            raise ValueError(f"prompt of {len(prompt_tokens)} tokens does not fit the context of {n_ctx}")
        reused = self._reuse_prefix(prompt_tokens)
        rest = list(prompt_tokens[reused:])
        n_batch = llm.n_batch
        for i in range(0, len(rest), n_batch):
            if cancel is not None and cancel.is_set():
                llm.reset()
                return GenerationStats(len(prompt_tokens), reused, 0, time.perf_counter() - t0, 0.0, 0.0, "cancelled")
            llm.eval(rest[i : i + n_batch])
        t_prompt = time.perf_counter()

        if params.seed is not None:
            llm.set_seed(params.seed)
        sampler = llm._init_sampler(
            top_k=params.top_k, top_p=params.top_p, min_p=params.min_p, temp=params.temperature,
            repeat_penalty=params.repeat_penalty, grammar=grammar,
        )
        ctx = llm._ctx
        vocab = self._vocab
        text_of = TokenText(self)
        push = text_of.push
        n_gen = 0
        t_first = 0.0
        stop = "max_tokens"
        while n_gen < params.max_tokens:
            token = sampler.sample(ctx, -1)  # also accepts the token into the sampler's history
            if n_gen == 0:
                t_first = time.perf_counter()
            if lc.llama_vocab_is_eog(vocab, token):
                stop = "eos"
                break
            n_gen += 1
            if on_token is not None:
                on_token(token)
            text = push(token)
            if text:
                on_text(text)
            if cancel is not None and cancel.is_set():
                stop = "cancelled"
                break
            if llm.n_tokens >= n_ctx:
                stop = "context_full"
                break
            llm.eval([token])
        tail = text_of.flush()
        if tail:
            on_text(tail)
        t_end = time.perf_counter()
        t_first = t_first or t_end
        return GenerationStats(
            prompt_tokens=len(prompt_tokens),
            reused_prompt_tokens=reused,
            completion_tokens=n_gen,
            prompt_s=t_prompt - t0,
            ttft_s=t_first - t0,
            generation_s=t_end - t_first if n_gen else 0.0,
            stop_reason=stop,
        )

    def forget(self) -> None:
        """Drop the KV cache (the last prompt, patient data included): the window locked."""
        self.llm.reset()
        self.llm._ctx.kv_cache_clear()

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
        if close is not None:
            close()
