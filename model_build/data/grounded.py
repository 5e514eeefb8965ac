"""The "grounded" data source: questions about long Synthea-shaped records answered with the app's own texts.

A cohort from the one synthetic generator (``devtools/synthetic``) is imported into a temporary workspace by
the app's importer; each question is a patient template filled in, its plan run by ``run_plan`` and the
answer is ``run_plan(...).text``: the computed, flagged answer the app shows. Questions about a
measurement the record lacks get the app's "the record has no ... readings" text, so the model learns to
say the record does not say. The prompt is the app's chat prompt for that patient (system prompt plus the
patient context, then the question as the app grounds it).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from desktop.core.trained import grounded_question, patient_context, system_text
from desktop.core.trained.toolkit import (
    PlanError,
    import_paths,
    open_store,
    record_today,
    run_plan,
    validate_plan,
)
from devtools.synthetic import generate_cohort
from model_build.data.plan_templates import TEMPLATES, fill

SOURCE = "grounded"


def generate(*, patients: int, questions_per_patient: int, seed: int, years: int = 6) -> list[dict[str, Any]]:
    """Prepared records grouped by patient (all of one patient's questions stay in one split)."""
    rng = random.Random(seed)
    patient_templates = [t for t in TEMPLATES if t.subject == "patient" and t.kind != "general"]
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vitalsight-grounded-") as tmp:
        folder = Path(tmp)
        generate_cohort(folder / "cohort", patients=patients, years=years, seed=seed, wide_rows=0, extra_files=False)
        store = open_store(folder / "ws.duckdb")
        try:
            import_paths(store, [folder / "cohort" / "synthea"])
            ids = [r[0] for r in store.con.execute("SELECT patient_id FROM patients ORDER BY patient_id").fetchall()]
            for pid in ids:
                context = patient_context(store, pid)
                today = record_today(store, pid)
                for j in range(questions_per_patient):
                    ex = fill(rng.choice(patient_templates), rng, today=today, patient_id=pid)
                    try:
                        answer = run_plan(store, validate_plan(ex.plan)).text
                    except PlanError:
                        continue
                    out.append({"id": f"grounded-{pid}-{j}", "group": f"grounded:{pid}", "source": SOURCE,
                                "system": system_text(context),
                                "messages": [{"role": "user", "content": grounded_question(ex.question, context)}],
                                "answer": answer,
                                "meta": {"template": ex.template, "kind": ex.kind, "question": ex.question,
                                         "today": today.isoformat(), "patient_id": pid,
                                         "absent": answer.startswith("The record has no ")}})
        finally:
            store.close()
    return out
