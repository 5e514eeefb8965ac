"""``python -m desktop chat``'s exact path: a data question is answered from the workspace, with the figures
computed by DuckDB, saved as a conversation like any other, and printed with how it was computed (or as
JSON with ``--json``).

Returns None when the question is for the language model (a patient question that is not about the data);
``desktop/cli_chat.py`` then streams the model's answer.
"""

from __future__ import annotations

import argparse
import json
import sys

from desktop.core.assistant.ask import answer_question
from desktop.core.chat.turn import computed_turn
from desktop.core.store import WorkspaceError, open_store


def run_assistant(ns: argparse.Namespace) -> int | None:
    try:
        store = open_store(ns.workspace)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        answer = answer_question(store, question=ns.question, patient_id=ns.patient)
        if not answer.computed and ns.patient:
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
