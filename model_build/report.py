"""The run's final report (``<run>/report.md``): what each stage produced, in one page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model_build.config import BuildConfig
from model_build.paths import RunPaths, read_optional_json


def _f(v: Any, spec: str = ".4g") -> str:
    return "n/a" if v is None else format(v, spec) if isinstance(v, (int, float)) else str(v)


def write(cfg: BuildConfig, timings: dict[str, float]) -> Path:
    paths = RunPaths(cfg)
    prep, train = read_optional_json(paths.prepare_report), read_optional_json(paths.train_summary)
    quant, ver = read_optional_json(paths.quantize_report), read_optional_json(paths.verify_report)
    lines = [f"# Model build report: {cfg.name}", "", f"Base model: `{cfg.model.base}`; seed {cfg.seed}.", "",
             "| stage | seconds |", "|---|---|"] + [f"| {k} | {v} |" for k, v in timings.items()] + [""]
    if prep:
        lines += [f"Data: {prep['read']} rows read, {prep['kept']} kept; splits "
                  + ", ".join(f"{k} {v['rows']}" for k, v in prep["splits"].items()) + " (data/prepare_report.md).", ""]
    if train:
        lines += [(f"Training: {train['steps']} steps, {train['trainable_params']:,} trainable of "
                  f"{train['total_params']:,} parameters, {train['precision']} on {train['device']}, "
                  f"median {_f(train['tokens_per_s_median'], '.0f')} tokens/s; train loss "
                  f"{_f(train['first_train_loss'])} -> {_f(train['final_train_loss'])}, validation loss "
                  f"{_f(train['final_val_loss'])} (train/loss_curve.png)."), ""]
    if paths.eval_markdown.is_file():  # evaluate's own page, without its title
        lines += paths.eval_markdown.read_text(encoding="utf-8").split("\n")[2:] + [""]
    if quant and ver:
        lines += ["## GGUF files", "", ("| file | size MiB | bits/weight | fallback tensors | PPL | KLD vs "
                  f"{ver['reference']} | same top token | tokens match HF |"), "|---|---|---|---|---|---|---|---|"]
        stats = {ver["reference"]: quant["source"], **quant["files"]}
        for q, v in ver["files"].items():
            s = stats.get(q, {})
            lines.append(f"| {q} | {_f(s.get('file_bytes', 0) / 2**20, '.1f')} | {_f(s.get('bits_per_weight'), '.2f')}"
                         f" | {s.get('fallback_tensors')}/{s.get('matrix_tensors')} | {_f(v['ppl'])} | "
                         f"{_f(v['kld_mean'])} | {_f(v['same_top_token'], '.3f')} | {v['tokens_match']} |")
        lines += ["", (f"Logits NMSE, HF fp32 vs {ver['reference']} GGUF: {_f(ver['logits_nmse_vs_hf'])} "
                  f"(goal < {ver['nmse_max']}). Verification passed: {ver['passed']}."), ""]
    dest = paths.report
    dest.write_text("\n".join(lines) + "\n")
    return dest
