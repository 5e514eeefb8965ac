"""Chat speed: the in-app stream against the raw llama.cpp loop, on the same model, threads and prompt, in
the same run. ``python -m benchmarks.bench_chat [--threads N] [--tokens N] [--repeats N]``.

* raw loop: ``Llama.eval`` + ``Llama.sample``, nothing else (the reference, as issue 4 defines it);
* in-app: the whole app path: ask_turn on the ModelWorker thread, prompt fitting, the engine's loop, incremental UTF-8
  detokenizing, throttled token signals received by a Qt event loop, and the answer saved to a DuckDB
  workspace by the streaming saver (at most every 50 ms);
* ask_turn: the question turn written once (desktop/core/chat/ask_turn.py), as ``python -m desktop chat`` runs it;
* high-level: ``create_chat_completion(stream=True)``.

Then the time to the first thing on screen, through :func:`chat_turn` (the request to the first piece of
text, database steps included): a computed answer (DuckDB, no model), the first token cold (empty KV cache),
warmed (after :func:`warm_turn`, what selecting a patient does in the app), and a follow-up in the same
conversation; as ratios against the cold first token measured in the same run (issue 9: warmed <= 0.25).
With the sample workspace built (``make sample``) these use its patient with the longest record; otherwise
the demo patient.

All three decode greedily with repeat penalty 1.0 from the same prompt (system prompt + patient summary +
question) after a KV-cache reset, interleaved run by run so a busy machine slows each of them alike; the
figures are medians. Generation speed counts from the first token to the last; time to first token counts
from the request to the first token (for the app: to the first token signal arriving on the GUI thread).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from desktop.core.assistant.ask import answer_question
from desktop.core.chat.ask_turn import ask_turn
from desktop.core.chat.persist import SAVE_INTERVAL_S
from desktop.core.chat.session import ChatSettings, system_text
from desktop.core.chat.turn import ChatTurn, Send, chat_turn, computed_turn, warm_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import read_gguf_info
from desktop.core.llm.load import load_engine
from desktop.core.llm.manifest import CHAT_ROLE
from desktop.core.llm.model_files import check_model, default_model_path
from desktop.core.llm.prompt import ChatMessage
from desktop.core.llm.threads import physical_cores
from desktop.core.trained import grounded_question, patient_context
from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic.workspaces import seed_demo_patient

QUESTION = "Write a long, detailed explanation of how this patient should look after their health."
FIRST = "What should I ask this patient at the next visit?"        # not a data question: the model answers
FOLLOW_UP = "And what would you tell them about their blood pressure?"
COMPUTED = "What is the highest systolic blood pressure?"         # computed by DuckDB, no model
SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample" / "sample-workspace.duckdb"


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
        self.patient = self.db.call(seed_demo_patient).result()
        self.context = self.db.call(lambda store: patient_context(store, self.patient)).result()
        self.worker = ModelWorker(db=self.db)
        self.worker._engine = engine  # share the loaded model: same weights, same threads
        self.worker.start()
        # Same sampling as the other paths: greedy, no repeat penalty.
        self.settings = ChatSettings(n_threads=1, n_ctx=engine.n_ctx, temperature=0.0, max_tokens=n,
                                     repeat_penalty=1.0)

    def run(self, engine: Engine, *, save: bool = True, interval_s: float = SAVE_INTERVAL_S) -> tuple[float, float, int, int]:
        """(ttft seconds on the GUI side, tokens/s in the loop, tokens, saves); ``save=False`` leaves out the
        streaming writes to DuckDB, to show what they cost. Each run is a new conversation, so the prompt is
        the one the raw loops evaluate."""
        loop = self._loop_cls()
        got: dict[str, object] = {}

        def on_tokens(_job: int, _text: str) -> None:
            got.setdefault("first", time.perf_counter())

        def on_finished(_job: int, turn: object) -> None:
            got["turn"] = turn
            loop.quit()

        self.worker.tokens.connect(on_tokens)
        self.worker.finished.connect(on_finished)
        engine.llm.reset()
        self.worker.save_interval_s = interval_s
        try:
            t0 = time.perf_counter()
            if save:  # the app's path: ask_turn on the model thread (parse, then the model's stream)
                self.worker.ask(question=QUESTION, patient_id=self.patient, conversation_id=None,
                                model_name="bench", settings=self.settings)
            else:
                self.worker.turn(patient_id=self.patient, action=Send(QUESTION), conversation_id=None,
                                 model_name="bench", settings=self.settings, stream_saves=False)
            loop.exec()
        finally:
            self.worker.tokens.disconnect(on_tokens)
            self.worker.finished.disconnect(on_finished)
        turn = got["turn"]
        assert isinstance(turn, ChatTurn) and turn.result.stats is not None, turn
        message_id = turn.result.message_id
        saved = self.db.call(lambda store: store.con.execute(
            "SELECT content FROM messages WHERE message_id = ?", [message_id]).fetchone()).result()
        assert saved is not None and saved[0] == turn.result.text
        stats = turn.result.stats
        return float(got["first"]) - t0, stats.tokens_per_s, stats.completion_tokens, turn.saves

    def turn(self, engine: Engine) -> tuple[float, float]:
        """(tokens/s, tokens) through :func:`desktop.core.chat.ask_turn.ask_turn` on this thread, as
        ``python -m desktop chat`` runs it, on the same workspace executor and a new conversation each time."""
        engine.llm.reset()
        result = ask_turn(db=self.db, question=QUESTION, patient_id=self.patient, settings=self.settings,
                          model_name="bench", chat_engine=lambda: engine, planner=None, record_audit=False)
        assert result.chat is not None, result.answer.text  # a general question: the model answers
        turn = result.chat
        stats = turn.result.stats
        assert stats is not None, turn.result.error
        return stats.tokens_per_s, stats.completion_tokens

    def close(self) -> None:
        self.worker._engine = None  # the benchmark owns it
        self.worker.shutdown()
        self.db.shutdown()


def _longest_record(store: Store) -> str:
    row = store.con.execute(
        "SELECT patient_id FROM observations GROUP BY patient_id ORDER BY count(*) DESC, patient_id LIMIT 1"
    ).fetchone()
    if row is None:
        raise SystemExit("the sample workspace has no observations")
    return str(row[0])


class FirstAnswer:
    """Time from asking to the first text, through ``chat_turn`` on this thread (what the CLI runs and the
    window's model thread runs), against a workspace on its own executor."""

    def __init__(self, engine: Engine, tmp: Path) -> None:
        if SAMPLE.is_file():
            copy = tmp / "sample.duckdb"
            shutil.copyfile(SAMPLE, copy)  # the benchmark writes conversations: never into the shipped sample
            self.db = WorkspaceExecutor(open_store(copy))
            self.patient = self.db.call(_longest_record).result()
            self.source = f"sample workspace, patient {self.patient} (longest record)"
        else:
            self.db = WorkspaceExecutor(open_store(tmp / "first.duckdb"))
            self.patient = self.db.call(seed_demo_patient).result()
            self.source = "demo patient (no sample workspace built)"
        self.engine = engine
        # Only the first token matters here; greedy so every repeat evaluates the same prompt.
        self.settings = ChatSettings(n_threads=1, n_ctx=engine.n_ctx, temperature=0.0, max_tokens=8,
                                     repeat_penalty=1.0)
        self.warm_tokens = 0
        self.prompt_tokens = 0

    def _ask(self, question: str, conversation_id: int | None) -> tuple[float, ChatTurn]:
        first: list[float] = []
        t0 = time.perf_counter()
        turn = chat_turn(db=self.db, get_engine=lambda: self.engine, patient_id=self.patient,
                         action=Send(question), model_name="bench", settings=self.settings,
                         on_text=lambda _t: first or first.append(time.perf_counter()),
                         conversation_id=conversation_id)
        assert turn.result.stats is not None, turn.result.error
        return (first[0] if first else time.perf_counter()) - t0, turn

    def computed(self) -> float:
        """Seconds to a computed answer saved and ready to show (DuckDB only)."""
        pid = self.patient

        def answer(store: Store) -> None:
            result = answer_question(store, question=COMPUTED, patient_id=pid)
            assert result.computed, result.text
            computed_turn(store, patient_id=pid, question=COMPUTED, answer=result)

        t0 = time.perf_counter()
        self.db.call(answer).result()
        return time.perf_counter() - t0

    def round(self) -> tuple[float, float, float, float]:
        """(cold, warmed, follow-up) seconds to the first text, and the warmed turn's prompt tokens reused."""
        self.engine.llm.reset()
        cold, first = self._ask(FIRST, None)
        self.prompt_tokens = first.result.stats.prompt_tokens if first.result.stats else 0
        self.engine.llm.reset()
        self.warm_tokens = warm_turn(db=self.db, engine=self.engine, patient_id=self.patient)
        warmed, turn = self._ask(FIRST, None)
        follow, _ = self._ask(FOLLOW_UP, turn.conversation_id)
        reused = turn.result.stats.reused_prompt_tokens if turn.result.stats else 0
        return cold, warmed, follow, float(reused)

    def close(self) -> None:
        self.db.shutdown()


def measure(args: argparse.Namespace, engine: Engine, app: InApp, first_answer: FirstAnswer, prompt: list[int],
            hl_messages: list[dict[str, str]], rows: dict[str, list[tuple[float, ...]]]) -> None:
    """Every path once per repeat, interleaved, so a busy machine slows each of them alike."""
    for _ in range(args.repeats):
        rows["raw"].append(raw_loop(engine, prompt, args.tokens))
        rows["raw1"].append(raw_loop_one_sampler(engine, prompt, args.tokens))
        rows["app"].append(app.run(engine))
        rows["app0"].append(app.run(engine, save=False))
        rows["app50"].append(app.run(engine, interval_s=0.0))  # the old cadence: a write per token
        rows["high"].append(high_level(engine, hl_messages, args.tokens))
        rows["turn"].append(app.turn(engine))
        if not args.stream_only:
            rows["first"].append(first_answer.round())
            rows["computed"].append((first_answer.computed(),))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--threads", type=int, default=physical_cores(), help="default: the physical cores, as the app")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stream-only", action="store_true",
                        help="only the generation-speed table (skip the time-to-first-text rounds)")
    parser.add_argument("--ctx", type=int, default=ChatSettings().n_ctx, help="context size (the app's default)")
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
    # the app's own loader (chat role: the shipped adapter is for planning only, so this is the plain model)
    engine = load_engine(args.model, CHAT_ROLE, ChatSettings(n_threads=args.threads, n_ctx=args.ctx))

    with tempfile.TemporaryDirectory() as tmp:
        app = InApp(engine, Path(tmp), args.tokens)
        sys_text = system_text(app.context)
        # The app grounds the question (the summary lines it is about, repeated under it): same prompt here.
        messages = [ChatMessage("system", sys_text), ChatMessage("user", grounded_question(QUESTION, app.context))]
        prompt = engine.tokenize(engine.chat_template.render(messages))
        hl_messages = [{"role": m.role, "content": m.content} for m in messages]
        rows: dict[str, list[tuple[float, ...]]] = {"raw": [], "raw1": [], "app": [], "app0": [], "app50": [], "high": [],
                                                     "turn": [], "first": [], "computed": []}
        first_answer = FirstAnswer(engine, Path(tmp))
        high_level(engine, hl_messages, 8)  # warm-up
        try:
            measure(args, engine, app, first_answer, prompt, hl_messages, rows)
        finally:
            app.close()
            first_answer.close()
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
    print(f"{'in-app stream (ask_turn, saves)':<34}{app_tps:>10.1f}{app_tps / raw_tps:>8.2f}{app_n:>8.0f}")
    print(f"{'in-app stream, saves left out':<34}{app0_tps:>10.1f}{app0_tps / raw_tps:>8.2f}{app0_n:>8.0f}")
    print(f"{'in-app, a save per token':<34}{app50_tps:>10.1f}{app50_tps / raw_tps:>8.2f}{app50_n:>8.0f}")
    print(f"{'ask_turn() (the CLI path)':<34}{turn_tps:>10.1f}{turn_tps / raw_tps:>8.2f}{turn_n:>8.0f}")
    print(f"{'create_chat_completion(stream)':<34}{hl_tps:>10.1f}{hl_tps / raw_tps:>8.2f}{hl_n:>8.0f}")
    print(f"in-app answer saved {app_saves:.0f} times while streaming {app_n:.0f} tokens (at most every "
          f"{SAVE_INTERVAL_S * 1000:.0f} ms); with a save per token {app50_saves:.0f} times")
    print(f"time to first token: in-app {app_ttft * 1000:.0f} ms, high-level {hl_ttft * 1000:.0f} ms, "
          f"raw prompt processing {raw_pp * 1000:.0f} ms ({len(prompt) / raw_pp:.0f} tokens/s)")
    print(f"model load (Llama(), mmap): median {statistics.median(loads) * 1000:.0f} ms; "
          f"manifest check (size + sha256) {check_s * 1000:.0f} ms; GGUF header parse {header_s * 1000:.0f} ms")
    goal = app_tps / raw_tps >= 0.95
    goal_line = (f"goal in-app >= 0.95 x raw loop: {'met' if goal else 'NOT met'} ({app_tps / raw_tps:.2f}); "
                 f"against the sampler-built-once loop: {app_tps / raw1_tps:.2f}")
    if args.stream_only:
        print(goal_line)
        return 0
    cold, warmed, follow, reused = med["first"]
    (computed_s,) = med["computed"]
    print()
    print(f"time to the first text on screen: {first_answer.source}; system prompt + context {first_answer.warm_tokens} "
          f"tokens of a {first_answer.prompt_tokens}-token first prompt; median of {args.repeats}")
    print(f"{'path':<44}{'ms':>8}{'vs cold':>9}")
    print(f"{'computed answer (DuckDB, no model)':<44}{computed_s * 1000:>8.0f}{computed_s / cold:>9.2f}")
    print(f"{'first token, cold (empty KV cache)':<44}{cold * 1000:>8.0f}{1.0:>9.2f}")
    print(f"{'first token, warmed (patient selected first)':<44}{warmed * 1000:>8.0f}{warmed / cold:>9.2f}")
    print(f"{'first token, follow-up in the conversation':<44}{follow * 1000:>8.0f}{follow / cold:>9.2f}")
    print(f"warmed turn reused {reused:.0f} prompt tokens from the cache; generation {app_tps:.1f} tokens/s in-app "
          f"({app_tps / raw_tps:.2f} x raw loop)")
    print(f"goal computed answer < 1 s: {'met' if computed_s < 1.0 else 'NOT met'}; goal warmed first token <= 0.25 x "
          f"cold: {'met' if warmed / cold <= 0.25 else 'NOT met'} ({warmed / cold:.2f})")
    print(goal_line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
