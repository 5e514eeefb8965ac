"""The whole chain on tiny random GPT-2 and Llama models, on the CPU, with real parts only: peft LoRA,
llama.cpp's converter, its quantizer, and llama-cpp-python loading and generating from every file.

Three cases cover both LoRA target sets and the converter's three vocabulary paths: GPT-2 and Llama with
SmolLM2's BPE tokenizer (recognised as `smollm`), and Llama with a SentencePiece tokenizer this test trains
(TinyLlama's path, via tokenizer.model). About half a minute per case on 2 cores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_build.cli import run_all
from model_build.config import config_from_dict

ATTN = ["q_proj", "k_proj", "v_proj", "o_proj"]
# case: (model shape, LoRA targets, chat format, tokenizer fixture, tokenizer.ggml.model, tokenizer.ggml.pre)
CASES = {
    "gpt2-bpe": ("gpt2-tiny", ["c_attn", "c_proj"], "chatml", "tokenizer_dir", "gpt2", "smollm"),
    "llama-bpe": ("llama-tiny", ATTN, "chatml", "tokenizer_dir", "gpt2", "smollm"),
    "llama-spm": ("llama-tiny", ATTN, "zephyr", "spm_tokenizer_dir", "llama", "default"),
}


def _config(tmp: Path, case: str, base: Path, converter: Path) -> dict:
    _, targets, chat_format, *_ = CASES[case]
    return {
        "name": f"test-{case}", "out_dir": str(tmp / "run"), "seed": 11,
        "model": {"base": str(base), "chat_format": chat_format, "context_length": 1024},
        "lora": {"target_modules": targets, "r": 4, "alpha": 8},
        "data": {"synthetic_patients": 24, "questions_per_patient": 2, "val_fraction": 0.15,
                 "test_fraction": 0.15, "sources": [
                     {"format": "alpaca", "path": str(Path(__file__).parent / "data" / "alpaca.json")}]},
        "train": {"max_steps": 4, "batch_size": 2, "eval_every": 2, "save_every": 2, "max_seq_len": 768,
                  "eval_batches": 2},
        "eval": {"max_examples": 2, "max_new_tokens": 4, "side_by_side": 2},
        "convert": {"converter_dir": str(converter)},
        "quantize": {"types": ["Q8_0", "Q4_K_M"]},
        "verify": {"kld_texts": 2, "kld_max_tokens": 48, "generate_tokens": 4},
        "install": {"enabled": True, "quantization": "Q4_K_M", "models_dir": str(tmp / "models")},
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_tiny_chain_end_to_end(case: str, tmp_path: Path, converter_dir: Path, request: pytest.FixtureRequest
                               ) -> None:
    from model_build import train
    from model_build.tiny import make_model

    shape, _, _, tok_fixture, vocab_model, pre = CASES[case]
    make_model(shape, request.getfixturevalue(tok_fixture), tmp_path / "base")
    cfg = config_from_dict(_config(tmp_path, case, tmp_path / "base", converter_dir))
    out = cfg.out_path
    if case == "llama-spm":
        # Known mismatch, caught by verify since it checks the app's own tokens: llama.cpp reads this
        # tokenizer's user-defined role markers ("<|system|>") as bytes with a "▁" prefix, where HF (and so
        # training) uses the single marker token. The file must not ship; see the lead's report.
        with pytest.raises(RuntimeError, match="the app's prompt tokens differ from the training tokens"):
            run_all(cfg)
        ver = json.loads((out / "verify" / "report.json").read_text())
        assert not ver["passed"] and all(not v["tokens_match"] for v in ver["files"].values())
        conv = json.loads((out / "gguf" / "convert_report.json").read_text())["metadata"]
        assert (conv["tokenizer.ggml.model"], conv["tokenizer.ggml.pre"]) == (vocab_model, pre)
        assert not (tmp_path / "models").exists()  # nothing installed
        return
    timings = run_all(cfg)
    assert list(timings) == ["prepare", "train", "evaluate", "merge", "convert", "quantize", "verify", "install"]

    assert (out / "train" / "loss_curve.png").stat().st_size > 1000
    assert json.loads((out / "train" / "summary.json").read_text())["steps"] == 4
    ev = json.loads((out / "eval" / "report.json").read_text())
    assert set(ev["metrics"]) == {"base", "finetuned"} and ev["metrics"]["finetuned"]["answer_ppl"] > 1

    conv = json.loads((out / "gguf" / "convert_report.json").read_text())["metadata"]
    assert conv["general.architecture"] == shape.split("-")[0]
    assert (conv["tokenizer.ggml.model"], conv["tokenizer.ggml.pre"]) == (vocab_model, pre)

    ver = json.loads((out / "verify" / "report.json").read_text())
    assert ver["passed"], ver["problems"]
    assert ver["logits_nmse_vs_hf"] < 1e-3
    for q, v in ver["files"].items():
        assert v["tokens_match"] and v["chat_template"] and v["generated_tokens"] == 4, q
    assert ver["files"]["Q8_0"]["kld_mean"] < ver["files"]["Q4_K_M"]["kld_mean"] + 1e-6

    quant = json.loads((out / "gguf" / "quantize_report.json").read_text())
    assert 8.4 < quant["files"]["Q8_0"]["bits_per_weight"] < 9.5
    # Width 64 is not a multiple of 256: llama.cpp silently swaps k-quants for other types; we report it.
    assert quant["files"]["Q4_K_M"]["fallback_tensors"] > 0

    installed = tmp_path / "models" / f"test-{case}-Q4_K_M.gguf"
    man = json.loads((installed.parent / (installed.name + ".manifest.json")).read_text())
    from desktop.core.llm.manifest import SCHEMA_VERSION, load_manifest, sha256_file

    assert load_manifest(installed) == man and man["schema_version"] == SCHEMA_VERSION  # the app's reader
    assert man["sha256"] == sha256_file(installed) and man["size_bytes"] == installed.stat().st_size
    assert man["quantization"] == "Q4_K_M" and man["chat_template"] is True and man["verified"] is True
    for key in ("file", "base_model", "context_length", "created", "data", "config", "versions", "metrics"):
        assert key in man
    assert man["data"]["splits"]["train"]["sha256"]
    assert "llama_cpp_python" in man["versions"] and man["metrics"]["bits_per_weight"] > 4
    assert (out / "report.md").read_text().startswith(f"# Model build report: test-{case}")

    # Resume: two more steps continue from the last checkpoint (step 4) with the same data cursor.
    cfg.train.max_steps, cfg.train.resume = 6, True
    summary = train.main(cfg)
    history = [json.loads(x) for x in (out / "train" / "history.jsonl").read_text().splitlines()]
    assert summary["steps"] == 6 and [h["step"] for h in history] == [1, 2, 3, 4, 5, 6]
