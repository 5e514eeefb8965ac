"""Training checkpoints: the adapter plus everything needed to continue exactly (optimizer, scheduler,
data cursor, RNG, history), and the seed, which must match on resume."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
KEEP = 2


def _dirs(out: Path) -> list[Path]:
    return sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))


def save(out: Path, step: int, model: Any, opt: Any, sched: Any, batches: Any, history: list, seed: int) -> Path:
    import torch

    dest = out / "checkpoints" / f"step-{step}"
    model.save_pretrained(dest)
    torch.save({"step": step, "seed": seed, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "cursor": batches.cursor, "history": history, "torch_rng": torch.get_rng_state()},
               dest / "state.pt")
    for old in _dirs(out)[:-KEEP]:
        shutil.rmtree(old)
    return dest


def restore(out: Path, model: Any, opt: Any, sched: Any, batches: Any, seed: int) -> tuple[int, list]:
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
    result = set_peft_model_state_dict(model, load_file(src / "adapter_model.safetensors"))
    if getattr(result, "unexpected_keys", None):
        raise RuntimeError(f"resume {src}: unexpected adapter keys {result.unexpected_keys[:5]}")
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    batches.cursor = state["cursor"]
    torch.set_rng_state(state["torch_rng"])
    log.info("resumed from %s (step %d)", src, state["step"])
    return state["step"], state["history"]
