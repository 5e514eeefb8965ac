"""Stage 7, verify: every GGUF against the merged HF model, and each quantization against the f16 file.

Checks (all run in one llama.cpp child process, see llama_worker.probe):
- each file loads in the app's llama-cpp-python;
- token ids: llama.cpp's tokenizer and the HF tokenizer give the same ids on a fixed prompt set
  (special tokens parsed, no BOS added);
- logits: NMSE between HF fp32 logits and the f16 GGUF's on the prompt set; NMSE = mean((ref - gguf)^2) /
  var(ref), ref = HF fp32 (goal: ``verify.nmse_max``, 1e-3);
- quality: perplexity of every file on held-out text (test-split conversations, tokenized by HF) and the
  mean per-token KL divergence KL(p_f16 || p_quant), plus how often the top token agrees;
- the chat template is in each file's metadata; greedy decoding produces tokens from each file.
Then writes ``<gguf>.manifest.json`` beside each GGUF.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gguf import Keys

from desktop.core.llm.manifest import sha256_file, write_manifest
from model_build.chat_format import get_format, prompt_messages
from model_build.config import BuildConfig
from model_build.gguf_info import metadata
from model_build.paths import RunPaths, gguf_path, read_optional_json, read_split
from model_build.util import run_child, versions, write_json

log = logging.getLogger(__name__)
DEFAULT_PROMPTS = [
    "Blood pressure 152/94 mm[Hg], heart rate 88 /min, SpO2 97 %.",
    "What is the NEWS2 score?",
    "Patient: Jane Doe (F, 54 y). Conditions: Hypertension; Type 2 diabetes.",
    "Glucose: 182 mg/dL (H, 2024-03-02)\n- Body temperature: 37.9 Cel (normal, 2024-03-02)",
    # No prompt starts with a space: there HF's converted SentencePiece tokenizers and llama.cpp disagree
    # on the dummy prefix (the app never sends such text: its prompts start with the template's tokens).
    "Tabs\tand  double spaces, unicode: µg/L, ≥ 140, naïve, 日本語.",
    "<|im_start|>user\nHow has the systolic blood pressure changed?<|im_end|>\n<|im_start|>assistant\n",
]


def nmse(ref: Any, test: Any) -> float:
    import numpy as np

    ref, test = np.asarray(ref, dtype=np.float64), np.asarray(test, dtype=np.float64)
    return float(np.mean((ref - test) ** 2) / max(np.var(ref), 1e-30))


def main(cfg: BuildConfig) -> dict:
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    paths = RunPaths(cfg)
    merged = paths.merged
    ref_type = cfg.convert.outtype.upper()
    files = {q: gguf_path(cfg, q) for q in [ref_type, *cfg.quantize.types]}
    for q, p in files.items():
        if not p.is_file():
            raise FileNotFoundError(f"expected {p}; run `convert` and `quantize` first")
    tok = AutoTokenizer.from_pretrained(merged)
    model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    fmt = get_format(cfg.model.chat_format)
    prompts = cfg.verify.prompts or DEFAULT_PROMPTS
    hf_tokens = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    prompt_ids = [tok(p, add_special_tokens=True)["input_ids"] for p in prompts]
    test = read_split(cfg, "test") or read_split(cfg, "val")
    if not test:
        raise ValueError("verify: test and validation splits are empty; raise data.test_fraction")
    texts = [fmt.render_prompt(prompt_messages(r), tok.eos_token) + fmt.render_answer(r["answer"], tok.eos_token)
             for r in test[: cfg.verify.kld_texts]]
    text_ids = [tok(t, add_special_tokens=True)["input_ids"][: cfg.verify.kld_max_tokens] for t in texts]
    gen_prompt = tok(fmt.render_prompt(prompt_messages(test[0]), tok.eos_token), add_special_tokens=True)[
        "input_ids"][-cfg.verify.kld_max_tokens:]
    n_ctx = max(map(len, text_ids + prompt_ids + [gen_prompt])) + cfg.verify.generate_tokens + 16
    with tempfile.TemporaryDirectory() as tmp:
        req = {"files": {q: str(p) for q, p in files.items()}, "reference": ref_type, "n_ctx": n_ctx,
               "prompts": prompts, "prompt_ids": prompt_ids, "text_ids": text_ids,
               "generate_prompt_ids": gen_prompt, "generate_tokens": cfg.verify.generate_tokens,
               "logits_out": str(Path(tmp) / "ref_logits.npy")}
        write_json(Path(tmp) / "req.json", req)
        run_child(["-m", "model_build.llama_worker", "probe", str(Path(tmp) / "req.json"),
                   str(Path(tmp) / "res.json")], log_path=paths.verify / "probe.log")
        res = __import__("json").loads((Path(tmp) / "res.json").read_text())
        gguf_logits = np.load(req["logits_out"])
    with torch.no_grad():
        hf_logits = np.concatenate([model(input_ids=torch.tensor([ids])).logits[0].numpy() for ids in prompt_ids])
    logits_nmse = nmse(hf_logits, gguf_logits)
    per_file: dict[str, dict[str, Any]] = {}
    for q in files:
        mism = [i for i, (a, b) in enumerate(zip(hf_tokens, res["tokens"][q])) if a != b]
        per_file[q] = {"tokens_match": not mism, "token_mismatch_prompts": mism,
                       "chat_template": res["chat_template"][q], **res["quality"][q],
                       "generated_tokens": len(res["generated"][q]["ids"]),
                       "generated_text": res["generated"][q]["text"]}
    per_file[ref_type]["logits_nmse_vs_hf"] = logits_nmse
    problems = [f"{q}: token ids differ from HF on prompts {v['token_mismatch_prompts']}"
                for q, v in per_file.items() if not v["tokens_match"]]
    problems += [f"{q}: no chat template in the file" for q, v in per_file.items() if not v["chat_template"]]
    problems += [f"{q}: generated {v['generated_tokens']} tokens, expected {cfg.verify.generate_tokens}"
                 for q, v in per_file.items() if v["generated_tokens"] != cfg.verify.generate_tokens]
    if logits_nmse > cfg.verify.nmse_max:
        problems.append(f"{ref_type}: logits NMSE vs HF {logits_nmse:.3g} > verify.nmse_max {cfg.verify.nmse_max}")
    report = {"reference": ref_type, "logits_nmse_vs_hf": logits_nmse, "nmse_max": cfg.verify.nmse_max,
              "kld_texts": len(text_ids), "files": per_file, "problems": problems, "passed": not problems}
    write_json(paths.verify_report, report)
    for q, p in files.items():
        write_manifest(p, manifest_doc(cfg, p, q, per_file[q], passed=not problems))
    if problems:
        raise RuntimeError("verify failed:\n  " + "\n  ".join(problems))
    log.info("verify: NMSE %.3g; %s", logits_nmse,
             {q: (round(v["ppl"], 3), round(v["kld_mean"], 5)) for q, v in per_file.items()})
    return report


def manifest_doc(cfg: BuildConfig, gguf: Path, quantization: str, verify_metrics: dict[str, Any],
                 passed: bool) -> dict[str, Any]:
    """The manifest of one built GGUF: the fields the app checks (desktop.core.llm.manifest) plus this run's
    provenance: config, data hashes, library versions and the numbers measured on this very file."""
    paths = RunPaths(cfg)
    meta = metadata(gguf)
    arch = meta[Keys.General.ARCHITECTURE]
    prep = read_optional_json(paths.prepare_report) or {}
    quant = read_optional_json(paths.quantize_report) or {}
    evaluation = read_optional_json(paths.eval_report) or {}
    train = read_optional_json(paths.train_summary) or {}
    qstats = quant.get("files", {}).get(quantization) or (quant.get("source") if quantization ==
                                                          cfg.convert.outtype.upper() else None) or {}
    ctx = meta.get(Keys.LLM.CONTEXT_LENGTH.format(arch=arch)) or cfg.model.context_length
    return {
        "file": gguf.name,
        "sha256": sha256_file(gguf),
        "size_bytes": gguf.stat().st_size,
        "quantization": quantization,
        "architecture": arch,
        "base_model": cfg.model.base,
        # For a GGUF base: which file exactly (its sha256), since a path says little on another machine.
        "base_model_source": read_optional_json(paths.base / "source.json"),
        "context_length": int(min(ctx, cfg.model.context_length)),
        "chat_template": meta.get(Keys.Tokenizer.CHAT_TEMPLATE) is not None,
        "chat_format": cfg.model.chat_format,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "verified": passed,
        "data": {"splits": prep.get("splits", {}), "sources": prep.get("sources", {})},
        "config": cfg.to_dict(),
        "versions": {**versions(), "converter": f"llama-cpp-python=={cfg.convert.llama_cpp_python} "
                     "vendor/llama.cpp/convert_hf_to_gguf.py"},
        "metrics": {
            "verify": {k: v for k, v in verify_metrics.items() if k != "generated_text"},
            "bits_per_weight": qstats.get("bits_per_weight"),
            "fallback_tensors": qstats.get("fallback_tensors"),
            "tensor_types": qstats.get("types"),
            "eval": evaluation.get("metrics"),
            "train": {k: train.get(k) for k in ("steps", "seed", "final_train_loss", "final_val_loss",
                                                "tokens_per_s_median")} if train else None,
        },
    }
