"""The held-out EHRSQL-style set (``benchmarks/eval_ehrsql_heldout.py``: do not tune on it), asked of the app
over the committed sample and a generated cohort, each imported into a temporary workspace, and scored with
EHRSQL 2024's reliability score RS(10) (Lee et al., ClinicalNLP 2024, https://github.com/glee4810/ehrsql-2024):

    +1   a right answer; an unanswerable question declined is right
     0   an answerable question declined (or handed to the model's prose, which is not run by default)
    -10  a wrong answer, hedged or not; an unanswerable question answered in any way

    python -m benchmarks.eval_ehrsql [--set ehrsql|bedside] [--per-template 3] [--no-cohort] [--with-model]

``--set bedside`` asks the second held-out set (``benchmarks/eval_bedside_heldout.py``, bedside wording with
pronouns, written after the first set's failures had been read), scored the same way.

Printed: RS(10) x 100 / N, the share of answerable questions right, how many unanswerable ones were declined,
the median seconds per computed answer, and right / wrong / declined per category. Goals: >= 90% answerable
right, every unanswerable declined, RS(10) >= 85, a computed answer in under 1 s (median). Exit status 1 when a
goal is missed.

``--with-model`` runs ``python -m desktop chat`` (the on-device model, as a user would) for each question the
app hands to the model's prose, and judges that prose like a computed answer's text.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from benchmarks.eval_assistant_expected import Record
from benchmarks.eval_ehrsql_heldout import TEMPLATES, UNANSWERABLE, Template
from benchmarks.eval_judge import DECLINED, RIGHT, WRONG, Expect, answer_body, judge
from benchmarks.eval_record_files import RecordFiles
from desktop.core.assistant.ask import answer_question
from desktop.core.importers import import_paths
from desktop.core.workspace.store import open_store
from devtools.synthetic import generate_cohort

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "resources" / "sample" / "synthea"
PENALTY = 10
T = TypeVar("T")
GOALS = {"answerable_right": 0.90, "rs": 85.0, "seconds": 1.0}
WORKSPACE_CATEGORIES = ("cohort counts",)


@dataclass(frozen=True)
class Question:
    template: str
    category: str
    text: str
    patient_id: str | None      # the patient selected in the app (None: nobody selected)
    expect: Expect

    @property
    def answerable(self) -> bool:
        return self.expect.how != "decline"


@dataclass
class Scored:
    question: Question
    outcome: str
    computed: bool
    seconds: float
    got: str
    source: str

    @property
    def points(self) -> int:
        return 1 if self.outcome == RIGHT else (-PENALTY if self.outcome == WRONG else 0)


def build_questions(files: RecordFiles, obs: Record, *, seed: int, per_template: int,
                    question_set: str = "ehrsql") -> list[Question]:
    if question_set == "bedside":
        return _bedside_questions(files, obs, seed=seed, per_template=per_template)
    rng = random.Random(seed)
    people = sorted(files.patients["patient"])

    def one(template: Template, pid: str, n: int) -> Question | None:
        built = template.build(files, obs, rng, pid)
        if built is None:
            return None
        selected = None if template.category in WORKSPACE_CATEGORIES or n % 3 == 2 else pid
        return Question(template.id, template.category, built[0], selected, built[1])

    out = _sampled(TEMPLATES, people, rng, per_template, one)
    for i, text in enumerate(UNANSWERABLE):
        pid = people[(i * 7 + seed) % len(people)]
        out.append(Question("unanswerable", "unanswerable", text.format(pid=pid), None if i % 3 == 2 else pid,
                            Expect("decline")))
    return out


def _sampled(templates: Sequence[T], people: list[str], rng: random.Random, per_template: int,
             one: Callable[[T, str, int], Question | None]) -> list[Question]:
    """``per_template`` questions of each template, about patients in a shuffled order; ``one(template, patient,
    n)`` makes the n-th question or None when the template does not fit that patient."""
    out: list[Question] = []
    for template in templates:
        order = people[:]
        rng.shuffle(order)
        made = 0
        for pid in order:
            if made >= per_template:
                break
            question = one(template, pid, len(out))
            if question is not None:
                out.append(question)
                made += 1
    return out


def _bedside_questions(files: RecordFiles, obs: Record, *, seed: int, per_template: int) -> list[Question]:
    from benchmarks import eval_bedside_heldout as bedside

    rng = random.Random(seed)
    people = sorted(files.patients["patient"])

    def one(template: bedside.Template, pid: str, n: int) -> Question | None:
        selected = not template.workspace and n % 3 != 2
        built = template.build(files, obs, rng, pid, bedside.Who.of(files, pid, selected))
        if built is None:
            return None
        return Question(template.id, template.category, built[0], pid if selected else None, built[1])

    out = _sampled(bedside.TEMPLATES, people, rng, per_template, one)
    for i, text in enumerate(bedside.UNANSWERABLE):
        pid = people[(i * 7 + seed) % len(people)]
        who = bedside.Who.of(files, pid, i % 3 != 2)
        out.append(Question("unanswerable", "unanswerable", text.format(s=who.s, o=who.o, p=who.p),
                            pid if i % 3 != 2 else None, Expect("decline")))
    return out


def _prose(workspace: Path, q: Question) -> str:
    """The on-device model's reply, as ``python -m desktop chat`` gives it to a user."""
    who = ["--patient", q.patient_id] if q.patient_id else []
    cmd = [sys.executable, "-m", "desktop", "chat", "--workspace", str(workspace), *who, "--quiet", q.text]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO, check=False)
    return done.stdout.strip()


