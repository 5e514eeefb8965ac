"""``python -m desktop chat``'s exact path: a data question is answered from the workspace, with the figures
computed by DuckDB, and printed with how it was computed (or as JSON with ``--json``).

Returns None when the question is for the language model (a patient question that is not about the data);
``desktop/cli_chat.py`` then streams the model's answer, verified.
"""

from __future__ import annotations

import argparse
import json
import sys

from desktop.core.assistant.ask import answer_question
from desktop.core.queries.summary import PatientNotFound
from desktop.core.store import WorkspaceError, open_store


def run_assistant(ns: argparse.Namespace) -> int | None:
    try:
        store = open_store(ns.workspace, read_only=True)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        answer = answer_question(store, question=ns.question, patient_id=ns.patient)
    except PatientNotFound as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if not answer.computed and ns.patient:
        return None
    if getattr(ns, "json", False):
        print(json.dumps(answer.to_dict(), indent=2, default=str))
        return 0 if answer.computed else 1
    print(answer.text)
    if answer.computed:
        if answer.rows and answer.plan.subject == "workspace":
            print()
            print(answer.table_csv().rstrip())
        if not getattr(ns, "quiet", False):
            print("\nHow this was computed:\n" + answer.how_computed(), file=sys.stderr)
        return 0
    return 1
