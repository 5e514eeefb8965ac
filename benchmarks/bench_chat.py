"""Chat speed: the in-app stream against the raw llama.cpp loop, on the same model, threads and prompt, in
the same run. ``python -m benchmarks.bench_chat [--threads N] [--tokens N] [--repeats N]``.

* raw loop: ``Llama.eval`` + ``Llama.sample``, nothing else (the reference, as issue 4 defines it);
* in-app: the whole app path: ModelWorker thread, prompt fitting, the engine's loop, incremental UTF-8
  detokenizing, throttled token signals received by a Qt event loop, and every token saved to a DuckDB
  workspace by the streaming saver;
* chat_turn: the turn written once in desktop/core/chat/turn.py, as ``python -m desktop chat`` runs it;
* high-level: ``create_chat_completion(stream=True)``.

All three decode greedily with repeat penalty 1.0 from the same prompt (system prompt + patient summary +
question) after a KV-cache reset, interleaved run by run so a busy machine slows each of them alike; the
figures are medians. Generation speed counts from the first token to the last; time to first token counts
from the request to the first token (for the app: to the first token signal arriving on the GUI thread).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from desktop.core.chat import history as h
from desktop.core.chat.patient_context import patient_context
from desktop.core.chat.relevant import grounded_question
from desktop.core.chat.session import ChatSettings, prepare_send, system_text
from desktop.core.chat.turn import chat_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import read_gguf_info
from desktop.core.llm.model_files import check_model, default_model_path
from desktop.core.llm.prompt import ChatMessage
from desktop.core.store import open_store
from desktop.core.workspace_executor import WorkspaceExecutor
from devtools.synthetic.workspaces import seed_demo_patient

QUESTION = "Write a long, detailed explanation of this patient's blood pressure readings and what they mean."


def raw_loop(engine: Engine, tokens: list[int], n: int) -> tuple[float, float, int]:
    """(prompt seconds, tokens/s, tokens): eval the prompt, then sample + eval, checking only for EOS."""
    llm = engine.llm
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(tokens)
    t1 = time.perf_counter()
    eos = llm.token_eos()
    count = 0
    first = 0.0
    for _ in range(n):
        tok = llm.sample(temp=0.0, repeat_penalty=1.0)
        if count == 0:
            first = time.perf_counter()
        if tok == eos:
            break
        count += 1
        llm.eval([tok])
    end = time.perf_counter()
    return t1 - t0, count / (end - first), count


def raw_loop_one_sampler(engine: Engine, tokens: list[int], n: int) -> tuple[float, float, int]:
    """The same loop with the sampler chain built once (``Llama.sample`` builds one per call): the fastest
    Python loop over llama.cpp, and the stricter baseline."""
    llm = engine.llm
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(tokens)
    t1 = time.perf_counter()
    sampler = llm._init_sampler(temp=0.0, repeat_penalty=1.0)
    ctx = llm._ctx
    eos = llm.token_eos()
    count = 0
    first = 0.0
    for _ in range(n):
        tok = sampler.sample(ctx, -1)
        if count == 0:
            first = time.perf_counter()
        if tok == eos:
            break
        count += 1
        llm.eval([tok])
    end = time.perf_counter()
    return t1 - t0, count / (end - first), count


def high_level(engine: Engine, messages: list[dict[str, str]], n: int) -> tuple[float, float, int]:
    llm = engine.llm
    llm.reset()
    t0 = time.perf_counter()
    first = 0.0
    count = 0
    for chunk in llm.create_chat_completion(messages=messages, stream=True, max_tokens=n, temperature=0.0,
                                            repeat_penalty=1.0):
        if chunk["choices"][0]["delta"].get("content"):
            if count == 0:
                first = time.perf_counter()
            count += 1
    end = time.perf_counter()
    return first - t0, (count - 1) / (end - first) if count > 1 else 0.0, count


class InApp:
    """The worker-thread path with a Qt event loop receiving the signals and a workspace receiving saves."""

    def __init__(self, engine: Engine, tmp: Path, n: int) -> None:
        from PySide6.QtCore import QCoreApplication, QEventLoop

        from desktop.ui.chat.model_worker import ModelWorker

        self.app = QCoreApplication.instance() or QCoreApplication([])
        self._loop_cls = QEventLoop
        self.db = WorkspaceExecutor(open_store(tmp / "bench.duckdb"))
        self.store = self.db.store
        self.patient = seed_demo_patient(self.store)
        self.context = patient_context(self.store, self.patient)
        self.conv = h.create_conversation(self.store, patient_id=self.patient).conversation_id
        self.worker = ModelWorker(db=self.db)
        self.worker._engine = engine  # share the loaded model: same weights, same threads
        self.worker.start()
        # Same sampling as the other paths: greedy, no repeat penalty.
        self.settings = ChatSettings(n_threads=1, n_ctx=engine.n_ctx, temperature=0.0, max_tokens=n,
                                     repeat_penalty=1.0)
        self.signals = 0

    def run(self, engine: Engine, *, save: bool = True, interval_s: float = 0.0) -> tuple[float, float, int, int]:
        """(ttft seconds on the GUI side, tokens/s in the loop, tokens, saves); ``save=False`` leaves out the
        streaming writes to DuckDB, to show what they cost."""
        store = self.store
        settings = self.settings
        req = prepare_send(store, conversation_id=self.conv, user_text=QUESTION, model_name="bench",
                           context_text=self.context, settings=settings)
        req = req.__class__(req.conversation_id, req.message_id, req.history[-1:], req.context_text, settings)
        loop = self._loop_cls()
        got: dict[str, object] = {}

        def on_tokens(_job: int, _text: str) -> None:
            got.setdefault("first", time.perf_counter())

        def on_finished(_job: int, result: object) -> None:
            got["result"] = result
            loop.quit()

        self.worker.tokens.connect(on_tokens)
        self.worker.finished.connect(on_finished)
        engine.llm.reset()
        self.worker.save_interval_s = interval_s
        try:
            t0 = time.perf_counter()
            self.worker.generate(req, stream_saves=save)
            loop.exec()
        finally:
            self.worker.tokens.disconnect(on_tokens)
            self.worker.finished.disconnect(on_finished)
        result = got["result"]
        stats = result.stats  # type: ignore[attr-defined]
        saved = store.con.execute("SELECT content FROM messages WHERE message_id = ?", [req.message_id]).fetchone()
        assert saved is not None and saved[0] == result.text  # type: ignore[attr-defined]
        return float(got["first"]) - t0, stats.tokens_per_s, stats.completion_tokens, self.worker.last_saves

    def turn(self, engine: Engine) -> tuple[float, float]:
        """(tokens/s, tokens) through :func:`desktop.core.chat.turn.chat_turn`, the one turn the CLI runs,
        on the same workspace executor and a new conversation each time."""
        engine.llm.reset()
        turn = chat_turn(db=self.db, get_engine=lambda: engine, patient_id=self.patient, question=QUESTION,
                         model_name="bench", settings=self.settings, on_text=lambda _t: None)
        stats = turn.result.stats
        assert stats is not None, turn.result.error
        return stats.tokens_per_s, stats.completion_tokens

    def close(self) -> None:
        self.worker._engine = None  # the benchmark owns it
        self.worker.shutdown()
        self.db.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ctx", type=int, default=2048)
    args = parser.parse_args(argv)

    t = time.perf_counter()
    check_model(args.model)
    check_s = time.perf_counter() - t
    t = time.perf_counter()
    info = read_gguf_info(args.model)
    header_s = time.perf_counter() - t
    loads = []
    for _ in range(3):
        e = Engine.load(args.model, n_ctx=args.ctx, n_threads=args.threads)
        loads.append(e.load_s)
        e.close()
    engine = Engine.load(args.model, n_ctx=args.ctx, n_threads=args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        app = InApp(engine, Path(tmp), args.tokens)
        sys_text = system_text(app.context)
        # The app grounds the question (the summary lines it is about, repeated under it): same prompt here.
        messages = [ChatMessage("system", sys_text), ChatMessage("user", grounded_question(QUESTION, app.context))]
        prompt = engine.tokenize(engine.chat_template.render(messages))
        hl_messages = [{"role": m.role, "content": m.content} for m in messages]
        rows: dict[str, list[tuple[float, ...]]] = {"raw": [], "raw1": [], "app": [], "app0": [], "app50": [], "high": [],
                                                     "turn": []}
        high_level(engine, hl_messages, 8)  # warm-up
        for _ in range(args.repeats):
            rows["raw"].append(raw_loop(engine, prompt, args.tokens))
            rows["raw1"].append(raw_loop_one_sampler(engine, prompt, args.tokens))
            rows["app"].append(app.run(engine))
            rows["app0"].append(app.run(engine, save=False))
            rows["app50"].append(app.run(engine, interval_s=0.05))
            rows["high"].append(high_level(engine, hl_messages, args.tokens))
            rows["turn"].append(app.turn(engine))
        app.close()
    engine.close()

    med = {k: [statistics.median(col) for col in zip(*v)] for k, v in rows.items()}
    raw_pp, raw_tps, raw_n = med["raw"]
    _pp1, raw1_tps, raw1_n = med["raw1"]
    app_ttft, app_tps, app_n, app_saves = med["app"]
    hl_ttft, hl_tps, hl_n = med["high"]
    _t0, app0_tps, app0_n, _s0 = med["app0"]
    _t50, app50_tps, app50_n, app50_saves = med["app50"]
    turn_tps, turn_n = med["turn"]
    print(f"model {args.model.name} ({info.quantization}), {args.threads} threads, prompt {len(prompt)} tokens, "
          f"up to {args.tokens} new tokens, median of {args.repeats}")
    print(f"{'path':<34}{'tokens/s':>10}{'ratio':>8}{'tokens':>8}")
    print(f"{'raw loop (eval + sample)':<34}{raw_tps:>10.1f}{1.0:>8.2f}{raw_n:>8.0f}")
    print(f"{'raw loop, sampler built once':<34}{raw1_tps:>10.1f}{raw1_tps / raw_tps:>8.2f}{raw1_n:>8.0f}")
    print(f"{'in-app stream (worker + saves)':<34}{app_tps:>10.1f}{app_tps / raw_tps:>8.2f}{app_n:>8.0f}")
    print(f"{'in-app stream, saves left out':<34}{app0_tps:>10.1f}{app0_tps / raw_tps:>8.2f}{app0_n:>8.0f}")
    print(f"{'in-app, saves at most every 50 ms':<34}{app50_tps:>10.1f}{app50_tps / raw_tps:>8.2f}{app50_n:>8.0f}")
    print(f"{'chat_turn() (the CLI path)':<34}{turn_tps:>10.1f}{turn_tps / raw_tps:>8.2f}{turn_n:>8.0f}")
    print(f"{'create_chat_completion(stream)':<34}{hl_tps:>10.1f}{hl_tps / raw_tps:>8.2f}{hl_n:>8.0f}")
    print(f"in-app answer saved {app_saves:.0f} times while streaming {app_n:.0f} tokens (one DuckDB UPDATE each); "
          f"with the 50 ms cadence {app50_saves:.0f} times")
    print(f"time to first token: in-app {app_ttft * 1000:.0f} ms, high-level {hl_ttft * 1000:.0f} ms, "
          f"raw prompt processing {raw_pp * 1000:.0f} ms ({len(prompt) / raw_pp:.0f} tokens/s)")
    print(f"model load (Llama(), mmap): median {statistics.median(loads) * 1000:.0f} ms; "
          f"manifest check (size + sha256) {check_s * 1000:.0f} ms; GGUF header parse {header_s * 1000:.0f} ms")
    goal = app_tps / raw_tps >= 0.95
    print(f"goal in-app >= 0.95 x raw loop: {'met' if goal else 'NOT met'} ({app_tps / raw_tps:.2f}); "
          f"against the sampler-built-once loop: {app_tps / raw1_tps:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
