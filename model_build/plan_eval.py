"""Plan accuracy of a GGUF through llama.cpp, as the app would run it: the file's own chat template rendered
by the app's ``ChatTemplate``, tokens from the app's engine (``add_bos=False``, specials parsed), greedy
decoding under the grammar llama-cpp-python makes from ``plan_json_schema()``, the JSON read back with
``plan_from_dict``. Every output is counted: correct, wrong (a valid plan, not the expected one) or
invalid (with the reason). Accuracy per question kind with a 95% Wilson interval; base and fine-tuned side
by side on the held-out phrasing templates.

    python -m model_build.plan_eval --model BASE.gguf [--model TUNED.gguf] --per-template 5 --out DIR
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from desktop.core.assistant.model_plan import GrammarNotConverted, checked_grammar  # noqa: F401  (raised by plan_grammar)
from desktop.core.assistant.plan import PlanError, plan_from_dict, plan_json_schema
from desktop.core.llm.engine import Engine
from desktop.core.llm.prompt import ChatMessage
from model_build.data.plan_templates import Example
from model_build.data.plans import PLAN_SYSTEM_PROMPT, held_out_examples, plan_from_output, plan_user_message


def plan_grammar() -> tuple[Any, str]:
    """The grammar object and its GBNF text for the full plan schema, checked the way the app's planner
    checks its own (:func:`desktop.core.assistant.model_plan.checked_grammar`)."""
    return checked_grammar(plan_json_schema())


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sound at 0 and at n, unlike the normal approximation)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def judge(text: str, ex: Example) -> tuple[str, str]:
    """("correct" | "wrong" | "invalid", detail) for one model output."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return "invalid", f"not JSON ({exc.msg} at {exc.pos})"
    if not isinstance(data, dict):
        return "invalid", f"a JSON {type(data).__name__}, not an object"
    try:
        plan = plan_from_dict(plan_from_output(data, patient_id=ex.patient_id))
    except (PlanError, ValueError, TypeError) as exc:
        return "invalid", f"not a valid plan: {exc}"
    return ("correct", "") if plan.to_dict() == ex.plan.to_dict() else ("wrong", plan.in_words())


def evaluate_model(model: Path, exs: list[Example], *, max_tokens: int = 256, n_ctx: int = 2048,
                   lora: Path | None = None) -> dict[str, Any]:
    """``lora``: a GGUF LoRA adapter loaded over ``model``, as the app loads the shipped adapter."""
    grammar, _ = plan_grammar()
    engine = Engine.load(model, n_ctx=n_ctx, lora_path=lora)
    rows = []
    try:
        for ex in exs:
            messages = [ChatMessage("system", PLAN_SYSTEM_PROMPT),
                        ChatMessage("user", plan_user_message(ex.question, today=ex.today,
                                                              patient_selected=ex.patient_id is not None))]
            tokens = engine.tokenize(engine.chat_template.render(messages, add_generation_prompt=True))
            out = engine.llm.create_completion(tokens, max_tokens=max_tokens, temperature=0.0, grammar=grammar)
            text = out["choices"][0]["text"]
            status, detail = judge(text, ex)
            if status == "invalid" and out["choices"][0].get("finish_reason") == "length":
                detail = f"cut at max_tokens={max_tokens}; {detail}"
            rows.append({"template": ex.template, "kind": ex.kind, "question": ex.question, "output": text,
                         "status": status, "detail": detail})
    finally:
        engine.close()
    name = f"{model} + {lora.name}" if lora else str(model)
    return {"model": name, "rows": rows, **summarise(rows)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    per_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "correct": 0, "wrong": 0, "invalid": 0})
    for r in rows:
        per_kind[r["kind"]]["n"] += 1
        per_kind[r["kind"]][r["status"]] += 1
    kinds = {}
    for kind, c in sorted(per_kind.items()):
        lo, hi = wilson(c["correct"], c["n"])
        kinds[kind] = {**c, "accuracy": c["correct"] / c["n"], "ci95": [lo, hi]}
    n = len(rows)
    correct = sum(r["status"] == "correct" for r in rows)
    lo, hi = wilson(correct, n)
    return {"n": n, "correct": correct, "invalid": sum(r["status"] == "invalid" for r in rows),
            "accuracy": correct / n if n else 0.0, "ci95": [lo, hi], "per_kind": kinds}


def side_by_side(results: list[dict[str, Any]]) -> str:
    names = [Path(r["model"]).name for r in results]
    lines = ["# Plan accuracy on held-out phrasing templates (llama.cpp, grammar-constrained)", "",
             "| kind | n | " + " | ".join(f"{n} acc [95% CI] (invalid)" for n in names) + " |",
             "|---|---|" + "---|" * len(names)]
    kinds = sorted({k for r in results for k in r["per_kind"]})
    for kind in [*kinds, "all"]:
        cells = []
        for r in results:
            c = r if kind == "all" else r["per_kind"].get(kind)
            cells.append("-" if c is None else
                         f"{c['accuracy']:.2f} [{c['ci95'][0]:.2f}, {c['ci95'][1]:.2f}] ({c['invalid']})")
        n = results[0]["n"] if kind == "all" else results[0]["per_kind"].get(kind, {}).get("n", 0)
        lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_build.plan_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", required=True, help="a GGUF; give base first, then fine-tuned")
    ap.add_argument("--per-template", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1234, help="the build's seed: it picks the held-out templates")
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    exs = held_out_examples(per_template=args.per_template, seed=args.seed, test_fraction=args.test_fraction)
    results = [evaluate_model(Path(m), exs) for m in args.model]
    table = side_by_side(results)
    print(table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "plan_eval.md").write_text(table)
        (args.out / "plan_eval.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
