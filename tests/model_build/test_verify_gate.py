"""verify's measurements in the app's llama.cpp on the app's prompts, and the gate that fails a damaged
quantized file, a file whose prompt tokens differ from training, and a file that decodes nothing but end tokens."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model_build import llama_worker, verify
from model_build.chat_format import get_format
from model_build.encode import encode_prompt

SYSTEM = ("You are a clinical assistant. Answer only from the patient record below.\n"
          "Patient: Jane Doe (F, 54 y). Conditions: Hypertension; Type 2 diabetes.\n"
          "Blood pressure 152/94 mm[Hg] (2024-03-02); heart rate 88 /min; glucose 182 mg/dL (H).")
CONVERSATION = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": "What was the last blood pressure?"}]
ANSWER = "The last blood pressure was 152/94 mm[Hg], measured on 2024-03-02."


def _damaged_copy(src: Path, dest: Path) -> Path:
    """Every quantized block matrix with its rows in reverse order: finite weights, wrong model."""
    import gguf

    shutil.copyfile(src, dest)
    reader = gguf.GGUFReader(dest, "r+")
    for t in reader.tensors:
        if t.name.startswith("blk.") and t.data.ndim == 2:
            t.data[:] = t.data[::-1].copy()
    del reader
    return dest


@pytest.fixture(scope="module")
def probed(smol_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("verify")
    damaged = _damaged_copy(smol_gguf, tmp / "damaged.gguf")
    req = {"files": {"F16": str(smol_gguf), "Q8_0": str(smol_gguf), "Q4_K_M": str(damaged)},
           "reference": "F16", "n_ctx": 512, "conversations": [CONVERSATION], "scored": [(CONVERSATION, ANSWER)],
           "max_tokens": 512, "generate_conversation": CONVERSATION, "generate_tokens": 6,
           "logits_out": str(tmp / "logits.npy")}
    return llama_worker.probe(req)


def test_damaged_quantization_fails_the_kld_gate(probed: dict) -> None:
    per_file = verify.file_results(probed, probed["tokens"]["F16"])
    assert per_file["Q8_0"]["kld_mean"] == pytest.approx(0.0, abs=1e-9)
    assert per_file["F16"]["answer_tokens"] > 10  # the answer is scored, not cut off
    assert per_file["Q4_K_M"]["kld_mean"] > 1.0
    problems = verify.gate(per_file, "F16", kld_max=0.1)
    assert len(problems) == 1 and problems[0].startswith("Q4_K_M: mean KL divergence"), problems
    assert per_file["F16"]["prompt_tokens_max"] > 60  # the whole system prompt and patient context


def test_app_prompt_tokens_equal_training_tokens_and_a_mismatch_fails(probed: dict, tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    training = [encode_prompt(tok, get_format("chatml"), {"system": None, "messages": CONVERSATION})]
    per_file = verify.file_results(probed, training)
    assert per_file["F16"]["tokens_match"], (probed["tokens"]["F16"][0][:12], training[0][:12])
    shifted = verify.file_results(probed, [[tok.bos_token_id or 1, *training[0]]])
    assert any("prompt tokens differ" in p for p in verify.gate(shifted, "F16", kld_max=10.0))


def test_generation_that_yields_no_text_fails(probed: dict) -> None:
    per_file = verify.file_results(probed, probed["tokens"]["F16"])
    assert per_file["F16"]["generated_text"].strip()
    assert per_file["F16"]["generated_end_tokens"] < per_file["F16"]["generated_tokens"] == 6
    per_file["Q8_0"]["generated_end_tokens"] = 6  # a file stuck on its end token
    assert any(p.startswith("Q8_0: greedy decoding produced only end tokens")
               for p in verify.gate(per_file, "F16", kld_max=10.0))