def ask_all(synthea: Path, workspace: Path, *, seed: int, per_template: int, with_model: bool,
            source: str, question_set: str = "ehrsql") -> list[Scored]:
    files, obs = RecordFiles.read(synthea), Record.read(synthea)
    questions = build_questions(files, obs, seed=seed, per_template=per_template, question_set=question_set)
    store = open_store(workspace)
    answers = []
    try:
        import_paths(store, [synthea])
        for q in questions:
            answers.append(answer_question(store, question=q.text, patient_id=q.patient_id))
    finally:
        store.close()
    scored = []
    for q, a in zip(questions, answers, strict=True):
        prose = with_model and not a.computed and not getattr(a, "declined", False)
        if prose:
            a.text = _prose(workspace, q)
        outcome = judge(a, q.expect, prose_judged=prose)
        got = answer_body(a.text or "")
        scored.append(Scored(q, outcome, a.computed, a.seconds, got[:240] + ("..." if len(got) > 240 else ""), source))
    return scored


@dataclass
class HeldOutScore:
    rows: list[Scored]

    def rs(self) -> float:
        return 100.0 * sum(r.points for r in self.rows) / len(self.rows) if self.rows else 0.0

    def answerable(self) -> list[Scored]:
        return [r for r in self.rows if r.question.answerable]

    def unanswerable(self) -> list[Scored]:
        return [r for r in self.rows if not r.question.answerable]

    def answerable_right(self) -> float:
        rows = self.answerable()
        return sum(r.outcome == RIGHT for r in rows) / len(rows) if rows else 0.0

    def median_seconds(self) -> float | None:
        secs = [r.seconds for r in self.rows if r.computed]
        return statistics.median(secs) if secs else None

    def goals_met(self) -> bool:
        median = self.median_seconds()
        return (self.answerable_right() >= GOALS["answerable_right"]
                and all(r.outcome == RIGHT for r in self.unanswerable()) and self.rs() >= GOALS["rs"]
                and (median is None or median < GOALS["seconds"]))

    def text(self, *, examples: int = 30) -> str:
        n, ans, un = len(self.rows), self.answerable(), self.unanswerable()
        templates = {r.question.template for r in ans}
        lines = [(f"held-out questions: {n} ({len(ans)} answerable over {len(templates)} templates, "
                 f"{len(un)} unanswerable)"),
                 f"{'category':<16} {'right':>6} {'wrong':>6} {'declined':>9} {'asked':>6}"]
        by: dict[str, list[Scored]] = defaultdict(list)
        for r in self.rows:
            by[r.question.category].append(r)
        for category, rs in sorted(by.items()):
            c = {o: sum(r.outcome == o for r in rs) for o in (RIGHT, WRONG, DECLINED)}
            lines.append(f"{category:<16} {c[RIGHT]:>6} {c[WRONG]:>6} {c[DECLINED]:>9} {len(rs):>6}")
        median = self.median_seconds()
        lines += [
            f"RS(10) x 100 / N: {self.rs():.1f}   (goal >= {GOALS['rs']:.0f}; EHRSQL 2024's best system: 81.3)",
            (f"answerable right: {sum(r.outcome == RIGHT for r in ans)}/{len(ans)} = {self.answerable_right():.1%}"
            f"   (goal >= {GOALS['answerable_right']:.0%}); wrong {sum(r.outcome == WRONG for r in ans)}, "
            f"declined {sum(r.outcome == DECLINED for r in ans)}"),
            f"unanswerable declined: {sum(r.outcome == RIGHT for r in un)}/{len(un)}   (goal: all)",
            "median seconds per computed answer: " + (f"{median:.3f} s" if median is not None else "none computed")
            + f"   (goal < {GOALS['seconds']:.0f} s)",
        ]
        shown: dict[str, int] = defaultdict(int)
        for r in self.rows:
            if r.outcome == RIGHT or shown[r.question.template] >= 1 or sum(shown.values()) >= examples:
                continue
            shown[r.question.template] += 1
            lines.append(f"  {r.outcome.upper()} [{r.question.template}] {r.question.text!r}: expected "
                         f"{r.question.expect!r}; got {r.got!r}")
        lines.append("goals met" if self.goals_met() else "GOALS NOT MET")
        return "\n".join(lines)


