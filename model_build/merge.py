"""Stage 4, merge: fold the LoRA adapter into the base weights in fp32 and save a plain HF checkpoint.

Always on an fp32 copy of the base (never on a 4-bit QLoRA base, which the converter cannot read). The
boundary checks: the merged state dict has exactly the base's keys, shapes and fp32 dtype, no ``lora_``
key is left, every weight is finite, the saved folder reloads with no missing or unexpected key, and the
merged model's logits equal base + adapter's on one prompt.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from model_build.chat_format import get_format
from model_build.config import BuildConfig
from model_build.model_io import copy_tokenizer_assets, resolve_base
from model_build.paths import RunPaths
from model_build.util import write_json

log = logging.getLogger(__name__)


def check_state(base_sd: dict, merged_sd: dict) -> list[str]:
    import torch

    problems = []
    if set(base_sd) != set(merged_sd):
        problems.append(f"keys differ: missing {sorted(set(base_sd) - set(merged_sd))[:5]}, "
                        f"unexpected {sorted(set(merged_sd) - set(base_sd))[:5]}")
    problems += [f"{k}: LoRA key left after merge" for k in merged_sd if "lora_" in k][:5]
    for k, v in merged_sd.items():
        if k in base_sd and v.shape != base_sd[k].shape:
            problems.append(f"{k}: shape {tuple(v.shape)}, base has {tuple(base_sd[k].shape)}")
        if v.dtype != torch.float32:
            problems.append(f"{k}: dtype {v.dtype}, expected float32")
        if v.is_floating_point() and not torch.isfinite(v).all():
            problems.append(f"{k}: non-finite values after merge")
    return problems


def main(cfg: BuildConfig) -> dict:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter, out = RunPaths(cfg).adapter, RunPaths(cfg).merged
    if not (adapter / "adapter_config.json").is_file():
        raise FileNotFoundError(f"expected a LoRA adapter in {adapter}; run `train` first")
    base_dir = resolve_base(cfg)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    base_sd = {k: v.clone() for k, v in base.state_dict().items()}
    peft_model = PeftModel.from_pretrained(base, adapter)
    tok = AutoTokenizer.from_pretrained(adapter)
    probe = torch.tensor([tok("Blood pressure 152/94 mm[Hg].")["input_ids"]])
    with torch.no_grad():
        want = peft_model(input_ids=probe).logits
    merged = peft_model.merge_and_unload()
    problems = check_state(base_sd, merged.state_dict())
    with torch.no_grad():
        diff = float((merged(input_ids=probe).logits - want).abs().max())
    if diff > 1e-3:
        problems.append(f"merged logits differ from base+adapter by {diff:.3g} (expected < 1e-3)")
    if problems:
        raise RuntimeError("merge check failed:\n  " + "\n  ".join(problems))
    if out.exists():
        shutil.rmtree(out)
    merged.save_pretrained(out, safe_serialization=True)
    tok.chat_template = get_format(cfg.model.chat_format).template
    tok.save_pretrained(out)
    copy_tokenizer_assets(base_dir, out)
    _fix_config_for_converter(out)
    _, info = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if bad:
        raise RuntimeError(f"merged checkpoint {out} reloads with {bad}")
    report = {"base_dir": str(base_dir), "adapter": str(adapter), "max_logit_diff": diff, "dtype": "float32",
              "tensors": len(base_sd), "state_dict_elements": sum(v.numel() for v in base_sd.values())}
    write_json(out / "merge_report.json", report)
    log.info("merge: %s", report)
    return report


def _fix_config_for_converter(out: Path) -> None:
    """The converter's GPT-2 path reads n_ctx, which a GPT2Config written by transformers 5 lacks."""
    path = out / "config.json"
    conf = json.loads(path.read_text())
    if conf.get("model_type") == "gpt2" and "n_ctx" not in conf:
        conf["n_ctx"] = conf["n_positions"]
        path.write_text(json.dumps(conf, indent=2) + "\n")
