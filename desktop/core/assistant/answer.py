"""A computed answer: the text shown, the figures it states, and how it was computed."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from desktop.core.assistant.plan import Plan


@dataclass(frozen=True)
class Fact:
    """One figure the answer states, as the record has it (canonical unit)."""

    label: str
    value: float | str
    unit: str = ""
    observed_at: str | None = None   # ISO time of the reading
    flag: str | None = None          # N, L, H, LL, HH; None when there is no range
    rule: str | None = None          # the limit and its authority behind the flag
    patient_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Answer:
    plan: Plan
    text: str
    facts: list[Fact] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    params: list[list[Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)   # the rows used (for a cohort: the patients counted)
    computed: bool = True                                # False: the model answers ("general" plans)
    seconds: float = 0.0
    planner: str = "parser"   # who made the plan: "parser", "parser_unsure" or "model" (both marked in the text)
    model_plan: dict[str, Any] | None = None             # the model planner's reply, confidence and time
    # Declined (contracts.md 1): the record does not hold what was asked, or the plan language cannot express
    # it. One plain sentence, no facts, computed=True, and the question never goes to the language model.
    declined: bool = False

    def how_computed(self) -> str:
        """Plan in words, the SQL with its parameters, and how many rows were used."""
        who = {"model": " (made by the on-device model, not the exact parser: check it)",
               "parser_unsure": " (the exact parser did not read every word of the question: check it)"}.get(
            self.planner, "")
        lines = [f"Plan{who}: {self.plan.in_words()}."]
        for sql, params in zip(self.sql, self.params, strict=False):
            lines.append("SQL: " + " ".join(sql.split()) + (f"  -- parameters: {params}" if params else ""))
        lines.append(f"Rows used: {len(self.rows)}")
        return "\n".join(lines)

    def source_line(self) -> str:
        """One line on what ran to produce this computed answer (the chat panel's status line)."""
        if self.model_plan is None:
            return "Computed from the workspace; no model ran"
        seconds = float(self.model_plan.get("seconds") or 0.0)
        used = "its plan was used" if self.planner == "model" else "its plan was not used"
        return f"The on-device model planned the question in {seconds:.1f} s ({used}); computed from the workspace"

    def table_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.text, "computed": self.computed, "plan": self.plan.to_dict(),
                "plan_in_words": self.plan.in_words(), "sql": self.sql, "params": [[str(p) for p in ps] for ps in self.params],
                "facts": [f.to_dict() for f in self.facts], "columns": self.columns, "declined": self.declined,
                "rows": [[_plain(v) for v in row] for row in self.rows], "seconds": round(self.seconds, 4),
                "planner": self.planner, "model_plan": self.model_plan}


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
