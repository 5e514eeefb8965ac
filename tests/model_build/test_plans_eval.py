"""Plan accuracy through llama.cpp with the shipped base GGUF: the grammar really is the plan schema's, and
every output either validates as a plan or is reported invalid with its reason (no accuracy figure asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_build import plan_eval
from model_build.data import plans

ROOT = Path(__file__).resolve().parents[2]
BASE_GGUF = ROOT / "resources" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_grammar_is_converted_from_the_plan_schema() -> None:
    _, gbnf = plan_eval.plan_grammar()
    assert "operation-kv" in gbnf and '\\"which_patients\\"' in gbnf and '\\"8480-6\\"' in gbnf


def test_a_generic_grammar_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import JSON_GBNF

    monkeypatch.setattr(LlamaGrammar, "from_json_schema", classmethod(lambda cls, s, verbose=True:
                                                                       cls.from_string(JSON_GBNF)))
    with pytest.raises(plan_eval.GrammarNotConverted, match="operation-kv"):
        plan_eval.plan_grammar()


def test_judge_and_interval() -> None:
    ex = plans.examples(per_template=1, seed=2)[0]
    assert plan_eval.judge(plans.plan_target(ex.plan), ex) == ("correct", "")
    assert plan_eval.judge('{"kind": "data"', ex)[0] == "invalid"
    wrong = json.loads(plans.plan_target(ex.plan)) | {"operation": "which_patients"}
    status, detail = plan_eval.judge(json.dumps(wrong), ex)
    assert status == "invalid" and "operation" in detail
    lo, hi = plan_eval.wilson(0, 10)
    assert lo == 0.0 and 0.2 < hi < 0.35


def test_base_gguf_outputs_validate_or_are_reported_invalid(tmp_path: Path) -> None:
    exs = plans.held_out_examples(per_template=1, seed=1234)[:2]
    result = plan_eval.evaluate_model(BASE_GGUF, exs, max_tokens=160)
    assert result["n"] == 2 and len(result["rows"]) == 2
    for row in result["rows"]:
        assert row["status"] in ("correct", "wrong", "invalid")
        if row["status"] == "invalid":
            assert row["detail"]
        else:
            assert json.loads(row["output"])["kind"] in ("data", "general")
    table = plan_eval.side_by_side([result, result])
    assert "| all | 2 |" in table and table.count("SmolLM2-135M-Instruct.Q4_1.gguf") == 2
