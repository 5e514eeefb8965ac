"""How ``python -m desktop chat`` prints a computed answer: the figures DuckDB computed, with how (the plan, the
SQL, the rows used) on stderr, or everything as JSON with ``--json``. The question itself is answered by
:func:`desktop.core.chat.ask_turn.ask_turn` (``desktop/cli_chat.py``); an answer the model planned says so in
its text, and the JSON's ``planner`` is "model" (else "parser" or "parser_unsure").
"""

from __future__ import annotations

import json
import sys

from desktop.core.assistant.answer import Answer


def print_json(answer: Answer, conversation: int | None) -> int:
    print(json.dumps({**answer.to_dict(), "conversation": conversation}, indent=2, default=str))
    return 0 if answer.computed else 1


def print_computed(answer: Answer, conversation: int | None, *, quiet: bool = False) -> int:
    print(answer.text)
    if answer.rows and answer.plan.subject == "workspace":
        print()
        print(answer.table_csv().rstrip())
    if not quiet:
        print(f"\nHow this was computed (conversation {conversation}, {answer.seconds * 1000:.0f} ms):\n"
              + answer.how_computed(), file=sys.stderr)
    return 0
