"""The main evaluation's results and report: per question kind, right / wrong / declined, and the goals.

Goals (issue 18): every kind 100% right; zero wrong figures shown unmarked (a computed answer, not declined,
that disagrees with the expected one); the verifier never calls the app's own computed text contradicted.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.eval_judge import DECLINED, RIGHT, WRONG

GOAL_PER_KIND = 1.0


@dataclass
class Result:
    kind: str
    question: str
    ok: bool
    computed: bool
    seconds: float
    expected: Any
    got: str
    contradicted: list[str] = field(default_factory=list)   # the verifier on the app's own computed text
    outcome: str = ""                                       # right / wrong / declined ("" : from ``ok``)
    source: str = ""                                        # which cohort
    marked: bool = False        # the answer carries a caution ("check the plan": parser unsure or model-planned)

    def __post_init__(self) -> None:
        if not self.outcome:
            self.outcome = RIGHT if self.ok else (WRONG if self.computed else DECLINED)


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    def by_kind(self) -> dict[str, list[Result]]:
        out: dict[str, list[Result]] = defaultdict(list)
        for r in self.results:
            out[r.kind].append(r)
        return dict(out)

    def wrong_unmarked(self) -> list[Result]:
        """Computed answers (shown as fact, unmarked) whose figure, date, name or yes/no is wrong."""
        return [r for r in self.results if r.outcome == WRONG and r.computed]

    def verifier_disagrees(self) -> list[Result]:
        return [r for r in self.results if r.contradicted]

    def kinds_missing_goal(self) -> list[str]:
        return sorted(k for k, rs in self.by_kind().items() if sum(r.ok for r in rs) / len(rs) < GOAL_PER_KIND)

    def goals_met(self) -> bool:
        return not self.kinds_missing_goal() and not self.wrong_unmarked() and not self.verifier_disagrees()

    def text(self, *, examples: int = 25) -> str:
        lines = [f"{'kind':<20} {'right':>6} {'wrong':>6} {'declined':>9} {'asked':>6} {'accuracy':>9}"]
        for kind, rs in sorted(self.by_kind().items()):
            n = {o: sum(r.outcome == o for r in rs) for o in (RIGHT, WRONG, DECLINED)}
            lines.append(f"{kind:<20} {n[RIGHT]:>6} {n[WRONG]:>6} {n[DECLINED]:>9} {len(rs):>6} "
                         f"{n[RIGHT] / len(rs):>9.1%}")
        total = len(self.results)
        right = sum(r.ok for r in self.results)
        if total:
            lines.append(f"{'all':<20} {right:>6} {sum(r.outcome == WRONG for r in self.results):>6} "
                         f"{sum(r.outcome == DECLINED for r in self.results):>9} {total:>6} {right / total:>9.1%}")
        seconds = sorted(r.seconds for r in self.results if r.computed)
        if seconds:
            p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
            lines.append(f"time to a computed answer: median {statistics.median(seconds) * 1000:.1f} ms, "
                         f"p95 {p95 * 1000:.1f} ms over {len(seconds)} answers")
        lines.append(f"wrong figures shown unmarked: {len(self.wrong_unmarked())} (counted as before: every wrong "
                     f"computed answer; {sum(r.marked for r in self.wrong_unmarked())} of them carry a 'check the "
                     f"plan' caution)")
        lines.append(f"not computed (sent to the model): {sum(not r.computed for r in self.results)}")
        lines.append(f"computed answers the verifier calls contradicted: {len(self.verifier_disagrees())}")
        for r in self.verifier_disagrees()[:10]:
            lines.append(f"  VERIFIER [{r.kind}] {r.question!r}: {'; '.join(r.contradicted[:3])}")
        shown: dict[str, int] = defaultdict(int)
        for r in [r for r in self.results if not r.ok]:
            if sum(shown.values()) >= examples or shown[r.kind] >= 2:
                continue
            shown[r.kind] += 1
            lines.append(f"  {r.outcome.upper()} [{r.kind}] {r.question!r}: expected {r.expected!r}; got {r.got!r}")
        missing = self.kinds_missing_goal()
        lines.append(f"goal: every kind {GOAL_PER_KIND:.0%} right; kinds missing it: {len(missing)} of "
                     f"{len(self.by_kind())}")
        lines.append("goals met" if self.goals_met() else "GOALS NOT MET")
        return "\n".join(lines)
