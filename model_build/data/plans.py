"""The "plans" data source: (question -> plan JSON) training examples, and the parser's own accuracy.

The model's job in the app is to emit the plan a question becomes, as JSON under the grammar made from
``plan_json_schema()``. The target text is therefore exactly that JSON: ``Plan.to_dict()`` without
``patient_id`` (the schema has no such property: the app fills in the selected patient), keys in the
schema's order, as ``json.dumps`` writes them. Whole phrasing templates are held out for the test split
(``held_out``), so the test measures phrasings the model never saw. Templates the parser misses are kept:
the model should learn what the parser cannot do.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from desktop.core.assistant.parse import plan_question
from desktop.core.assistant.plan import Plan, PlanError
from model_build.data.plan_templates import TEMPLATES, Example, Template, fill, held_out

SOURCE = "plans"
PLAN_SYSTEM_PROMPT = (
    "You turn a clinician's question into a plan for Vitalsight's query engine. Reply with one JSON object "
    "only: kind (data or general), subject (patient or workspace), measurements (catalog codes), operation, "
    "threshold, comparison, window (start, end, text, last_visit) and cohort (condition, sex, age_min, "
    "age_max). Relative time windows count back from the record's today."
)
PATIENT_ID = "P"


def plan_user_message(question: str, *, today: date, patient_selected: bool) -> str:
    """What the model sees as the user turn: the question plus the two facts a plan depends on."""
    who = "one patient is selected" if patient_selected else "no patient is selected"
    return f"Record's today: {today.isoformat()}; {who}.\nQuestion: {question}"


def plan_target(plan: Plan) -> str:
    """The JSON text the model must produce for ``plan`` (what the grammar allows, in its key order)."""
    data = plan.to_dict()
    data.pop("patient_id")
    return json.dumps(data)


def plan_from_output(data: dict[str, Any], *, patient_id: str | None) -> dict[str, Any]:
    """The model's JSON with the selected patient filled in, as the app would before ``plan_from_dict``."""
    out = dict(data)
    if out.get("kind") == "data" and out.get("subject") == "patient":
        out["patient_id"] = patient_id
    return out


def examples(*, per_template: int, seed: int, today: date = date(2024, 6, 1),
             templates: tuple[Template, ...] = TEMPLATES) -> list[Example]:
    rng = random.Random(seed)
    return [fill(t, rng, today=today, patient_id=PATIENT_ID) for t in templates for _ in range(per_template)]


def generate(*, per_template: int, seed: int, test_fraction: float = 0.2) -> list[dict[str, Any]]:
    """Prepared records (the adapters' shape) with a fixed ``split``: held-out templates go to test whole."""
    test_ids = held_out(TEMPLATES, test_fraction=test_fraction, seed=seed)
    out = []
    for i, ex in enumerate(examples(per_template=per_template, seed=seed)):
        user = plan_user_message(ex.question, today=ex.today, patient_selected=ex.patient_id is not None)
        out.append({"id": f"plans-{ex.template}-{i}", "group": f"plans-template:{ex.template}", "source": SOURCE,
                    "system": PLAN_SYSTEM_PROMPT, "messages": [{"role": "user", "content": user}],
                    "answer": plan_target(ex.plan), "split": "test" if ex.template in test_ids else "train",
                    "meta": {"template": ex.template, "kind": ex.kind, "question": ex.question,
                             "today": ex.today.isoformat(), "patient_id": ex.patient_id}})
    return out


def parser_accuracy(exs: list[Example]) -> dict[str, Any]:
    """How often ``plan_question`` gives the expected plan, per question kind and per template."""
    per_kind: dict[str, Counter] = defaultdict(Counter)
    per_template: dict[str, Counter] = defaultdict(Counter)
    for ex in exs:
        try:
            got = plan_question(ex.question, patient_id=ex.patient_id, today=ex.today).to_dict()
        except PlanError:
            got = None
        ok = got == ex.plan.to_dict()
        per_kind[ex.kind][ok] += 1
        per_template[ex.template][ok] += 1
    right = sum(c[True] for c in per_kind.values())
    return {"n": len(exs), "correct": right, "accuracy": right / len(exs) if exs else 0.0,
            "per_kind": {k: {"n": c[True] + c[False], "correct": c[True]} for k, c in sorted(per_kind.items())},
            "per_template": {k: {"n": c[True] + c[False], "correct": c[True]} for k, c in sorted(per_template.items())}}


def held_out_examples(*, per_template: int, seed: int, test_fraction: float = 0.2) -> list[Example]:
    test_ids = held_out(TEMPLATES, test_fraction=test_fraction, seed=seed)
    return [ex for ex in examples(per_template=per_template, seed=seed) if ex.template in test_ids]
