"""Held-out phrasings: questions worded as clinicians word them, which the deterministic parser was not written
for, each with the plan it must become. Scored on the committed sample workspace:

- parser coverage: the parser's plan is the expected one and it read every word (``coverage.py``);
- model-planner plan accuracy: of the questions the parser leaves to the model, how many plans the model
  (under the grammar, after ``plan_from_reply``'s checks) gets right, wrong, or declines;
- answers: right, wrong but marked ("planned by the model" / "the parser did not read every word"), not
  computed, and wrong figures shown unmarked (the goal: zero);
- seconds per model plan on this machine.

    python -m benchmarks.eval_assistant_heldout [--model PATH] [--min-confidence 0.5]

``make eval-assistant`` runs it after the main evaluation when a model file is present.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.ask import MODEL_PLANNED
from desktop.core.assistant.model_plan import MIN_CONFIDENCE, ModelPlanOutcome
from desktop.core.assistant.parse import _back
from desktop.core.assistant.plan import Plan
from desktop.core.chat.ask_turn import ask_turn
from desktop.core.chat.session import ChatSettings
from desktop.core.llm.load import load_engine
from desktop.core.llm.manifest import PLANNER_ROLE
from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.core.workspace.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SAMPLE_WORKSPACE = REPO / "resources" / "sample" / "sample-workspace.duckdb"

SBP, DBP, HR, TEMP, SPO2, WEIGHT, BMI, GLU, A1C, EGFR, CREAT, CHOL, NA, K = (
    "8480-6", "8462-4", "8867-4", "8310-5", "59408-5", "29463-7", "39156-5", "2339-0", "4548-4", "33914-3",
    "38483-4", "2093-3", "2947-0", "6298-4")


@dataclass(frozen=True)
class HeldOut:
    """A question and the fields of its plan that matter (``who``: "patient" asks with a patient selected)."""

    kind: str
    question: str
    who: str = "patient"
    operation: str = ""
    measurements: tuple[str, ...] = ()
    threshold: float | None = None
    comparison: str | None = None
    window: str = ""              # "", "in YYYY", "since YYYY", "last N years"
    condition: str | None = None
    general: bool = False


P, W = "patient", "workspace"
HELD_OUT: tuple[HeldOut, ...] = (
    HeldOut("max", "what's the top reading of her diastolic we have?", P, "max", (DBP,)),
    HeldOut("max", "how high has her systolic ever gone?", P, "max", (SBP,)),
    HeldOut("max", "what was her weight at its most?", P, "max", (WEIGHT,)),
    HeldOut("max", "her pulse at its fastest, please", P, "max", (HR,)),
    HeldOut("min", "the bottom value of sodium recorded?", P, "min", (NA,)),
    HeldOut("min", "how low did the sats ever drop?", P, "min", (SPO2,)),
    HeldOut("min", "her glucose at its least, please", P, "min", (GLU,)),
    HeldOut("min", "what's the floor her egfr has hit?", P, "min", (EGFR,)),
    HeldOut("count", "what's the tally of glucose tests on file?", P, "count", (GLU,)),
    HeldOut("count", "tally up her bmi readings", P, "count", (BMI,)),
    HeldOut("count", "how frequently has the temperature been taken?", P, "count", (TEMP,)),
    HeldOut("count", "total number of times her a1c was drawn", P, "count", (A1C,)),
    HeldOut("latest", "what figure did the most recent egfr come out at?", P, "latest", (EGFR,)),
    HeldOut("latest", "where is her hba1c sitting now?", P, "latest", (A1C,)),
    HeldOut("latest", "what did her pulse read last time?", P, "latest", (HR,)),
    HeldOut("latest", "the weight she had on her most recent check", P, "latest", (WEIGHT,)),
    HeldOut("first", "what did her weight start out at?", P, "first", (WEIGHT,)),
    HeldOut("first", "what was her bmi when she first came to us?", P, "first", (BMI,)),
    HeldOut("first", "the very oldest creatinine we hold", P, "first", (CREAT,)),
    HeldOut("last_date", "how long is it since her bmi was looked at?", P, "last_date", (BMI,)),
    HeldOut("last_date", "what date did she last get her cholesterol done?", P, "last_date", (CHOL,)),
    HeldOut("mean", "what does her heart rate usually run?", P, "mean", (HR,)),
    HeldOut("mean", "what's her systolic on the whole?", P, "mean", (SBP,)),
    HeldOut("mean", "her temperature averaged over everything", P, "mean", (TEMP,)),
    HeldOut("change", "has her creatinine crept up?", P, "change", (CREAT,)),
    HeldOut("change", "is the weight heading down?", P, "change", (WEIGHT,)),
    HeldOut("change", "is her a1c getting better or worse?", P, "change", (A1C,)),
    HeldOut("threshold", "has her pulse topped 120 at any point?", P, "above", (HR,), 120, "above"),
    HeldOut("threshold", "did her sats ever dip under 92?", P, "below", (SPO2,), 92, "below"),
    HeldOut("threshold", "any glucose values past 200?", P, "above", (GLU,), 200, "above"),
    HeldOut("threshold", "did the systolic go beyond 160 ever?", P, "above", (SBP,), 160, "above"),
    HeldOut("in_range", "is her sodium ok?", P, "in_range", (NA,)),
    HeldOut("in_range", "is the potassium where it should be?", P, "in_range", (K,)),
    HeldOut("in_range", "is her pulse fine?", P, "in_range", (HR,)),
    HeldOut("which_patients", "who among our patients runs a pulse above 110?", W, "which_patients", (HR,), 110, "above"),
    HeldOut("which_patients", "anyone with a systolic past 180?", W, "which_patients", (SBP,), 180, "above"),
    HeldOut("which_patients", "list everybody whose sats are under 90", W, "which_patients", (SPO2,), 90, "below"),
    HeldOut("which_patients", "which of our people have a bmi beyond 40?", W, "which_patients", (BMI,), 40, "above"),
    HeldOut("cohort", "across the practice, what's the typical bmi?", W, "mean", (BMI,)),
    HeldOut("cohort", "tell me the top systolic anywhere in the workspace", W, "max", (SBP,)),
    HeldOut("cohort", "what's the usual heart rate among patients with asthma?", W, "mean", (HR,), condition="asthma"),
    HeldOut("cohort", "the lowest sats of anyone on our books", W, "min", (SPO2,)),
    HeldOut("attention", "who is the most unwell right now?", W, "attention"),
    HeldOut("attention", "which of our patients is going downhill?", W, "attention"),
    HeldOut("window", "tell me her top pulse during 2021", P, "max", (HR,), window="in 2021"),
    HeldOut("window", "tally of weight checks since 2020", P, "count", (WEIGHT,), window="since 2020"),
    HeldOut("window", "her usual systolic over the past 2 years", P, "mean", (SBP,), window="last 2 years"),
    HeldOut("window", "how low did her sats go in 2022?", P, "min", (SPO2,), window="in 2022"),
    HeldOut("general", "what does a raised creatinine tell us in general?", P, general=True),
    HeldOut("general", "how should a low potassium be managed?", P, general=True),
)


def expected_plan(case: HeldOut, *, patient_id: str, today: date) -> Plan | None:
    """The plan's fields that matter, as a Plan (None for a question that is not about the data)."""
    if case.general:
        return None
    start = end = None
    if case.window.startswith("in "):
        year = int(case.window[3:])
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    elif case.window.startswith("since "):
        start = date(int(case.window[6:]), 1, 1)
    elif case.window.startswith("last "):
        start = _back(today, int(case.window.split()[1]), "year")
    from desktop.core.assistant.plan import CohortFilter, TimeWindow

    return Plan("data", case.who, patient_id if case.who == P else None, case.measurements, case.operation,
                case.threshold, case.comparison, TimeWindow(start, end), CohortFilter(case.condition))


