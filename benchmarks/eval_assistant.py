"""The assistant's evaluation: questions of every kind, in varied phrasings, about patients and about the
workspace, answered by the app (``answer_question``) and checked against answers computed from the CSV files.

    python -m benchmarks.eval_assistant [--patients 60] [--years 10] [--seeds 1 2] [--per-kind 12] [--no-sample]

Cohorts come from ``devtools.synthetic`` (Synthea-shaped: long records, surveys, QALY/DALY rows, deaths,
children, pregnancies, corrupted rows) and from the committed sample (``resources/sample/synthea``); each is
imported by the app's importer into a temporary workspace. The expected answers are computed here with pandas
from the CSV files and share NO code with the app's queries: their own code mapping (Synthea writes SpO2 as
2708-6; the app stores it as 59408-5), unit conversions and plausibility gates, and their own small table of
adult limits from the shared clinical reference (section 1.2, NEWS2 chart 1) for "is it normal" questions.

Printed: right / wrong / declined per question kind, the number of wrong figures shown unmarked (a computed
answer, not declined, whose figure, date, name or yes/no differs from the expected one), and the time to a
computed answer (median, p95). Exit status 1 when a goal is missed.

Then the held-out phrasings (``benchmarks/eval_assistant_heldout.py``): wordings the parser was not written
for, with the on-device model as fallback planner when a model file is present (``--no-heldout`` skips them).
Then the held-out EHRSQL-style set (``benchmarks/eval_ehrsql.py``), scored with RS(10) (``--no-ehrsql``).

The whole-record kinds (``eval_record_patient.py``, ``eval_record_workspace.py``: conditions, medications,
encounters, procedures, immunizations, allergies, demographics, yes/no over measurements, cohorts) are judged
right / wrong / declined by ``eval_judge.py``; cohorts count the living by default (contracts.md section 1).
Goal: every kind 100% right, no wrong figure shown unmarked (``eval_report.py``).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.eval_assistant_expected import ADULT_AGE, ADULT_NORMAL, Record, expected_flag_normal
from benchmarks.eval_judge import RIGHT, Expect, judge
from benchmarks.eval_record_files import RecordFiles
from benchmarks.eval_record_patient import patient_record_cases
from benchmarks.eval_record_workspace import workspace_record_cases
from benchmarks.eval_report import Report, Result
from desktop.core.assistant.answer import Answer
from desktop.core.assistant.ask import answer_question
from desktop.core.assistant.verify import CONTRADICTED, verify_text
from desktop.core.importers import import_paths
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "resources" / "sample" / "synthea"

# Measurement phrasings (one is drawn per question).
PHRASES = {
    "8480-6": ("systolic blood pressure", "systolic BP", "SBP", "systolic"),
    "8462-4": ("diastolic blood pressure", "diastolic", "DBP"),
    "8867-4": ("heart rate", "pulse", "HR"),
    "9279-1": ("respiratory rate", "breathing rate", "resp rate"),
    "8310-5": ("temperature", "body temperature", "temp"),
    "59408-5": ("oxygen saturation", "SpO2", "sats"),
    "29463-7": ("weight", "body weight"),
    "39156-5": ("BMI", "body mass index"),
    "2339-0": ("glucose", "blood sugar"),
    "4548-4": ("HbA1c", "A1c", "haemoglobin A1c"),
}
TEMPLATES: dict[str, tuple[str, ...]] = {
    "latest": ("what's the {m} now?", "{m}, most recent value", "What is the latest {m}?", "current {m}?", "most recent {m} please", "What was the last {m} reading?"),
    "max": ("what was the highest {m} reading?", "largest {m} recorded", "What is the highest {m} ever recorded?", "peak {m}", "maximum {m} on record", "worst {m}?"),
    "min": ("what was the lowest {m} reading?", "smallest {m} value", "What is the lowest {m}?", "minimum {m} recorded", "lowest ever {m}"),
    "count": ("how often has the {m} been checked?", "count of {m} readings", "How many {m} readings are there?", "number of {m} measurements", "how many times was {m} measured?"),
    "mean": ("average {m} across all readings", "on average, what is the {m}?", "What is the average {m}?", "mean {m}", "typical {m} over all readings"),
    "first": ("what was the initial {m}?", "first ever {m} reading", "What was the first {m} on record?", "earliest {m}", "baseline {m}"),
    "last_date": ("When was {m} last checked?", "when was the most recent {m}?", "When was the {m} last measured?", "date of the most recent {m}", "when was {m} last recorded"),
    "flag": ("is the {m} out of range?", "is the {m} in the normal range?", "Is the {m} normal?", "is the latest {m} within the healthy range?", "is {m} abnormal?"),
    "above": ("any {m} readings over {t}?", "how many times was the {m} greater than {t}?", "How many {m} readings were above {t}?", "was the {m} ever above {t}?", "{m} over {t}"),
    "median": ("what's the median {m}", "What is the median {m}?", "median {m} over all readings"),
    "change": ("is the {m} trending up?", "how did the {m} change over time", "How has the {m} changed?", "{m} trend over time", "has the {m} gone up or down?"),
    "year_mean": ("average {m} in {y}", "What was the average {m} in {y}?", "mean {m} during {y}"),
    "since_count": ("how many times was the {m} measured since {y}?", "How many {m} readings since {y}?", "number of {m} measurements since {y}"),
    "below": ("any {m} readings less than {t}?", "How many {m} readings were below {t}?", "was the {m} ever under {t}?"),
    "cohort_count": ("How many patients have {c}?", "number of patients with {c}", "how many patients with {c}?"),
    "cohort_sex_count": ("How many women with {c}?", "how many men have {c}?"),
    "cohort_mean": ("What is the average {m} for patients with {c}?", "mean {m} among patients with {c}",
                    "average {m} across patients"),
    "which_above": ("Which patients have a {m} above {t}?", "which patients have {m} over {t}",
                    "list patients with {m} above {t}", "how many patients have a {m} above {t}?"),
    "cohort_max": ("What is the highest {m} across patients?", "maximum {m} among all patients"),
    "cohort_age_count": ("How many patients are older than {a}?", "how many patients aged {a} or over?",
                         "how many patients are younger than {a}?"),
    "attention": ("Which patients need attention first?", "who is most at risk?", "which patients are sickest?"),
}
COHORT_KINDS = ("cohort_count", "cohort_sex_count", "cohort_mean", "cohort_max", "cohort_age_count", "which_above",
                "attention")
THRESHOLDS = {"8480-6": 140, "8462-4": 90, "8867-4": 100, "59408-5": 95, "8310-5": 37.5, "39156-5": 30,
              "2339-0": 120, "9279-1": 20}
LOW_THRESHOLDS = {"8480-6": 110, "8462-4": 70, "8867-4": 65, "59408-5": 97, "8310-5": 36.6, "39156-5": 22,
                  "2339-0": 90, "9279-1": 14}


@dataclass
class Case:
    kind: str
    question: str
    patient_id: str | None
    check: Callable[[Answer], bool] | None
    expected: Any
    expect: Expect | None = None     # the record kinds: judged by ``eval_judge`` (right / wrong / declined)


def _close(a: Any, b: float, tolerance: float = 0.011) -> bool:
    return isinstance(a, (int, float)) and abs(float(a) - b) <= tolerance


def _first_value(answer: Answer) -> Any:
    return answer.facts[0].value if answer.facts else None


def patient_cases(record: Record, rng: random.Random, per_kind: int) -> Iterator[Case]:
    obs = record.observations
    counts = obs.groupby(["patient", "code"]).size()
    living_or_not = [(p, c) for (p, c), n in counts.items() if n >= 2]
    rng.shuffle(living_or_not)
    kinds = ("latest", "max", "min", "count", "mean", "median", "change", "first", "last_date", "flag", "above",
             "below", "year_mean", "since_count")
    for kind in kinds:
        made = 0
        for patient, code in living_or_not:
            if made >= per_kind:
                break
            if kind == "flag" and code not in ADULT_NORMAL:
                continue
            if kind in ("above", "below") and code not in THRESHOLDS:
                continue
            r = record.readings(patient, code)
            newest, oldest = r.iloc[0], r.sort_values(["at", "value"], ascending=[True, True]).iloc[0]
            if kind == "flag":
                age = record.age_at(patient, newest["at"])
                pregnant = record.conditions[(record.conditions["patient"] == patient)
                                             & record.conditions["description"].str.lower().str.contains("pregnan")]
                if age is None or age < ADULT_AGE or len(pregnant):
                    continue
            phrase = rng.choice(PHRASES[code])
            template = rng.choice(TEMPLATES[kind])
            years = sorted({at[:4] for at in r["at"]})
            year = rng.choice(years)
            limit_for = LOW_THRESHOLDS if kind == "below" else THRESHOLDS
            question = template.format(m=phrase, t=f"{limit_for.get(code, 0):g}", y=year)
            check: Callable[[Answer], bool]
            if kind == "latest":
                expected: Any = (newest["value"], newest["at"][:10])
                check = _fact_is(newest["value"], newest["at"][:10])
            elif kind == "first":
                expected = (oldest["value"], oldest["at"][:10])
                check = _fact_is(oldest["value"], oldest["at"][:10])
            elif kind == "max":
                expected = float(r["value"].max())
                check = _value_is(expected)
            elif kind == "min":
                expected = float(r["value"].min())
                check = _value_is(expected)
            elif kind == "mean":
                expected = float(r["value"].mean())
                check = _value_is(expected, 0.006)
            elif kind == "count":
                expected = float(len(r))
                check = _value_is(expected)
            elif kind == "median":
                expected = float(r["value"].median())
                check = _value_is(expected, 0.006)
            elif kind == "change":
                expected = float(newest["value"] - oldest["value"])
                check = lambda a, e=expected: any(f.label.startswith("change in") and _close(f.value, e, 0.006)
                                                  for f in a.facts)
            elif kind == "year_mean":
                expected = float(r.loc[r["at"].str.startswith(year), "value"].mean())
                check = _value_is(expected, 0.006)
            elif kind == "since_count":
                expected = float((r["at"] >= f"{year}-01-01").sum())
                check = _value_is(expected)
            elif kind == "last_date":
                expected = newest["at"][:10]
                check = lambda a, e=expected: bool(a.facts) and (a.facts[0].observed_at or "")[:10] == e
            elif kind == "flag":
                expected = expected_flag_normal(float(newest["value"]), code)
                check = lambda a, e=expected: bool(a.facts) and (a.facts[0].flag == "N") == e
            elif kind == "below":
                limit = float(LOW_THRESHOLDS[code])
                expected = int((r["value"] < limit).sum())
                check = lambda a, e=expected: len(a.rows) == e and (f"{e} of " in a.text)
            else:
                limit = float(THRESHOLDS[code])
                expected = int((r["value"] > limit).sum())
                check = lambda a, e=expected: len(a.rows) == e and (f"{e} of " in a.text)
            made += 1
            yield Case(kind, question, patient, check, expected)


def _fact_is(value: float, day: str) -> Callable[[Answer], bool]:
    return lambda a: bool(a.facts) and _close(a.facts[0].value, value) and (a.facts[0].observed_at or "")[:10] == day


def _value_is(value: float, tolerance: float = 0.011) -> Callable[[Answer], bool]:
    return lambda a: _close(_first_value(a), value, tolerance)


def _mean_of(value: float, patients: int) -> Callable[[Answer], bool]:
    return lambda a: _close(_first_value(a), value, 0.006) and len(a.rows) == patients


def cohort_cases(record: Record, rng: random.Random, per_kind: int) -> Iterator[Case]:
    # Cohorts count the living by default (contracts.md section 1).
    living = set(record.patients.loc[record.patients["death"] == "", "patient"])
    active = record.conditions[record.conditions["active"]]["description"].str.lower()
    words = [w for w in ("diabetes", "hypertension", "obesity", "asthma", "anemia", "prediabetes", "hyperlipidemia",
                         "chronic kidney disease", "pregnancy") if active.str.contains(w, regex=False).any()]
    for kind in COHORT_KINDS:
        for i in range(per_kind):
            template = TEMPLATES[kind][i % len(TEMPLATES[kind])]
            condition = words[i % len(words)] if words else "hypertension"
            code = ("8480-6", "8462-4", "8867-4", "39156-5", "2339-0")[i % 5]
            phrase = rng.choice(PHRASES[code])
            if kind == "cohort_count":
                expected: Any = float(len(record.with_condition(condition) & living))
                yield Case(kind, template.format(c=condition), None, _value_is(expected), expected)
            elif kind == "cohort_sex_count":
                sex = "F" if "women" in template else "M"
                expected = float(len(record.with_condition(condition, sex) & living))
                yield Case(kind, template.format(c=condition), None, _value_is(expected), expected)
            elif kind == "cohort_mean":
                among = record.with_condition(condition) & living if "{c}" in template else living
                latest = record.latest_by_patient(code, among)
                expected = float(statistics.mean(latest.values())) if latest else None
                question = template.format(m=phrase, c=condition)
                if expected is None:
                    yield Case(kind, question, None, lambda a: not a.facts, None)
                else:
                    yield Case(kind, question, None, _mean_of(expected, len(latest)), expected)
            elif kind == "cohort_max":
                latest = record.latest_by_patient(code, living)
                expected = max(latest.values()) if latest else None
                yield Case(kind, template.format(m=phrase), None, _value_is(expected or 0), expected)
            elif kind == "cohort_age_count":
                age = (40, 65, 18, 70)[i % 4]
                ages = {p: a for p, a in record.ages_now().items() if p in living}
                if "younger" in template:
                    expected = float(sum(1 for a in ages.values() if a is not None and a < age))
                elif "or over" in template:
                    expected = float(sum(1 for a in ages.values() if a is not None and a >= age))
                else:
                    expected = float(sum(1 for a in ages.values() if a is not None and a > age))
                yield Case(kind, template.format(a=age), None, _value_is(expected), expected)
            elif kind == "which_above":
                code = tuple(THRESHOLDS)[i % len(THRESHOLDS)]
                limit = float(THRESHOLDS[code])
                latest = record.latest_by_patient(code, living)
                expected = sorted(p for p, v in latest.items() if v > limit)
                question = template.format(m=rng.choice(PHRASES[code]), t=f"{limit:g}")
                yield Case(kind, question, None, lambda a, e=expected: sorted(r[0] for r in a.rows) == e, expected)
            else:
                dead = set(record.patients.loc[record.patients["death"] != "", "patient"])
                yield Case(kind, template, None, lambda a, d=dead: a.computed and a.plan.operation == "attention" and not (
                    {r[0] for r in a.rows} & d) and _in_attention_order(a.rows),
                    "living patients, by band (critical flag or NEWS2 >= 7, NEWS2 5-6, NEWS2 1-4 or abnormal), "
                    "then current NEWS2")


def _in_attention_order(rows: list[list[Any]]) -> bool:
    """The agreed attention rule (contracts.md 3, attention.py): band first (3: a critical flag or NEWS2 >= 7;
    2: NEWS2 5-6; 1: NEWS2 1-4 or an abnormal flag), then the current NEWS2, each computed here from the row's
    own current findings (its reason, "old: ..." findings left out) and score."""
    keys = []
    for row in rows:
        current = [f for f in str(row[6] or "").split("; ") if f and not f.startswith("old:")]
        news = row[2] if isinstance(row[2], int) and any(f.startswith("NEWS2") for f in current) else 0
        band = max(3 if news >= 7 or any(" critically " in f for f in current) else 0,
                   2 if news >= 5 else 1 if news >= 1 or any(re.search(r" (H high|L low) ", f) for f in current) else 0)
        keys.append((band, news))
    return keys == sorted(keys, reverse=True)


def run_cases(store: Store, cases: list[Case]) -> list[Result]:
    results = []
    for case in cases:
        answer = answer_question(store, question=case.question, patient_id=case.patient_id)
        outcome = ""
        if case.expect is not None:
            outcome = judge(answer, case.expect)
            ok = outcome == RIGHT
        else:
            declined = bool(getattr(answer, "declined", False))
            ok = answer.computed and not declined and case.check is not None and case.check(answer)
            outcome = "right" if ok else ("declined" if declined or not answer.computed else "wrong")
        got = answer.text if len(answer.text) < 300 else answer.text[:300] + "..."
        # The verifier must agree with the computed text it is given the facts of: a span it calls
        # contradicted there is a verifier bug that would mark a right answer wrong.
        verdict = verify_text(answer.text, facts=answer.facts)
        contradicted = [f"{s.text!r} ({s.reason})" for s in verdict.spans if s.status == CONTRADICTED]
        results.append(Result(case.kind, case.question, ok, answer.computed, answer.seconds, case.expected, got,
                              contradicted, outcome, marked=answer.planner in ("model", "parser_unsure")))
    return results


def record_cases(files: RecordFiles, record: Record, rng: random.Random, per_kind: int) -> Iterator[Case]:
    """The whole-record kinds (``eval_record_patient``, ``eval_record_workspace``) as cases."""
    for c in patient_record_cases(files, record, rng, per_kind):
        yield Case(c.kind, c.question, c.patient_id, None, c.expect, c.expect)
    for c in workspace_record_cases(files, record, rng, max(2, per_kind // 2)):
        yield Case(c.kind, c.question, c.patient_id, None, c.expect, c.expect)


def evaluate_cohort(synthea: Path, workspace: Path, *, seed: int, per_kind: int, measurements: bool = True,
                    whole_record: bool = True) -> list[Result]:
    record = Record.read(synthea)
    store = open_store(workspace)
    try:
        import_paths(store, [synthea])
        rng = random.Random(seed)
        cases: list[Case] = []
        if measurements:
            cases += list(patient_cases(record, rng, per_kind)) + list(cohort_cases(record, rng, max(2, per_kind // 2)))
        if whole_record:
            cases += list(record_cases(RecordFiles.read(synthea), record, random.Random(seed + 1), per_kind))
        results = run_cases(store, cases)
        for r in results:
            r.source = synthea.parent.name if synthea != SAMPLE else "sample"
        return results
    finally:
        store.close()


def run_evaluation(*, patients: int, years: int, seeds: list[int], per_kind: int, sample: bool,
                   measurements: bool = True, whole_record: bool = True) -> Report:
    """Generated cohorts (every Synthea file: medications, allergies, procedures, immunizations too) and the
    committed sample, each imported into a temporary workspace and asked every kind."""
    report = Report()
    with tempfile.TemporaryDirectory(prefix="vitalsight-eval-") as tmp:
        for seed in seeds:
            folder = Path(tmp) / f"cohort-{seed}"
            generate_cohort(folder, patients=patients, years=years, seed=seed, wide_rows=0, extra_files=True,
                            snapshot=False, history_changes=True)
            report.results += evaluate_cohort(folder / "synthea", folder / "ws.duckdb", seed=seed, per_kind=per_kind,
                                              measurements=measurements, whole_record=whole_record)
        if sample and SAMPLE.exists():
            report.results += evaluate_cohort(SAMPLE, Path(tmp) / "sample.duckdb", seed=0, per_kind=per_kind,
                                              measurements=measurements, whole_record=whole_record)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.eval_assistant", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=60)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--per-kind", type=int, default=12, help="questions per kind per cohort")
    ap.add_argument("--no-sample", action="store_true", help="leave out the committed sample")
    ap.add_argument("--no-heldout", action="store_true", help="skip the held-out phrasings (and the model)")
    ap.add_argument("--no-ehrsql", action="store_true", help="skip the held-out EHRSQL-style set")
    ap.add_argument("--with-model", action="store_true",
                    help="EHRSQL-style set: run the on-device model for questions handed to its prose, judge it")
    args = ap.parse_args(argv)
    report = run_evaluation(patients=args.patients, years=args.years, seeds=args.seeds, per_kind=args.per_kind,
                            sample=not args.no_sample)
    print(report.text())
    ok = report.goals_met()
    if not args.no_heldout:
        from benchmarks.eval_assistant_heldout import main as heldout_main

        print("\n# Held-out phrasings (parser, then the on-device model as fallback planner)")
        sys.stdout.flush()
        ok = heldout_main([]) == 0 and ok
    if not args.no_ehrsql:
        from benchmarks.eval_ehrsql import main as ehrsql_main

        print("\n# Held-out EHRSQL-style set (benchmarks/eval_ehrsql_heldout.py; scored with RS(10))")
        sys.stdout.flush()
        ok = ehrsql_main(["--with-model"] if args.with_model else []) == 0 and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
