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

from desktop.cli_assistant import print_computed, print_json
from desktop.core.chat.ask_turn import AskResult, Streamed, TurnEvent, ask_turn
from desktop.core.chat.session import DISCLAIMER, ChatSettings
from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.load import load_engine
from desktop.core.llm.manifest import CHAT_ROLE, PLANNER_ROLE
from desktop.core.llm.model_files import default_model_path
from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.core.workspace.store import WorkspaceError, open_store


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
    """One question through :func:`~desktop.core.chat.ask_turn.ask_turn`, as the window asks it: computed by
    DuckDB when it is a data question (planned by the model when the parser is unsure), else streamed by the
    model, saved and checked against the record."""
    settings = ChatSettings(n_threads=ns.threads, n_ctx=ns.ctx, temperature=ns.temperature, top_p=ns.top_p,
                            max_tokens=ns.max_tokens, use_adapter=not ns.no_adapter)
    problems = settings.problems()
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    model = Path(ns.model) if ns.model else default_model_path()
    try:
        store = open_store(ns.workspace)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    db = WorkspaceExecutor(store)
    engines: dict[str, Engine] = {}

    def engine_for(role: str) -> Engine:
        if role not in engines:  # loaded only when a step needs it: a computed answer loads no model
            engines[role] = load_engine(model, role, settings)
        return engines[role]

    def on_event(event: TurnEvent) -> None:
        if isinstance(event, Streamed) and not ns.json:  # --json prints everything at the end, as one document
            sys.stdout.write(event.text)
            sys.stdout.flush()

    cancel = threading.Event()
    # Ctrl-C stops between tokens, like the app's Stop button: the partial answer is saved.
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set()) if _main_thread() else None
    has_model = model.exists()
    try:
        result = ask_turn(db=db, question=ns.question, patient_id=ns.patient, settings=settings,
                          model_name=model.name, chat_engine=(lambda: engine_for(CHAT_ROLE)) if has_model else None,
                          planner=(lambda: engine_for(PLANNER_ROLE)) if has_model and not ns.no_model_planner else None,
                          conversation_id=ns.conversation, on_event=on_event, cancel=cancel)
    except LookupError as exc:  # no such patient (summary.PatientNotFound) or conversation
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        for engine in engines.values():
            engine.close()
        db.shutdown()
    return _report(ns, result, settings)


def _report(ns: argparse.Namespace, result: AskResult, settings: ChatSettings) -> int:
    if result.chat is None:
        if ns.json:
            return print_json(result.answer, result.conversation_id)
        if result.answer.computed:
            return print_computed(result.answer, result.conversation_id, quiet=ns.quiet)
        print(result.answer.text)
        return 1
    turn = result.chat
    if result.planned is not None and result.planned.plan is None and not ns.json and not ns.quiet:
        print(f"[the model's plan was not used: {result.planned.reason}]", file=sys.stderr)
    result_ = turn.result
    verdict = turn.verdict
    if ns.json:
        print(json.dumps({"answer": result_.text, "computed": False, "plan": {"kind": "general"},
                          "status": result_.status, "conversation": turn.conversation_id,
                          "verification": verdict.to_dict() if verdict else None,
                          "marked": verdict.marked(result_.text) if verdict else result_.text}, indent=2))
        return 1 if result_.status == "failed" else 0
    sys.stdout.write("\n")
    if verdict is not None and not verdict.spans:
        # Said, not left out: a reader must know the answer was read and held nothing to check.
        sys.stdout.write("[checked against the record: it states no figure or record fact to check]\n")
    elif verdict is not None:
        counts = verdict.counts()
        sys.stdout.write(f"[checked against the record: {counts['verified']} verified, {counts['unverified']} "
                         f"unverified, {counts['contradicted']} contradicted]\n")
        if verdict.status != "verified":
            sys.stdout.write(verdict.marked(result_.text) + "\n")
    sys.stdout.flush()
    if result_.error:
        print(f"error: {result_.error}", file=sys.stderr)
    elif not ns.quiet and result_.stats:
        s, plan = result_.stats, result_.plan
        dropped = f", {plan.dropped_messages} earlier messages left out" if plan and plan.dropped_messages else ""
        print(f"[{result_.status}: {s.completion_tokens} tokens, {s.tokens_per_s:.1f} tokens/s, first token "
              f"{s.ttft_s:.2f} s, context {s.prompt_tokens + s.completion_tokens}/{settings.n_ctx}{dropped}; "
              f"conversation {turn.conversation_id}] {DISCLAIMER}", file=sys.stderr)
    return 1 if result_.status == "failed" else 0


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop chat", description=__doc__.splitlines()[0])
    add_chat_arguments(parser)
    return run_chat(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