def plans_match(got: Plan | None, want: Plan | None) -> bool:
    """Equal on what changes the figure: kind, subject, patient, measurements, operation, threshold and its
    direction, the window's bounds, the cohort. Not on the window's wording."""
    if want is None:
        return got is None or got.kind != "data"
    if got is None or got.kind != "data":
        return False
    measurements_ok = got.measurements == want.measurements or (
        got.operation in ("latest", "readings") and got.measurements[:1] == want.measurements)
    comparison_ok = want.comparison is None or got.comparison == want.comparison
    return (got.subject == want.subject and got.patient_id == want.patient_id and measurements_ok
            and got.operation == want.operation and got.threshold == want.threshold and comparison_ok
            and (got.window.start, got.window.end, got.window.last_visit) == (want.window.start, want.window.end, False)
            and got.cohort == want.cohort)


@dataclass
class Row:
    case: HeldOut
    parser_plan: Plan
    parser_unread: tuple[str, ...]
    parser_right: bool
    model: ModelPlanOutcome | None
    model_right: bool | None
    answer: Answer
    answer_right: bool
    marked: bool


@dataclass
class HeldOutReport:
    rows: list[Row] = field(default_factory=list)
    model_name: str = ""

    def wrong_unmarked(self) -> list[Row]:
        return [r for r in self.rows if r.answer.computed and not r.answer_right and not r.marked]

    def summary(self) -> dict[str, Any]:
        """The headline counts (the model builder's card quotes them)."""
        asked = [r for r in self.rows if r.model is not None]
        planned = [r for r in asked if r.model and r.model.plan is not None]
        right = sum(bool(r.model_right) for r in asked)
        return {"model": self.model_name, "questions": len(self.rows), "model_asked": len(asked),
                "model_plan_right": right, "model_plan_wrong": len(planned) - right,
                "model_declined": len(asked) - len(planned),
                "answers_right": sum(r.answer_right and r.answer.computed for r in self.rows),
                "answers_wrong_marked": sum(r.answer.computed and not r.answer_right and r.marked for r in self.rows),
                "not_computed": sum(not r.answer.computed for r in self.rows),
                "wrong_unmarked": len(self.wrong_unmarked())}

    def text(self) -> str:
        n = len(self.rows)
        covered = sum(r.parser_right and not r.parser_unread for r in self.rows)
        asked = [r for r in self.rows if r.model is not None]
        planned = [r for r in asked if r.model and r.model.plan is not None]
        right = sum(bool(r.model_right) for r in asked)
        lines = [f"held-out phrasings: {n} ({', '.join(sorted({r.case.kind for r in self.rows}))})",
                 f"parser coverage (expected plan, every word read): {covered}/{n} = {covered / n:.0%}"]
        if asked:
            wrong = sum(1 for r in planned if not r.model_right)
            lines.append(f"model planner ({self.model_name}): asked {len(asked)}, plan right {right} "
                         f"({right / len(asked):.0%}), plan wrong {wrong}, declined {len(asked) - len(planned)}")
            secs = sorted(r.model.seconds for r in asked if r.model)
            lines.append(f"seconds per model plan: median {statistics.median(secs):.2f} s, max {secs[-1]:.2f} s "
                         f"(first, cold prompt, included), prompt {asked[0].model.prompt_tokens} tokens")
        else:
            lines.append("model planner: not used")
        answers_right = sum(r.answer_right and r.answer.computed for r in self.rows)
        marked_wrong = sum(r.answer.computed and not r.answer_right and r.marked for r in self.rows)
        lines.append(f"answers: right {answers_right}, wrong but marked {marked_wrong}, "
                     f"not computed {sum(not r.answer.computed for r in self.rows)}")
        lines.append(f"wrong figures shown unmarked: {len(self.wrong_unmarked())}")
        for r in self.rows:
            model = r.model.reply if r.model and r.model.plan else (r.model.reason if r.model else "-")
            tag = "ok " if r.answer_right else ("MRK" if r.marked and r.answer.computed else
                                                 "---" if not r.answer.computed else "BAD")
            lines.append(f"  {tag} [{r.case.kind}] {r.case.question!r}: parser {r.parser_plan.operation if r.parser_plan.kind == 'data' else 'general'}"
                         f"{' unread ' + ','.join(r.parser_unread) if r.parser_unread else ''}; model {model}")
        return "\n".join(lines)


