"""Stage 3, evaluate: the base model and the fine-tuned one (base + adapter) side by side on the test split.

What each number measures (also in the README):
- ``answer_ppl``: exp of the mean negative log-likelihood of the *reference answer tokens* (including the
  end-of-answer token), each predicted with the true prompt and the true earlier answer tokens as context
  (teacher forcing) in the training chat format. Prompt tokens are context only and never scored. Both
  models are scored on the same tokens, so the two numbers compare directly; the base model is scored in a
  format it may never have seen, which is part of what fine-tuning fixes.
- ``rouge_l``: mean ROUGE-L F1 (rouge-score, stemmed) of the greedy answer against the reference.
- ``bleu``: corpus BLEU (sacrebleu, default 13a tokenization) of the greedy answers.
- ``numbers_recalled``: share of the numbers in the reference answers that appear in the generated answer
  (the point of the patient-summary data: quoting the right values).
- ``stopped``: share of generations that ended with the end-of-answer token within max_new_tokens.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from model_build.chat_format import get_format
from model_build.config import BuildConfig
from model_build.encode import answer_nll, collate, encode_example, encode_prompt
from model_build.model_io import load_tokenizer, resolve_base
from model_build.paths import RunPaths, read_split
from model_build.util import write_json

log = logging.getLogger(__name__)
_NUM = re.compile(r"\d+(?:\.\d+)?")


def _score(model: Any, tok: Any, records: list[dict], cfg: BuildConfig, device: Any) -> dict[str, Any]:
    import sacrebleu
    import torch
    from rouge_score import rouge_scorer

    fmt = get_format(cfg.model.chat_format)
    end_id = tok.convert_tokens_to_ids(fmt.end(tok.eos_token))
    nll, count, outputs, refs, indices, stopped = 0.0, 0, [], [], [], 0
    model.eval()
    with torch.no_grad():
        for index, rec in enumerate(records):
            ex = encode_example(tok, fmt, rec, cfg.train.max_seq_len)
            if ex is None:  # too long: skipped, and its reference with it (outputs stay paired)
                continue
            s, c = answer_nll(model, {k: v.to(device) for k, v in collate([ex], tok.pad_token_id).items()})
            nll, count = nll + s, count + c
            ids = torch.tensor([encode_prompt(tok, fmt, rec)], device=device)
            gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=cfg.eval.max_new_tokens, eos_token_id=end_id,
                                 pad_token_id=tok.pad_token_id)[0, ids.shape[1]:].tolist()
            stopped += int(end_id in gen)
            if end_id in gen:
                gen = gen[:gen.index(end_id)]
            outputs.append(tok.decode(gen, skip_special_tokens=True).strip())
            refs.append(rec["answer"])
            indices.append(index)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rouge = [scorer.score(ref, out)["rougeL"].fmeasure for ref, out in zip(refs, outputs)]
    nums_ref = [_NUM.findall(r) for r in refs]
    hit = sum(sum(n in set(_NUM.findall(o)) for n in ns) for ns, o in zip(nums_ref, outputs))
    total_nums = sum(len(ns) for ns in nums_ref)
    import math

    return {
        "answer_ppl": math.exp(nll / count) if count else None, "answer_tokens": count,
        "rouge_l": sum(rouge) / len(rouge) if rouge else None,
        "bleu": sacrebleu.corpus_bleu(outputs, [refs]).score if outputs else None,
        "numbers_recalled": hit / total_nums if total_nums else None,
        "stopped": stopped / len(outputs) if outputs else None, "examples": len(outputs),
        "outputs": dict(zip(indices, outputs)),
    }


def main(cfg: BuildConfig) -> dict:
    import torch
    from peft import PeftModel

    from model_build.model_io import load_causal_lm

    out, adapter = RunPaths(cfg).eval, RunPaths(cfg).adapter
    if not (adapter / "adapter_config.json").is_file():
        raise FileNotFoundError(f"expected a LoRA adapter in {adapter}; run `train` first")
    records = read_split(cfg, "test")[: cfg.eval.max_examples]
    if not records:
        raise ValueError("evaluate: the test split is empty; raise data.test_fraction")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    base_dir = resolve_base(cfg)
    tok = load_tokenizer(base_dir, cfg.model.chat_format)
    model = load_causal_lm(base_dir, device=device)
    results: dict[str, Any] = {}
    if cfg.eval.compare_base:
        results["base"] = _score(model, tok, records, cfg, device)
    tuned = PeftModel.from_pretrained(model, adapter).to(device)
    results["finetuned"] = _score(tuned, tok, records, cfg, device)
    report = {"test_examples": len(records), "metrics": {k: {m: v for m, v in r.items() if m != "outputs"}
                                                         for k, r in results.items()},
              "side_by_side": [{"prompt": rec["messages"][-1]["content"], "reference": rec["answer"],
                                **{k: r["outputs"].get(i, "(skipped: longer than train.max_seq_len)")
                                   for k, r in results.items()}}
                               for i, rec in enumerate(records[: cfg.eval.side_by_side])]}
    write_json(out / "report.json", report)
    RunPaths(cfg).eval_markdown.write_text(markdown(report), encoding="utf-8")
    log.info("evaluate: %s", report["metrics"])
    return report


def _f(v: Any) -> str:
    return "n/a" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def markdown(report: dict) -> str:
    names = list(report["metrics"])
    rows = ["answer_ppl", "rouge_l", "bleu", "numbers_recalled", "stopped", "answer_tokens", "examples"]
    lines = ["# Evaluation: base vs fine-tuned", "", f"Test examples: {report['test_examples']}.", "",
             "| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {m} | " + " | ".join(_f(report["metrics"][n].get(m)) for n in names) + " |" for m in rows]
    lines += ["", ("answer_ppl: teacher-forced perplexity of the reference answer tokens (end token included), "
              "prompt as context only; lower is better. rouge_l, bleu: greedy answers vs references."), ""]
    for i, ex in enumerate(report["side_by_side"]):
        lines += [f"## Example {i + 1}", "", f"**Question:** {ex['prompt']}", "",
                  f"**Reference:** {ex['reference']}", ""]
        lines += [f"**{n}:** {ex.get(n, '')}" + "\n" for n in names]
    return "\n".join(lines) + "\n"
