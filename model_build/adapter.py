"""Stage adapter: ship the LoRA adapter itself, as a GGUF LoRA loaded by llama.cpp over the base GGUF.

Why an adapter and not the merged file: the app already carries the base (SmolLM2-135M Q4_1, 98 MB); the
adapter adds a few MB, can be switched off, and a wrong pairing is detectable (the manifest names the sha256
of the base it was trained on; the dequantized fp32 checkpoint the adapter was trained over is made from
exactly that file).

Steps, all on the app's own prompt rendering (the base file's chat template through the app's
``ChatTemplate``, tokenized ``add_bos=False`` with special tokens, as the engine does):
1. convert: llama.cpp's ``convert_lora_to_gguf.py`` from the same llama-cpp-python source release as the
   model converter (``convert.llama_cpp_python``), ``--outtype`` f16 or q8_0; read back: a LoRA adapter with
   the trained alpha, under ``adapter.max_size_mb``.
2. compare: base+adapter in llama.cpp (child process, ``llama_worker adapter``) against the merged HF fp32
   model on test conversations (plans and grounded answers): mean KL(p_HF || p_llama) and top-token agreement
   on the reference answer tokens, greedy-token agreement from the prompt. Gates: agreement >=
   ``adapter.token_agreement_min``, KLD <= ``adapter.kld_max``, and base+adapter closer to the merged model
   than the plain base (else the adapter was not applied).
3. measure: plan accuracy (held-out phrasing templates, grammar-constrained, ``plan_eval``) and answer
   accuracy (grounded questions about patients never trained on) of the plain base and base+adapter, with
   95% Wilson intervals.
4. write the adapter's manifest (kind ``lora_adapter``) and model card beside it; with ``adapter.ship_to``
   set, copy the three files there only when every gate passed and base+adapter beats the base on plans.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop.core.llm.manifest import ADAPTER_KIND, sha256_file, write_manifest
from desktop.core.trained import contract_hashes
from model_build.config import BuildConfig
from model_build.convert import setup_converter
from model_build.gguf_info import metadata
from model_build.paths import RunPaths, read_optional_json, read_split
from model_build.util import run_child, versions, write_json

log = logging.getLogger(__name__)


def adapter_dir(cfg: BuildConfig) -> Path:
    return RunPaths(cfg).root / "adapter"


def adapter_file(cfg: BuildConfig) -> Path:
    return adapter_dir(cfg) / f"{cfg.name}-lora-{cfg.adapter.outtype.upper()}.gguf"


def base_gguf(cfg: BuildConfig) -> Path:
    """The GGUF the adapter is loaded over: the file the training base was dequantized from."""
    path = Path(cfg.adapter.base_gguf or cfg.model.base)
    if path.suffix != ".gguf" or not path.is_file():
        raise FileNotFoundError(f"adapter: expected the base GGUF at {path} (set adapter.base_gguf when model.base "
                                "is not a .gguf file)")
    return path


def convert_adapter(cfg: BuildConfig, hf_base: Path) -> Path:
    """PEFT adapter -> GGUF LoRA with llama.cpp's converter; the result is read back and checked."""
    lora_dir = RunPaths(cfg).adapter
    if not (lora_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(f"expected a trained adapter in {lora_dir}; run `train` first")
    script = setup_converter(cfg.convert.llama_cpp_python, Path(cfg.convert.converter_dir)).with_name(
        "convert_lora_to_gguf.py")
    dest = adapter_file(cfg)
    dest.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    proc = subprocess.run([sys.executable, str(script), "--base", str(hf_base), "--outtype", cfg.adapter.outtype,
                           "--outfile", str(dest), str(lora_dir)], capture_output=True, text=True, env=env,
                          check=False)
    (dest.parent / "convert_lora.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not dest.is_file():
        raise RuntimeError(f"convert_lora_to_gguf failed (exit {proc.returncode}); see "
                           f"{dest.parent / 'convert_lora.log'}:\n{(proc.stderr or proc.stdout)[-3000:]}")
    meta = metadata(dest)
    problems = []
    if meta.get("general.type") != "adapter" or meta.get("adapter.type") != "lora":
        problems.append(f"general.type {meta.get('general.type')!r} / adapter.type {meta.get('adapter.type')!r}, "
                        "expected 'adapter' / 'lora'")
    if meta.get("adapter.lora.alpha") != float(cfg.lora.alpha):
        problems.append(f"adapter.lora.alpha {meta.get('adapter.lora.alpha')}, expected {cfg.lora.alpha}")
    size_mb = dest.stat().st_size / 1e6
    if size_mb > cfg.adapter.max_size_mb:
        problems.append(f"{size_mb:.1f} MB > adapter.max_size_mb {cfg.adapter.max_size_mb}")
    if problems:
        raise RuntimeError(f"converted adapter {dest} fails its checks: " + "; ".join(problems))
    return dest


def _kl_and_top(ref_lp: Any, lp: Any) -> tuple[float, int]:
    import numpy as np

    return float((np.exp(ref_lp) * (ref_lp - lp)).sum()), int((ref_lp.argmax(-1) == lp.argmax(-1)).sum())


def compare_with_merged(cfg: BuildConfig, lora: Path, base: Path, records: list[dict]) -> dict[str, Any]:
    """base+adapter (llama.cpp) vs the merged HF model on the app's tokens of ``records``."""
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM

    from model_build.chat_format import prompt_messages

    merged = RunPaths(cfg).merged
    if not (merged / "config.json").is_file():
        raise FileNotFoundError(f"expected a merged checkpoint in {merged}; run `merge` first")
    scored = [(prompt_messages(r), r["answer"]) for r in records]
    with tempfile.TemporaryDirectory() as tmp:
        req = {"base": str(base), "lora": str(lora), "scored": scored, "out_dir": tmp,
               "n_ctx": cfg.model.context_length, "generate_tokens": cfg.adapter.generate_tokens}
        write_json(Path(tmp) / "req.json", req)
        run_child(["-m", "model_build.llama_worker", "adapter", str(Path(tmp) / "req.json"),
                   str(Path(tmp) / "res.json")], log_path=adapter_dir(cfg) / "probe.log")
        res = json.loads((Path(tmp) / "res.json").read_text())
        model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
        acc = {"tuned": [0.0, 0], "plain": [0.0, 0]}
        n = 0
        greedy_same = greedy_total = 0
        with torch.no_grad():
            for i, conv in enumerate(res["conversations"]):
                ids, start = conv["ids"], conv["start"]
                logits = model(input_ids=torch.tensor([ids])).logits[0].double()
                ref = torch.log_softmax(logits, -1).numpy()[start - 1:-1]
                n += len(ref)
                for name, sums in acc.items():
                    kl, top = _kl_and_top(ref, np.load(Path(tmp) / f"{name}-{i}.npy").astype(np.float64))
                    sums[0] += kl
                    sums[1] += top
                want = conv["greedy"]
                got = model.generate(torch.tensor([ids[:start]]), max_new_tokens=len(want), do_sample=False,
                                     attention_mask=torch.ones(1, start, dtype=torch.long))[0, start:].tolist()
                same = next((j for j, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
                greedy_same += same
                greedy_total += len(want)
    return {"conversations": len(scored), "answer_tokens": n,
            "kld_mean": acc["tuned"][0] / n, "same_top_token": acc["tuned"][1] / n,
            "kld_mean_without_adapter": acc["plain"][0] / n, "same_top_token_without_adapter": acc["plain"][1] / n,
            "greedy_prefix_agreement": greedy_same / greedy_total if greedy_total else None}


def gate(cmp: dict[str, Any], cfg: BuildConfig) -> list[str]:
    """Every reason base+adapter in llama.cpp is not the model that was trained."""
    problems = []
    if not cmp["answer_tokens"]:
        problems.append("no answer tokens compared")
        return problems
    if not cmp["same_top_token"] >= cfg.adapter.token_agreement_min:
        problems.append(f"top-token agreement with the merged HF model {cmp['same_top_token']:.3f} < "
                        f"adapter.token_agreement_min {cfg.adapter.token_agreement_min}")
    if not cmp["kld_mean"] <= cfg.adapter.kld_max:
        problems.append(f"mean KL divergence vs the merged HF model {cmp['kld_mean']:.4f} > adapter.kld_max "
                        f"{cfg.adapter.kld_max}")
    if not cmp["kld_mean"] < cmp["kld_mean_without_adapter"]:
        problems.append(f"base+adapter (KLD {cmp['kld_mean']:.4f}) is not closer to the merged model than the base "
                        f"alone ({cmp['kld_mean_without_adapter']:.4f}): the adapter was not applied")
    return problems


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NEGATION = re.compile(r"\b(no|not|none|never)\b", re.IGNORECASE)


def _numbers(text: str) -> set[str]:
    return {x.rstrip("0").rstrip(".") if "." in x else x for x in _NUMBER.findall(text)}


def judge_answer(output: str, reference: str, prompt_text: str) -> dict[str, Any]:
    """An answer is correct when it states every figure of the app's computed answer and invents none (a
    figure in neither the patient context nor the question); a "the record has no ..." reference needs a
    negative answer with no invented figure."""
    out_nums = _numbers(output)
    invented = sorted(out_nums - _numbers(prompt_text) - _numbers(reference))
    missing = sorted(_numbers(reference) - out_nums)
    if reference.startswith("The record has no "):
        correct = bool(_NEGATION.search(output)) and not invented
    else:
        correct = not missing and not invented
    return {"correct": correct, "invented": invented, "missing": missing, "figures": len(out_nums)}


def answer_accuracy(base: Path, lora: Path | None, records: list[dict], *, max_tokens: int = 96,
                    n_ctx: int = 4096) -> dict[str, Any]:
    """Greedy answers through the app's engine (its template rendering and tokens) to grounded questions."""
    from desktop.core.llm.engine import Engine
    from desktop.core.llm.prompt import ChatMessage
    from model_build.chat_format import prompt_messages
    from model_build.plan_eval import wilson

    engine = Engine.load(base, n_ctx=n_ctx, lora_path=lora)
    rows = []
    try:
        for rec in records:
            msgs = [ChatMessage(m["role"], m["content"]) for m in prompt_messages(rec)]
            tokens = engine.tokenize(engine.chat_template.render(msgs, add_generation_prompt=True))
            text = engine.llm.create_completion(tokens, max_tokens=max_tokens, temperature=0.0)["choices"][0]["text"]
            prompt_text = " ".join(m.content for m in msgs)
            rows.append({"question": rec["meta"]["question"], "reference": rec["answer"], "output": text,
                         **judge_answer(text, rec["answer"], prompt_text)})
    finally:
        engine.close()
    n, correct = len(rows), sum(r["correct"] for r in rows)
    figures = sum(r["figures"] for r in rows)
    invented = sum(len(r["invented"]) for r in rows)
    return {"model": f"{base.name} + {lora.name}" if lora else base.name, "n": n, "correct": correct,
            "accuracy": correct / n if n else 0.0, "ci95": list(wilson(correct, n)),
            "figures_stated": figures, "figures_invented": invented,
            "figure_precision": (figures - invented) / figures if figures else None, "rows": rows}


def measure(cfg: BuildConfig, base: Path, lora: Path) -> dict[str, Any]:
    """The plain base and base+adapter side by side, each as the app runs it: the app's planner on held-out
    phrasing templates, on the clinicians' held-out phrasings over the sample workspace, and grounded answers."""
    from model_build.data import grounded
    from model_build.data.plans import held_out_examples
    from model_build.plan_eval import evaluate_planner, side_by_side

    out: dict[str, Any] = {}
    if cfg.adapter.plan_eval_per_template > 0:
        exs = held_out_examples(per_template=cfg.adapter.plan_eval_per_template, seed=cfg.seed,
                                test_fraction=max(cfg.data.test_fraction, 0.1))
        plans = [evaluate_planner(base, exs), evaluate_planner(base, exs, lora=lora)]
        out["plans"] = {"base": plans[0], "adapter": plans[1], "table": side_by_side(plans)}
    if cfg.adapter.clinician_phrasings:
        clinician = clinician_phrasings(base, lora)
        if clinician is not None:
            out["clinician"] = clinician
    if cfg.adapter.answer_eval_patients > 0:
        # Patients of another seed: none of them was in training.
        recs = grounded.generate(patients=cfg.adapter.answer_eval_patients, questions_per_patient=3,
                                 seed=cfg.seed + 1)
        out["answers"] = {"base": answer_accuracy(base, None, recs), "adapter": answer_accuracy(base, lora, recs)}
    return out


def clinician_phrasings(base: Path, lora: Path) -> dict[str, Any] | None:
    """``benchmarks/eval_assistant_heldout.py`` (50 questions worded as clinicians word them, none from the
    templates) on the sample workspace, with and without the adapter; None when the sample workspace is not
    built (``make sample``)."""
    try:
        from benchmarks import eval_assistant_heldout as heldout
    except ImportError:  # an installed model_build without the repository's benchmarks
        return None
    if not heldout.SAMPLE_WORKSPACE.is_file():
        log.warning("adapter: %s is missing (make sample): the clinicians' phrasings are not measured",
                    heldout.SAMPLE_WORKSPACE)
        return None
    return {side: heldout.evaluate_sample(model=base, adapter=adapter).summary()
            for side, adapter in (("base", None), ("adapter", lora))}


def beats_base(measured: dict[str, Any]) -> bool:
    """More plans right on the held-out templates, and not more wrong plans than the base's 95% upper bound
    (a wrong plan runs, marked; a declined one computes nothing)."""
    plans = measured.get("plans")
    if plans is None:
        return False
    base, tuned = plans["base"], plans["adapter"]
    return tuned["accuracy"] > base["accuracy"] and tuned["wrong_rate"] <= base["wrong_ci95"][1]


def roles(measured: dict[str, Any]) -> list[str]:
    """What the adapter is shipped for (the manifest's ``roles``; the app loads it only there): the planner
    when it beats the base on plans; chat when its grounded answers are right at least as often as the
    base's and it invents no more figures."""
    from desktop.core.llm.manifest import CHAT_ROLE, PLANNER_ROLE

    out = [PLANNER_ROLE] if beats_base(measured) else []
    answers = measured.get("answers")
    if answers and answers["adapter"]["correct"] >= answers["base"]["correct"] and \
            answers["adapter"]["figures_invented"] <= answers["base"]["figures_invented"]:
        out.append(CHAT_ROLE)
    return out


def _summary(measured: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers, without the per-question rows."""
    out: dict[str, Any] = {}
    for task, sides in measured.items():
        out[task] = {side: {k: v for k, v in r.items() if k not in ("rows", "model")}
                     for side, r in sides.items() if isinstance(r, dict)}
    return out


def manifest_doc(cfg: BuildConfig, lora: Path, base: Path, cmp: dict[str, Any], measured: dict[str, Any],
                 problems: list[str]) -> dict[str, Any]:
    paths = RunPaths(cfg)
    prep = read_optional_json(paths.prepare_report) or {}
    train = read_optional_json(paths.train_summary) or {}
    return {
        "kind": ADAPTER_KIND,
        "file": lora.name,
        "sha256": sha256_file(lora),
        "size_bytes": lora.stat().st_size,
        "quantization": cfg.adapter.outtype.upper(),
        "base": {"file": base.name, "sha256": sha256_file(base), "size_bytes": base.stat().st_size},
        "lora": {"r": cfg.lora.r, "alpha": cfg.lora.alpha, "target_modules": cfg.lora.target_modules},
        "chat_format": cfg.model.chat_format,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "verified": not problems,
        "problems": problems,
        "roles": roles(measured),
        # what it was trained on, per role: the app refuses it for a role whose contract changed since
        "contracts": contract_hashes(),
        "data": {"splits": prep.get("splits", {}), "sources": prep.get("sources", {})},
        "config": cfg.to_dict(),
        "versions": {**versions(), "converter": f"llama-cpp-python=={cfg.convert.llama_cpp_python} "
                     "vendor/llama.cpp/convert_lora_to_gguf.py"},
        "metrics": {"vs_merged_hf": cmp, **_summary(measured),
                    "train": {k: train.get(k) for k in ("steps", "seed", "final_train_loss", "final_val_loss",
                                                        "adapter_step", "best_val_loss", "tokens_per_s_median")}
                    if train else None},
    }


def main(cfg: BuildConfig) -> dict:
    from model_build.adapter_card import write_card
    from model_build.model_io import resolve_base

    base = base_gguf(cfg)
    lora = convert_adapter(cfg, resolve_base(cfg))
    test = read_split(cfg, "test")
    # Plans and grounded answers alike: the first few of each source of the test split.
    records = [r for src in ("plans", "grounded") for r in [x for x in test if x.get("source") == src]
               [: max(1, cfg.adapter.prompts // 2)]] or test[: cfg.adapter.prompts]
    cmp = compare_with_merged(cfg, lora, base, records)
    problems = gate(cmp, cfg)
    measured = measure(cfg, base, lora) if not problems else {}
    doc = manifest_doc(cfg, lora, base, cmp, measured, problems)
    write_manifest(lora, doc)
    card = write_card(lora, doc, measured)
    report = {"adapter": str(lora), "problems": problems, "vs_merged_hf": cmp, "measured": measured,
              "beats_base_on_plans": beats_base(measured), "card": str(card)}
    write_json(adapter_dir(cfg) / "report.json", report)
    if problems:
        raise RuntimeError("adapter failed:\n  " + "\n  ".join(problems))
    log.info("adapter: %s; vs merged HF: KLD %.4g, top-token %.3f; plans %s", lora.name, cmp["kld_mean"],
             cmp["same_top_token"], {k: round(v["accuracy"], 3) for k, v in measured.get("plans", {}).items()
                                     if isinstance(v, dict)})
    if cfg.adapter.ship_to:
        if not beats_base(measured):
            log.warning("adapter: not shipped to %s: it does not beat the plain base on plan accuracy (or makes "
                        "more wrong plans)", cfg.adapter.ship_to)
        else:
            report["shipped"] = [str(p) for p in ship(lora, Path(cfg.adapter.ship_to))]
    return report


def ship(lora: Path, dest: Path) -> list[Path]:
    """Copy the adapter, its manifest and card into ``dest`` (the repository's resources/models)."""
    from desktop.core.llm.manifest import manifest_path
    from model_build.adapter_card import card_path

    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for src in (lora, card_path(lora), manifest_path(lora)):  # manifest last: it vouches for the others
        shutil.copyfile(src, dest / src.name)
        out.append(dest / src.name)
    return out
