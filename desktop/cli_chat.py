"""``python -m desktop chat``: ask about a patient from a script; the answer streams to stdout and the
exchange is saved in the workspace exactly as the app saves it.

``desktop/cli.py`` adds the sub-command with :func:`add_chat_arguments` and calls :func:`run_chat`; this
module also runs on its own: ``python -m desktop.cli_chat --workspace W --patient ID "question"``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from desktop.cli_assistant import run_assistant
from desktop.core.chat.session import DISCLAIMER, ChatSettings
from desktop.core.chat.turn import Send, chat_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.manifest import CHAT_ROLE
from desktop.core.llm.model_files import adapter_for, check_model, default_model_path
from desktop.core.store import WorkspaceError, open_store
from desktop.core.workspace_executor import WorkspaceExecutor


def add_chat_arguments(parser: argparse.ArgumentParser) -> None:
    d = ChatSettings()
    parser.add_argument("--workspace", required=True, type=Path, help="the workspace .duckdb file")
    parser.add_argument("--patient", default=None,
                        help="patient id; without it the question is about the whole workspace")
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default: the shipped model)")
    parser.add_argument("--conversation", type=int, default=None, help="continue this conversation id")
    parser.add_argument("--threads", type=int, default=d.n_threads)
    parser.add_argument("--ctx", type=int, default=d.n_ctx, help="context size in tokens")
    parser.add_argument("--temperature", type=float, default=d.temperature)
    parser.add_argument("--top-p", type=float, default=d.top_p)
    parser.add_argument("--max-tokens", type=int, default=d.max_tokens)
    parser.add_argument("--no-adapter", action="store_true",
                        help="run the model without the project's LoRA adapter (loaded over the default model)")
    parser.add_argument("--quiet", action="store_true", help="no figures on stderr")
    parser.add_argument("--no-model-planner", action="store_true",
                        help="never let the model plan a data question the exact parser does not know")
    parser.add_argument("--json", action="store_true",
                        help="print the answer, the plan, the SQL, the facts and the rows used as JSON")
    parser.add_argument("question")


def run_chat(ns: argparse.Namespace) -> int:
    # A question about the data is answered from the workspace (figures from DuckDB); only the rest reach
    # the model.
    computed = run_assistant(ns)
    if computed is not None:
        return computed
    settings = ChatSettings(n_threads=ns.threads, n_ctx=ns.ctx, temperature=ns.temperature, top_p=ns.top_p,
                            max_tokens=ns.max_tokens, use_adapter=not ns.no_adapter)
    problems = settings.problems()
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    model = Path(ns.model) if ns.model else default_model_path()
    try:
        check_model(model)
        adapter = adapter_for(model, enabled=settings.use_adapter, role=CHAT_ROLE)
        store = open_store(ns.workspace)
    except (ModelFileError, WorkspaceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    db = WorkspaceExecutor(store)
    try:
        return _chat(ns, db, model, settings, adapter)
    finally:
        db.shutdown()


def _chat(ns: argparse.Namespace, db: WorkspaceExecutor, model: Path, settings: ChatSettings,
          adapter: Path | None = None) -> int:
    engines: list[Engine] = []

    def load_engine() -> Engine:
        engines.append(Engine.load(model, n_ctx=settings.n_ctx, n_threads=settings.n_threads, lora_path=adapter))
        return engines[-1]

    def out(text: str) -> None:
        if not ns.json:  # --json prints everything at the end, as one document
            sys.stdout.write(text)
            sys.stdout.flush()

    cancel = threading.Event()
    # Ctrl-C stops between tokens, like the app's Stop button: the partial answer is saved.
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set()) if _main_thread() else None
    try:
        turn = chat_turn(db=db, get_engine=load_engine, patient_id=ns.patient, action=Send(ns.question),
                         model_name=model.name, settings=settings, on_text=out,
                         conversation_id=ns.conversation, cancel=cancel)
    except LookupError as exc:  # no such patient (summary.PatientNotFound) or conversation
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        for engine in engines:
            engine.close()
    result = turn.result
    verdict = turn.verdict
    if ns.json:
        print(json.dumps({"answer": result.text, "computed": False, "plan": {"kind": "general"},
                          "status": result.status, "conversation": turn.conversation_id,
                          "verification": verdict.to_dict() if verdict else None,
                          "marked": verdict.marked(result.text) if verdict else result.text}, indent=2))
        return 1 if result.status == "failed" else 0
    sys.stdout.write("\n")
    if verdict is not None and verdict.spans:
        counts = verdict.counts()
        sys.stdout.write(f"[checked against the record: {counts['verified']} verified, {counts['unverified']} "
                         f"unverified, {counts['contradicted']} contradicted]\n")
        if verdict.status != "verified":
            sys.stdout.write(verdict.marked(result.text) + "\n")
    sys.stdout.flush()
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
    elif not ns.quiet and result.stats:
        s, plan = result.stats, result.plan
        dropped = f", {plan.dropped_messages} earlier messages left out" if plan and plan.dropped_messages else ""
        print(f"[{result.status}: {s.completion_tokens} tokens, {s.tokens_per_s:.1f} tokens/s, first token "
              f"{s.ttft_s:.2f} s, context {s.prompt_tokens + s.completion_tokens}/{settings.n_ctx}{dropped}; "
              f"conversation {turn.conversation_id}] {DISCLAIMER}", file=sys.stderr)
    return 1 if result.status == "failed" else 0


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop chat", description=__doc__.splitlines()[0])
    add_chat_arguments(parser)
    return run_chat(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
