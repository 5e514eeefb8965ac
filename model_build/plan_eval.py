"""Plan accuracy of a GGUF (with or without the project's adapter) through llama.cpp, exactly as the app plans:
the app's engine, its prompt (``plan_prompt_messages``: the few-shot prompt for the plain base, the trained
prompt when an adapter is loaded), greedy decoding under its checked reply grammar, the model's confidence
gate and ``plan_from_reply``'s checks against the question (``plan_with_model``, the app's own function).

Every question ends one of three ways: **correct** (the app would run exactly the expected plan), **wrong**
(it would run another plan: the dangerous case, shown to a clinician marked "planned by the on-device model")
or **declined** (no plan: the app says so and computes nothing). Rates per question kind with 95% Wilson
intervals; base and base+adapter side by side on held-out phrasing templates.

    python -m model_build.plan_eval --model BASE.gguf [--lora ADAPTER.gguf] --per-template 4 --out DIR
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from desktop.core.llm.engine import Engine
from desktop.core.trained import PLANNER_N_CTX
from desktop.core.trained.toolkit import MIN_CONFIDENCE, plan_with_model
from model_build.data.plan_templates import Example
from model_build.data.plans import held_out_examples

OUTCOMES = ("correct", "wrong", "declined")


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sound at 0 and at n, unlike the normal approximation)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def judge(plan: Any, ex: Example) -> str:
    """"correct" | "wrong" | "declined" for the plan the app's planner made of ``ex.question`` (None: declined)."""
    if plan is None:
        return "declined"
    return "correct" if plan.to_dict() == ex.plan.to_dict() else "wrong"


def evaluate_planner(model: Path, exs: list[Example], *, lora: Path | None = None,
                     min_confidence: float = MIN_CONFIDENCE, threads: int | None = None) -> dict[str, Any]:
    """Run the app's planner over ``exs`` with ``model`` (and the GGUF LoRA ``lora`` over it, as the app loads
    the shipped adapter)."""
    engine = Engine.load(model, n_ctx=PLANNER_N_CTX, n_threads=threads, lora_path=lora)
    rows = []
    try:
        for ex in exs:
            outcome = plan_with_model(engine, question=ex.question, patient_id=ex.patient_id, today=ex.today,
                                      min_confidence=min_confidence)
            status = judge(outcome.plan, ex)
            rows.append({"template": ex.template, "kind": ex.kind, "question": ex.question, "reply": outcome.reply,
                         "status": status, "detail": outcome.reason if status == "declined" else
                         ("" if status == "correct" else outcome.plan.in_words() if outcome.plan else ""),
                         "confidence": outcome.confidence, "seconds": outcome.seconds})
    finally:
        engine.close()
    name = f"{model.name} + {lora.name}" if lora else model.name
    return {"model": name, "rows": rows, **summarise(rows)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def rates(group: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(group)
        counts = {o: sum(r["status"] == o for r in group) for o in OUTCOMES}
        return {"n": n, **counts, "accuracy": counts["correct"] / n if n else 0.0,
                "ci95": list(wilson(counts["correct"], n)), "wrong_rate": counts["wrong"] / n if n else 0.0,
                "wrong_ci95": list(wilson(counts["wrong"], n))}

    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)
    secs = sorted(r["seconds"] for r in rows)
    return {**rates(rows), "per_kind": {k: rates(v) for k, v in sorted(by_kind.items())},
            "median_seconds": secs[len(secs) // 2] if secs else None}


def side_by_side(results: list[dict[str, Any]]) -> str:
    names = [r["model"] for r in results]
    lines = ["# The app's planner on held-out phrasing templates (llama.cpp, the app's prompt, grammar and checks)",
             "", "Each cell: correct [95% CI] / wrong / declined.", "",
             "| kind | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    kinds = sorted({k for r in results for k in r["per_kind"]})
    for kind in [*kinds, "all"]:
        cells = []
        for r in results:
            c = r if kind == "all" else r["per_kind"].get(kind)
            cells.append("-" if c is None else f"{c['accuracy']:.2f} [{c['ci95'][0]:.2f}, {c['ci95'][1]:.2f}] / "
                         f"{c['wrong']} / {c['declined']}")
        n = results[0]["n"] if kind == "all" else results[0]["per_kind"].get(kind, {}).get("n", 0)
        lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_build.plan_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="the base GGUF")
    ap.add_argument("--lora", type=Path, default=None, help="a GGUF LoRA adapter: measured over --model beside it")
    ap.add_argument("--per-template", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1234, help="the build's seed: it picks the held-out templates")
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    exs = held_out_examples(per_template=args.per_template, seed=args.seed, test_fraction=args.test_fraction)
    results = [evaluate_planner(args.model, exs)]
    if args.lora:
        results.append(evaluate_planner(args.model, exs, lora=args.lora))
    table = side_by_side(results)
    print(table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "plan_eval.md").write_text(table)
        (args.out / "plan_eval.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
