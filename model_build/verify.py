"""Stage 7, verify: every GGUF against the merged HF model, and each quantization against the f16 file.

Checks (all run in one llama.cpp child process, see llama_worker.probe), all on the app's real prompts
(the test split's system prompt + patient context + question, rendered with each file's own chat
template through the app's ChatTemplate and tokenized as the app does: add_bos=False, special tokens):
- each file loads in the app's llama-cpp-python and carries a chat template;
- token ids: the app's prompt tokens equal the training tokens (encode.encode_prompt) from token 0;
- logits: NMSE between HF fp32 logits and the f16 GGUF's, both on llama.cpp's own tokens of the app's
  prompts; NMSE = mean((ref - gguf)^2) / var(ref), ref = HF fp32 (goal: ``verify.nmse_max``);
- quality: perplexity of every file on the reference *answer tokens* (prompt as context only; the
  oldest context is cut, never the answer, past ``verify.kld_max_tokens``) and the mean per-token KL
  divergence KL(p_f16 || p_quant) there, gated by ``verify.kld_max``; how often the top token agrees;
- greedy decoding from an app prompt yields text (not only end tokens) with finite logits.
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
from model_build.encode import encode_prompt
from model_build.gguf_info import metadata
from model_build.paths import RunPaths, gguf_path, read_optional_json, read_split
from model_build.util import run_child, versions, write_json

log = logging.getLogger(__name__)
def nmse(ref: Any, test: Any) -> float:
    import numpy as np

    ref, test = np.asarray(ref, dtype=np.float64), np.asarray(test, dtype=np.float64)
    return float(np.mean((ref - test) ** 2) / max(np.var(ref), 1e-30))


def file_results(res: dict[str, Any], training_tokens: list[list[int]]) -> dict[str, dict[str, Any]]:
    """Per file: the worker's measurements plus the app-vs-training token comparison."""
    per_file: dict[str, dict[str, Any]] = {}
    for q, tokens in res["tokens"].items():
        mism = [i for i, (a, b) in enumerate(zip(training_tokens, tokens)) if a != b]
        mism += list(range(min(len(training_tokens), len(tokens)), max(len(training_tokens), len(tokens))))
        per_file[q] = {"tokens_match": not mism, "token_mismatch_prompts": mism,
                       "prompt_tokens_max": max(map(len, tokens)) if tokens else 0,
                       "chat_template": res["chat_template"][q], **res["quality"][q],
                       "generated_tokens": len(res["generated"][q]["ids"]),
                       "generated_end_tokens": res["generated"][q]["end_tokens"],
                       "generated_text": res["generated"][q]["text"]}
    return per_file


def gate(per_file: dict[str, dict[str, Any]], reference: str, kld_max: float) -> list[str]:
    """Every reason a file must not ship: app prompt tokens that differ from training's, no chat
    template, non-finite logits, greedy decoding that yields nothing but end tokens, a quantization whose answer-token
    KL divergence against the reference exceeds ``verify.kld_max``."""
    problems = [f"{q}: the app's prompt tokens differ from the training tokens on prompts "
                f"{v['token_mismatch_prompts']}" for q, v in per_file.items() if not v["tokens_match"]]
    problems += [f"{q}: no chat template in the file" for q, v in per_file.items() if not v["chat_template"]]
    problems += [f"{q}: non-finite logits" for q, v in per_file.items() if not v.get("finite_logits", True)]
    problems += [f"{q}: greedy decoding produced only end tokens ({v['generated_tokens']} generated)"
                 for q, v in per_file.items() if v["generated_end_tokens"] >= v["generated_tokens"]]
    problems += [f"{q}: no answer tokens scored" for q, v in per_file.items() if not v.get("answer_tokens")]
    for q, v in per_file.items():
        kld = v.get("kld_mean")
        if q != reference and (kld is None or not kld <= kld_max):
            problems.append(f"{q}: mean KL divergence vs {reference} on answer tokens {kld} > verify.kld_max "
                            f"{kld_max}")
    return problems


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
    test = read_split(cfg, "test") or read_split(cfg, "val")
    if not test:
        raise ValueError("verify: test and validation splits are empty; raise data.test_fraction")
    # The app's real prompts: system prompt + patient context + question, as prepared for the test split
    # (up to the app's lengths), plus any extra questions from the config under the first record's system.
    records = test[: cfg.verify.kld_texts]
    conversations = [prompt_messages(r) for r in records]
    conversations += [[*conversations[0][:1], {"role": "user", "content": q}] for q in cfg.verify.prompts]
    training_tokens = [encode_prompt(tok, fmt, {"system": None, "messages": c}) for c in conversations]
    scored = [(prompt_messages(r), r["answer"]) for r in records]
    longest = max(len(t) for t in training_tokens)
    n_ctx = max(longest, cfg.verify.kld_max_tokens) + cfg.verify.generate_tokens + 64
    with tempfile.TemporaryDirectory() as tmp:
        req = {"files": {q: str(p) for q, p in files.items()}, "reference": ref_type, "n_ctx": n_ctx,
               "conversations": conversations, "scored": scored, "max_tokens": cfg.verify.kld_max_tokens,
               "generate_conversation": conversations[0], "generate_tokens": cfg.verify.generate_tokens,
               "logits_out": str(Path(tmp) / "ref_logits.npy")}
        write_json(Path(tmp) / "req.json", req)
        run_child(["-m", "model_build.llama_worker", "probe", str(Path(tmp) / "req.json"),
                   str(Path(tmp) / "res.json")], log_path=paths.verify / "probe.log")
        res = __import__("json").loads((Path(tmp) / "res.json").read_text())
        gguf_logits = np.load(req["logits_out"])
    with torch.no_grad():  # PyTorch on llama.cpp's own tokens of the app's prompts
        hf_logits = np.concatenate([model(input_ids=torch.tensor([ids])).logits[0].numpy()
                                    for ids in res["tokens"][ref_type]])
    logits_nmse = nmse(hf_logits, gguf_logits)
    per_file = file_results(res, training_tokens)
    per_file[ref_type]["logits_nmse_vs_hf"] = logits_nmse
    problems = gate(per_file, ref_type, cfg.verify.kld_max)
    if logits_nmse > cfg.verify.nmse_max:
        problems.append(f"{ref_type}: logits NMSE vs HF {logits_nmse:.3g} > verify.nmse_max {cfg.verify.nmse_max}")
    report = {"reference": ref_type, "logits_nmse_vs_hf": logits_nmse, "nmse_max": cfg.verify.nmse_max,
              "kld_texts": len(scored), "files": per_file, "problems": problems, "passed": not problems}
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