def run_heldout(store: Store, *, patient_id: str, engine: Any | None, min_confidence: float = MIN_CONFIDENCE,
                cases: tuple[HeldOut, ...] = HELD_OUT) -> HeldOutReport:
    """Every held-out phrasing through :func:`~desktop.core.chat.ask_turn.ask_turn`, the window's and the CLI's
    path (its one rule for when the model plans), with ``engine`` as the planner and no chat model: a
    question the parser reads as general is counted as not computed, as the model's prose would answer it."""
    name = ""
    if engine is not None:
        adapter = getattr(engine, "adapter_path", None)
        name = Path(engine.model_path).name + (f" + {Path(adapter).name}" if adapter else "")
    report = HeldOutReport(model_name=name)
    db = WorkspaceExecutor(store)
    try:
        for case in cases:
            pid = patient_id if case.who == P else None
            result = ask_turn(db=db, question=case.question, patient_id=pid, settings=ChatSettings(),
                              model_name="", chat_engine=None, planner=(lambda: engine) if engine else None,
                              record_audit=False, plan_confidence=min_confidence)
            parsed, outcome, answer = result.parsed, result.planned, result.answer
            want = expected_plan(case, patient_id=patient_id, today=parsed.today)
            marked = answer.planner in ("model", "parser_unsure") and (
                MODEL_PLANNED in answer.text or "did not read every word" in answer.text)
            report.rows.append(Row(case, parsed.plan, parsed.unread, plans_match(parsed.plan, want), outcome,
                                   plans_match(outcome.plan, want) if outcome and outcome.plan else
                                   (False if outcome else None),
                                   answer, plans_match(answer.plan, want) if answer.computed else want is None,
                                   marked))
    finally:
        db.shutdown(close_store=False)
    return report


