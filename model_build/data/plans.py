"""The "plans" data source: the app's planner task, exactly as the app asks it.

The app's fallback planner (``desktop.core.assistant.model_plan``) sends a question and reads back a small JSON
reply (kind, subject, operation, the measurement words copied from the question, the threshold, the
condition), which ``plan_from_reply`` grounds in the question before anything runs. A training example is
therefore: the prompt from ``plan_prompt_messages(..., trained=True)`` (the app's own function; the app uses
that prompt whenever the adapter is loaded) and, as the answer, ``plan_reply_json`` of the right plan.

Each template fill is kept only when the reply leads back to its plan through ``plan_from_reply`` (the app's
checks): a target the app would refuse or turn into another plan would teach the wrong thing. Whole phrasing
templates are held out for the test split (``held_out``), so the test measures phrasings the model never saw.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from desktop.core.trained import plan_prompt_messages, plan_reply_json
from desktop.core.trained.toolkit import PlanError, PlanRejected, plan_from_reply, plan_question
from model_build.data.plan_templates import TEMPLATES, Example, Template, fill, held_out

SOURCE = "plans"
PATIENT_ID = "P"


def examples(*, per_template: int, seed: int, today: date = date(2024, 6, 1),
             templates: tuple[Template, ...] = TEMPLATES) -> list[Example]:
    """``per_template`` fills of every template; a patient is selected unless the template is about the
    workspace (a third of the general questions are asked with nobody selected)."""
    rng = random.Random(seed)
    out = []
    for t in templates:
        for _ in range(per_template):
            ex = fill(t, rng, today=today, patient_id=PATIENT_ID)
            if t.kind == "general" and rng.random() < 1 / 3:
                ex = Example(ex.template, ex.kind, ex.question, None, ex.today, ex.plan)
            out.append(ex)
    return out


def reply_leads_back(ex: Example, reply: str) -> bool:
    """Whether the app, given ``reply`` for ``ex.question``, runs exactly ``ex.plan``."""
    try:
        got = plan_from_reply(json.loads(reply), question=ex.question, patient_id=ex.patient_id, today=ex.today)
    except (PlanRejected, PlanError, ValueError, TypeError):
        return False
    return got.to_dict() == ex.plan.to_dict()


def record(ex: Example, index: int, split: str) -> dict[str, Any]:
    """One prepared record (the adapters' shape) of ``ex`` in the app's trained-planner prompt."""
    system, *messages = plan_prompt_messages(ex.question, patient_selected=ex.patient_id is not None, trained=True)
    return {"id": f"plans-{ex.template}-{index}", "group": f"plans-template:{ex.template}", "source": SOURCE,
            "system": system.content, "messages": [{"role": m.role, "content": m.content} for m in messages],
            "answer": plan_reply_json(ex.plan, question=ex.question), "split": split,
            "meta": {"template": ex.template, "kind": ex.kind, "question": ex.question,
                     "today": ex.today.isoformat(), "patient_id": ex.patient_id}}


def splits(*, seed: int, test_fraction: float, val_fraction: float) -> dict[str, str]:
    """Template id -> split. Test and validation templates are both held out whole, so the validation loss
    (which picks the adapter kept) is measured on phrasings the training never saw, like the test."""
    test_ids = held_out(TEMPLATES, test_fraction=test_fraction, seed=seed)
    rest = tuple(t for t in TEMPLATES if t.id not in test_ids)
    val_ids = held_out(rest, test_fraction=val_fraction, seed=seed + 1) if val_fraction > 0 else set()
    return {t.id: "test" if t.id in test_ids else "val" if t.id in val_ids else "train" for t in TEMPLATES}


def generate(*, per_template: int, seed: int, test_fraction: float = 0.2, val_fraction: float = 0.0,
             report: Counter | None = None) -> list[dict[str, Any]]:
    """Prepared records with a fixed ``split``: held-out templates go to test (and val) whole. Fills whose
    reply would not lead back to their plan are dropped and counted in ``report["reply does not lead back"]``."""
    split_of = splits(seed=seed, test_fraction=test_fraction, val_fraction=val_fraction)
    out, seen = [], set()
    for i, ex in enumerate(examples(per_template=per_template, seed=seed)):
        key = (ex.question, ex.patient_id is None)
        if key in seen:
            continue
        seen.add(key)
        rec = record(ex, i, split_of[ex.template])
        if not reply_leads_back(ex, rec["answer"]):
            if report is not None:
                report["reply does not lead back"] += 1
            continue
        out.append(rec)
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
    """Fills of the held-out templates whose right reply leads back to their plan (what a perfect model
    could get right through the app's checks)."""
    test_ids = held_out(TEMPLATES, test_fraction=test_fraction, seed=seed)
    return [ex for ex in examples(per_template=per_template, seed=seed)
            if ex.template in test_ids and reply_leads_back(ex, plan_reply_json(ex.plan, question=ex.question))]
