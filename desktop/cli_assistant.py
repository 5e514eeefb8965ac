"""``python -m desktop chat``'s exact path: a data question is answered from the workspace, with the figures
computed by DuckDB, saved as a conversation like any other, and printed with how it was computed (or as
JSON with ``--json``).

Returns None when the question is for the language model (a patient question that is not about the data);
``desktop/cli_chat.py`` then streams the model's answer.

When the exact parser does not know a question's wording and a model file is at hand, the model plans it
under a grammar (``desktop/core/assistant/model_plan.py``); such an answer says so in its text, and the JSON's
``planner`` is "model" (else "parser"). ``--no-model-planner`` turns this off.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from datetime import date
from pathlib import Path

from desktop.core.assistant.ask import FallbackPlanner, answer_question
from desktop.core.assistant.model_plan import PLANNER_N_CTX, ModelPlanOutcome, plan_with_model
from desktop.core.chat.turn import computed_turn
from desktop.core.store import WorkspaceError, open_store


def run_assistant(ns: argparse.Namespace) -> int | None:
    try:
        store = open_store(ns.workspace)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        answer = answer_question(store, question=ns.question, patient_id=ns.patient,
                                 fallback_planner=model_planner(ns))
        if not answer.computed and ns.patient:
            if answer.planner == "model" and not getattr(ns, "json", False):
                print(answer.text, file=sys.stderr)  # why the model's plan was not run; the model answers instead
            return None
        conversation = None
        if answer.computed:
            conversation = computed_turn(store, patient_id=ns.patient, question=ns.question, answer=answer,
                                         conversation_id=ns.conversation)
    except LookupError as exc:  # no such patient, or a conversation about someone else
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if getattr(ns, "json", False):
        print(json.dumps({**answer.to_dict(), "conversation": conversation}, indent=2, default=str))
        return 0 if answer.computed else 1
    print(answer.text)
    if not answer.computed:
        return 1
    if answer.rows and answer.plan.subject == "workspace":
        print()
        print(answer.table_csv().rstrip())
    if not getattr(ns, "quiet", False):
        print(f"\nHow this was computed (conversation {conversation}, {answer.seconds * 1000:.0f} ms):\n"
              + answer.how_computed(), file=sys.stderr)
    return 0




def model_planner(ns: argparse.Namespace) -> FallbackPlanner | None:
    """The model planner for this command, or None (``--no-model-planner``, or no model file). The model is
    loaded only when the parser declines a question."""
    if getattr(ns, "no_model_planner", False):
        return None
    from desktop.core.llm.model_files import default_model_path

    path = Path(ns.model) if getattr(ns, "model", None) else default_model_path()
    if not path.exists():
        return None
    return functools.partial(_plan_with_model_file, path, getattr(ns, "threads", None),
                             not getattr(ns, "no_adapter", False))


def _plan_with_model_file(path: Path, threads: int | None, use_adapter: bool = True, *, question: str,
                          patient_id: str | None, today: date) -> ModelPlanOutcome:
    from desktop.core.llm.engine import Engine
    from desktop.core.llm.gguf_info import ModelFileError
    from desktop.core.llm.manifest import PLANNER_ROLE
    from desktop.core.llm.model_files import adapter_for, check_model

    try:
        check_model(path)
        adapter = adapter_for(path, enabled=use_adapter, role=PLANNER_ROLE)  # the app's planner, adapter and all
        engine = Engine.load(path, n_ctx=PLANNER_N_CTX, n_threads=threads, lora_path=adapter)
    except ModelFileError as exc:
        return ModelPlanOutcome(None, reason=f"the model could not be loaded: {exc}")
    try:
        return plan_with_model(engine, question=question, patient_id=patient_id, today=today)
    finally:
        engine.close()