def busiest_patient(store: Store) -> str:
    return store.con.execute("SELECT patient_id FROM observations GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
                             ).fetchone()[0]


def evaluate_sample(*, model: Path | None, min_confidence: float = MIN_CONFIDENCE, threads: int | None = None,
                    adapter: Path | None = None) -> HeldOutReport:
    """The held-out phrasings on a copy of the sample workspace, with ``model`` (and the LoRA ``adapter``
    over it, as the app's planner loads the shipped one) as the fallback planner."""
    with tempfile.TemporaryDirectory(prefix="vitalsight-heldout-") as tmp:
        workspace = Path(tmp) / "sample.duckdb"
        shutil.copy(SAMPLE_WORKSPACE, workspace)
        store = open_store(workspace)
        engine = None
        try:
            if model is not None:
                # the app's planner, adapter and all (``adapter=None``: the plain model, to compare)
                settings = ChatSettings(n_threads=threads or ChatSettings().n_threads, use_adapter=adapter is not None)
                engine = load_engine(model, PLANNER_ROLE, settings)
            return run_heldout(store, patient_id=busiest_patient(store), engine=engine,
                               min_confidence=min_confidence)
        finally:
            if engine is not None:
                engine.close()
            store.close()


def main(argv: list[str] | None = None) -> int:
    from desktop.core.llm.model_files import default_model_path

    ap = argparse.ArgumentParser(prog="python -m benchmarks.eval_assistant_heldout", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="GGUF (default: the shipped model)")
    ap.add_argument("--no-model", action="store_true", help="the parser alone")
    ap.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-adapter", action="store_true", help="the plain model, without the shipped adapter")
    ap.add_argument("--compare-base", action="store_true",
                    help="also run the plain model without the adapter, and print both")
    args = ap.parse_args(argv)
    model = None if args.no_model else (args.model or default_model_path())
    model = model if model and model.exists() else None
    adapter = None
    if model is not None and not args.no_adapter:
        from desktop.core.llm.load import adapter_for_role

        adapter = adapter_for_role(model, PLANNER_ROLE)  # what the app's planner loads
    runs = [adapter] + ([None] if args.compare_base and adapter is not None else [])
    reports = [evaluate_sample(model=model, min_confidence=args.min_confidence, threads=args.threads, adapter=a)
               for a in runs]
    print("\n\n".join(r.text() for r in reports))
    return 0 if not any(r.wrong_unmarked() for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
