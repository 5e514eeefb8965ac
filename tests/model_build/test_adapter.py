"""The adapter stage on a tiny random Llama, on the CPU, with real parts only: peft LoRA, llama.cpp's
``convert_lora_to_gguf.py`` from the llama-cpp-python sdist, the adapter loaded by llama-cpp-python over a
GGUF of the base, compared with the merged HF model; the manifest read back by the app's checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.manifest import ADAPTER_KIND, load_manifest, sha256_file
from model_build.adapter import gate, judge_answer
from model_build.config import config_from_dict


def _base_gguf(base: Path, converter: Path, dest: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    subprocess.run([sys.executable, str(converter / "convert_hf_to_gguf.py"), str(base), "--outtype", "f16",
                    "--outfile", str(dest)], check=True, capture_output=True, env=env)
    return dest


@pytest.mark.slow
def test_tiny_adapter_converts_loads_over_its_base_and_matches_the_merged_model(
        tmp_path: Path, converter_dir: Path, tokenizer_dir: Path) -> None:
    from model_build import adapter, merge, prepare, train
    from model_build.tiny import make_model

    make_model("llama-tiny", tokenizer_dir, tmp_path / "base")
    base_gguf = _base_gguf(tmp_path / "base", converter_dir, tmp_path / "base-F16.gguf")
    cfg = config_from_dict({
        "name": "test-adapter", "out_dir": str(tmp_path / "run"), "seed": 5,
        "model": {"base": str(tmp_path / "base"), "chat_format": "chatml", "context_length": 1024},
        "lora": {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "r": 4, "alpha": 8},
        "data": {"synthetic_patients": 0, "plans_per_template": 1, "val_fraction": 0.0, "test_fraction": 0.2},
        # A large learning rate so that four steps move the adapter well away from zero: the gate checks
        # base+adapter is closer to the merged model than the base alone, i.e. the adapter is applied.
        "train": {"max_steps": 4, "batch_size": 2, "lr": 0.02, "warmup_steps": 0, "eval_every": 4,
                  "save_every": 4, "max_seq_len": 512},
        "eval": {"enabled": False},
        "convert": {"converter_dir": str(converter_dir)},
        "adapter": {"enabled": True, "base_gguf": str(base_gguf), "prompts": 2, "generate_tokens": 6,
                    "plan_eval_per_template": 0, "answer_eval_patients": 0,
                    "ship_to": str(tmp_path / "shipped")},
    })
    prepare.main(cfg)
    train.main(cfg)
    merge.main(cfg)
    report = adapter.main(cfg)

    lora = Path(report["adapter"])
    assert report["problems"] == [] and lora.stat().st_size < 2_000_000
    cmp = report["vs_merged_hf"]
    assert cmp["answer_tokens"] > 20 and cmp["same_top_token"] >= 0.9
    assert cmp["kld_mean"] < cmp["kld_mean_without_adapter"]
    man = load_manifest(lora)
    assert man["kind"] == ADAPTER_KIND and man["verified"] is True
    assert man["sha256"] == sha256_file(lora) and man["base"]["sha256"] == sha256_file(base_gguf)
    assert (lora.parent / (lora.stem + ".card.md")).read_text().startswith(f"# {lora.name}")
    # Not measured against the base on plans here, so never shipped.
    assert "shipped" not in report and not (tmp_path / "shipped").exists()

    # The app's side: the adapter is checked against its base, loaded over it by the engine, and answers.
    from desktop.core.llm.engine import Engine
    from desktop.core.llm.model_files import adapter_for, check_adapter

    assert check_adapter(lora, base_gguf)["file"] == lora.name
    assert adapter_for(base_gguf, enabled=True, adapter=lora) == lora
    assert adapter_for(base_gguf, enabled=False, adapter=lora) is None
    engine = Engine.load(base_gguf, n_ctx=256, lora_path=lora)
    try:
        assert len(engine.tokenize("hello there")) > 0
    finally:
        engine.close()

    # A different base of the same shape (another seed): refused by sha256 before llama.cpp sees it.
    make_model("llama-tiny", tokenizer_dir, tmp_path / "other", seed=1)
    other = _base_gguf(tmp_path / "other", converter_dir, tmp_path / base_gguf.name.replace("base", "other"))
    with pytest.raises(ModelFileError, match="made for the base base-F16.gguf"):
        check_adapter(lora, other)


def test_adapter_gate_names_every_failure() -> None:
    cfg = config_from_dict({"name": "x", "model": {"base": "b.gguf"}, "data": {"plans_per_template": 1}})
    good = {"answer_tokens": 100, "same_top_token": 0.97, "kld_mean": 0.01, "kld_mean_without_adapter": 0.5}
    assert gate(good, cfg) == []
    bad = {**good, "same_top_token": 0.5, "kld_mean": 0.6}
    problems = gate(bad, cfg)
    assert len(problems) == 3
    assert "top-token agreement" in problems[0] and "KL divergence" in problems[1]
    assert "the adapter was not applied" in problems[2]
    assert gate({**good, "answer_tokens": 0}, cfg) == ["no answer tokens compared"]


def test_answer_judge_counts_invented_and_missing_figures() -> None:
    context = "Heart rate 88 /min on 2025-01-06; systolic 173 mm[Hg]."
    ref = "1 systolic blood pressure reading: 173 mm[Hg] on 2025-01-06."
    assert judge_answer("One reading, 173 mm[Hg] on 2025-01-06.", ref, context)["correct"] is False  # "1" missing
    assert judge_answer("1 reading: 173 mm[Hg] on 2025-01-06.", ref, context)["correct"] is True
    invented = judge_answer("1 reading: 173 mm[Hg] on 2025-01-06, and 140 earlier.", ref, context)
    assert invented["correct"] is False and invented["invented"] == ["140"]
    absent = "The record has no heart rate readings."
    assert judge_answer("There are no heart rate readings.", absent, context)["correct"] is True
    assert judge_answer("Heart rate was 95.", absent, context)["correct"] is False


def test_shipped_preset_enables_the_adapter_stage() -> None:
    from model_build.cli import STAGES
    from model_build.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "model_build" / "configs" / "smollm2-135m.toml")
    assert cfg.adapter.enabled and cfg.adapter.ship_to == "resources/models"
    assert STAGES.index("merge") < STAGES.index("adapter")
    assert json.dumps(cfg.to_dict())  # the resolved config stays JSON for the manifest


def test_shipped_only_for_what_it_measured_better_at() -> None:
    from model_build.adapter import beats_base, roles

    def plans(correct: int, wrong: int, n: int = 40) -> dict:
        from model_build.plan_eval import wilson

        return {"accuracy": correct / n, "wrong_rate": wrong / n, "wrong_ci95": list(wilson(wrong, n))}

    better = {"plans": {"base": plans(5, 2), "adapter": plans(30, 3)}}
    assert beats_base(better) and roles(better) == ["planner"]
    # More right but far more wrong plans: a wrong plan runs, so this is not better.
    reckless = {"plans": {"base": plans(5, 2), "adapter": plans(30, 10)}}
    assert not beats_base(reckless) and roles(reckless) == []
    answers = {"base": {"correct": 3, "figures_invented": 4}, "adapter": {"correct": 3, "figures_invented": 2}}
    assert roles({**better, "answers": answers}) == ["planner", "chat"]
    answers["adapter"]["figures_invented"] = 5
    assert roles({**better, "answers": answers}) == ["planner"]
    assert not beats_base({})
