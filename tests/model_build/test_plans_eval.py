"""Plan accuracy through llama.cpp with the shipped base GGUF, by the app's own planner: every question ends
correct, wrong or declined (with the reason), and a plan counts as correct only when it is the expected one."""

from __future__ import annotations

from pathlib import Path

from desktop.core.assistant.plan import Plan
from model_build import plan_eval
from model_build.data import plans

ROOT = Path(__file__).resolve().parents[2]
BASE_GGUF = ROOT / "resources" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_judge_and_interval() -> None:
    ex = plans.examples(per_template=1, seed=2)[0]
    assert plan_eval.judge(ex.plan, ex) == "correct"
    assert plan_eval.judge(None, ex) == "declined"
    assert plan_eval.judge(Plan("general"), ex) == "wrong"
    lo, hi = plan_eval.wilson(0, 10)
    assert lo == 0.0 and 0.2 < hi < 0.35
    rows = [{"kind": "a", "status": s, "seconds": 0.1} for s in ("correct", "wrong", "declined", "correct")]
    summary = plan_eval.summarise(rows)
    assert (summary["correct"], summary["wrong"], summary["declined"], summary["accuracy"]) == (2, 1, 1, 0.5)
    assert summary["wrong_ci95"][0] < 0.25 < summary["wrong_ci95"][1]


def test_the_base_gguf_through_the_apps_planner(tmp_path: Path) -> None:
    exs = plans.held_out_examples(per_template=1, seed=1234)[:3]
    result = plan_eval.evaluate_planner(BASE_GGUF, exs)
    assert result["n"] == 3 and len(result["rows"]) == 3
    for row in result["rows"]:
        assert row["status"] in plan_eval.OUTCOMES
        assert row["detail"] or row["status"] == "correct"
        assert row["reply"]  # the grammar always lets the model write a reply
    table = plan_eval.side_by_side([result, result])
    assert "| all | 3 |" in table and table.count("SmolLM2-135M-Instruct.Q4_1.gguf") == 2
