"""Training checkpoints: the adapter plus everything needed to continue exactly (optimizer, scheduler,
data cursor, RNG, history), and the resume key (seed, base, format, LoRA and batch settings, training
data hash), which must match on resume.

A save writes ``step-N.partial`` and renames it to ``step-N`` only when complete, so a run killed mid-save
leaves no half ``step-N`` (a leftover ``.partial`` is ignored and removed by the next save) and resume
continues from the last whole checkpoint.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
KEEP = 2
_STEP = re.compile(r"step-(\d+)")
PARTIAL = ".partial"


def _dirs(out: Path) -> list[Path]:
    found = [(int(m.group(1)), p) for p in (out / "checkpoints").glob("step-*")
             if (m := _STEP.fullmatch(p.name)) and (p / "state.pt").is_file()]
    return [p for _, p in sorted(found)]


def resume_key(cfg: Any, train_data_sha256: str) -> dict[str, Any]:
    """The settings a checkpoint's optimizer state and data cursor only make sense with (max_steps may grow:
    resuming to train longer is the point of resume)."""
    t = cfg.train
    return {"seed": cfg.seed, "base": cfg.model.base, "chat_format": cfg.model.chat_format,
            "lora": {"target_modules": sorted(cfg.lora.target_modules), "r": cfg.lora.r,
                     "alpha": cfg.lora.alpha},
            "batch_size": t.batch_size, "grad_accum": t.grad_accum, "max_seq_len": t.max_seq_len,
            "lr": t.lr, "warmup_steps": t.warmup_steps, "train_data": train_data_sha256}


def save(out: Path, step: int, model: Any, opt: Any, sched: Any, batches: Any, history: list, seed: int,
         key: dict[str, Any] | None = None) -> Path:
    import torch

    dest = out / "checkpoints" / f"step-{step}"
    tmp = dest.with_name(dest.name + PARTIAL)
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp)
    state = {"step": step, "seed": seed, "key": key or {"seed": seed}, "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "cursor": batches.cursor, "history": history,
             "torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    torch.save(state, tmp / "state.pt")
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)  # atomic on one file system: step-N is whole or absent
    for old in _dirs(out)[:-KEEP]:
        shutil.rmtree(old)
    for stale in (out / "checkpoints").glob(f"step-*{PARTIAL}"):
        shutil.rmtree(stale)
    return dest


def restore(out: Path, model: Any, opt: Any, sched: Any, batches: Any, seed: int,
            key: dict[str, Any] | None = None) -> tuple[int, list]:
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    dirs = _dirs(out)
    if not dirs:
        log.warning("train.resume: no checkpoint in %s; starting from step 0", out / "checkpoints")
        return 0, []
    src = dirs[-1]
    state = torch.load(src / "state.pt", weights_only=False)
    if state["seed"] != seed:
        raise ValueError(f"train.resume: checkpoint {src} was trained with seed {state['seed']}, config has "
                         f"seed {seed}; resume with the same seed or start a new run folder")
    saved = state.get("key", {"seed": state["seed"]})
    wanted = key or {"seed": seed}
    differ = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    if differ:
        detail = "; ".join(f"{k}: checkpoint {saved.get(k)!r}, config {wanted.get(k)!r}" for k in differ)
        raise ValueError(f"train.resume: checkpoint {src} does not match this config ({detail}); resume with "
                         "the same settings or start a new run folder")
    result = set_peft_model_state_dict(model, load_file(src / "adapter_model.safetensors"))
    if getattr(result, "unexpected_keys", None):
        raise RuntimeError(f"resume {src}: unexpected adapter keys {result.unexpected_keys[:5]}")
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    batches.cursor = state["cursor"]
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    log.info("resumed from %s (step %d)", src, state["step"])
    return state["step"], state["history"]