def run_heldout_set(*, per_template: int = 3, cohort: bool = True, with_model: bool = False,
                    patients: int = 40, years: int = 10, seed: int = 11, question_set: str = "ehrsql") -> HeldOutScore:
    rows: list[Scored] = []
    with tempfile.TemporaryDirectory(prefix="vitalsight-ehrsql-") as tmp:
        rows += ask_all(SAMPLE, Path(tmp) / "sample.duckdb", seed=seed, per_template=per_template,
                        with_model=with_model, source="sample", question_set=question_set)
        if cohort:
            folder = Path(tmp) / "cohort"
            generate_cohort(folder, patients=patients, years=years, seed=seed, wide_rows=0, extra_files=True,
                            snapshot=False, history_changes=True)
            rows += ask_all(folder / "synthea", folder / "ws.duckdb", seed=seed + 1,
                            per_template=max(1, per_template - 1), with_model=with_model, source="cohort",
                            question_set=question_set)
    return HeldOutScore(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.eval_ehrsql", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-template", type=int, default=3, help="questions per template on the sample")
    ap.add_argument("--no-cohort", action="store_true", help="the sample only")
    ap.add_argument("--with-model", action="store_true",
                    help="run the on-device model for questions handed to its prose, and judge that prose")
    ap.add_argument("--set", dest="question_set", choices=("ehrsql", "bedside"), default="ehrsql",
                    help="which held-out set: EHRSQL's templated wording, or bedside wording (the newer one)")
    args = ap.parse_args(argv)
    score = run_heldout_set(per_template=args.per_template, cohort=not args.no_cohort, with_model=args.with_model,
                            question_set=args.question_set)
    print(score.text())
    return 0 if score.goals_met() else 1


if __name__ == "__main__":
    sys.exit(main())
