"""Stage 2, train: LoRA (peft) on the answer tokens, with a learned end-of-answer token.

A short explicit loop on top of accelerate rather than the HF Trainer: it keeps the loss masking, the
token counting and the checkpoint contents in view, and `accelerate launch -m model_build train ...`
runs the same code on several GPUs (each process takes its own share of every batch).

Outputs under ``<run>/train``: ``adapter/`` (LoRA weights + the tokenizer with the chat template),
``checkpoints/step-N/`` (adapter + optimizer/scheduler/cursor/RNG state, for ``train.resume``),
``history.jsonl``, ``loss_curve.png``, ``summary.json``.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from pathlib import Path
from typing import Any

from desktop.core.llm.manifest import sha256_file
from model_build.chat_format import get_format
from model_build.config import BuildConfig
from model_build.encode import answer_nll, collate, encode_all
from model_build.model_io import load_tokenizer, resolve_base
from model_build.paths import RunPaths, read_split
from model_build.util import write_json, write_jsonl

log = logging.getLogger(__name__)


def resolve_precision(name: str) -> str:
    """accelerate's mixed_precision value: bf16 where the GPU supports it, else fp16; fp32 on a CPU."""
    import torch

    if name == "fp32" or not torch.cuda.is_available():
        if name in ("bf16", "fp16") and not torch.cuda.is_available():
            log.warning("train.precision=%s asked for but no GPU: training in fp32", name)
        return "no"
    if name == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return name


def build_model(cfg: BuildConfig, base_dir: Path, precision: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if precision != "no":  # frozen base in the compute dtype; peft keeps the adapters in fp32
        kwargs["dtype"] = torch.bfloat16 if precision == "bf16" else torch.float16
    if cfg.model.load_in_4bit:
        if not torch.cuda.is_available():
            raise RuntimeError("model.load_in_4bit (QLoRA) needs a CUDA GPU and bitsandbytes; set it false on CPU")
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=kwargs["dtype"],
            bnb_4bit_use_double_quant=True)
    model = AutoModelForCausalLM.from_pretrained(base_dir, **kwargs)
    model.config.use_cache = False
    if cfg.model.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.train.gradient_checkpointing)
    return apply_lora(model, cfg)


def apply_lora(model: Any, cfg: BuildConfig) -> Any:
    """Wrap a loaded model with the configured LoRA adapters (checking every target module exists)."""
    from peft import LoraConfig, get_peft_model
    from transformers.pytorch_utils import Conv1D

    if cfg.train.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    targets = set(cfg.lora.target_modules)
    found = {n.rsplit(".", 1)[-1]: m for n, m in model.named_modules() if n.rsplit(".", 1)[-1] in targets}
    if set(found) != targets:
        raise ValueError(f"lora.target_modules: {sorted(targets - set(found))} not found in "
                         f"{type(model).__name__}; it has e.g. {sorted({n.rsplit('.', 1)[-1] for n, _ in model.named_modules()})[:20]}")
    fan_in_fan_out = any(isinstance(m, Conv1D) for m in found.values())  # GPT-2 stores weights transposed
    lora = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=sorted(targets), fan_in_fan_out=fan_in_fan_out, task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def _lr_lambda(warmup: int, total: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))  # cosine to 10 %
    return f


class Batches:
    """Seeded epoch permutations with a cursor, so a resumed run sees the same data order."""

    def __init__(self, examples: list[dict], batch: int, seed: int, rank: int, world: int, pad_id: int):
        self.ex, self.batch, self.seed, self.rank, self.world, self.pad = examples, batch, seed, rank, world, pad_id
        self.cursor = 0  # examples consumed, counted over all processes

    def next(self) -> dict:
        import torch

        n, take = len(self.ex), self.batch * self.world
        rows = []
        for k in range(take):
            epoch, pos = divmod(self.cursor + k, n)
            g = torch.Generator().manual_seed(self.seed + epoch)
            rows.append(int(torch.randperm(n, generator=g)[pos]) if n > 1 else 0)
        self.cursor += take
        return collate([self.ex[i] for i in rows[self.rank::self.world]], self.pad)


def validate(model: Any, examples: list[dict], cfg: BuildConfig, pad_id: int, device: Any) -> float | None:
    import torch

    if not examples:
        return None
    model.eval()
    nll, count = 0.0, 0
    bs = cfg.train.batch_size
    # An even stride over the split, not its head: the split is in source order, and its first rows may all
    # come from one template or one patient.
    n = min(len(examples), bs * cfg.train.eval_batches)
    picked = examples[::max(1, len(examples) // n)][:n]
    with torch.no_grad():
        for i in range(0, len(picked), bs):
            batch = {k: v.to(device) for k, v in collate(picked[i:i + bs], pad_id).items()}
            s, c = answer_nll(model, batch)
            nll, count = nll + s, count + c
    model.train()
    return nll / max(count, 1)


def _labelled(batch: dict) -> int:
    from model_build.encode import IGNORE

    return int((batch["labels"][:, 1:] != IGNORE).sum())


def _summed_nll(model: Any, batch: dict) -> Any:
    import torch

    from model_build.encode import IGNORE

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)),
                                             batch["labels"][:, 1:].reshape(-1), ignore_index=IGNORE,
                                             reduction="sum")


def train_step(model: Any, acc: Any, opt: Any, sched: Any, batches: Any, grad_accum: int) -> tuple[Any, int]:
    """One optimizer step over grad_accum micro-batches.

    The loss is the mean over every answer token of the step (all micro-batches, all processes): each
    micro-batch contributes its summed token NLL divided by the step's token count, so a long answer
    weighs by its length instead of being averaged down inside a short-answer micro-batch. (The count is
    summed over processes and the sum scaled by the process count, because DDP averages gradients.)

    Returns the loss as a device tensor and the tokens seen by all processes (counted on the CPU copy
    of the batch). The caller reads the loss only every ``train.log_every`` steps.
    """
    import torch

    cpu_batches = [batches.next() for _ in range(grad_accum)]
    tokens = sum(int(b["attention_mask"].sum()) for b in cpu_batches) * acc.num_processes
    labelled = torch.tensor(float(sum(_labelled(b) for b in cpu_batches)), device=acc.device)
    if acc.num_processes > 1:
        labelled = acc.reduce(labelled, reduction="sum")
    denominator = labelled.clamp(min=1.0) / acc.num_processes
    loss_sum = None
    for micro, cpu_batch in enumerate(cpu_batches):
        batch = {k: v.to(acc.device, non_blocking=True) for k, v in cpu_batch.items()}
        ctx = acc.no_sync(model) if micro < grad_accum - 1 else _null()
        with ctx, acc.autocast():
            loss = _summed_nll(model, batch) / denominator
            acc.backward(loss)
        loss_sum = loss.detach() if loss_sum is None else loss_sum + loss.detach()
    acc.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return loss_sum, tokens


def main(cfg: BuildConfig) -> dict:
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    from model_build import checkpoint, plots

    out = RunPaths(cfg).train
    t = cfg.train
    if t.threads:
        torch.set_num_threads(t.threads)
    base_dir = resolve_base(cfg)
    tok = load_tokenizer(base_dir, cfg.model.chat_format)
    fmt = get_format(cfg.model.chat_format)
    train_ex, dropped = encode_all(tok, fmt, read_split(cfg, "train"), t.max_seq_len)
    val_ex, val_dropped = encode_all(tok, fmt, read_split(cfg, "val"), t.max_seq_len)
    if not train_ex:
        raise ValueError(f"train: every training example is longer than train.max_seq_len={t.max_seq_len}")
    precision = resolve_precision(t.precision)
    acc = Accelerator(mixed_precision=precision, cpu=not torch.cuda.is_available())
    set_seed(cfg.seed)
    model = build_model(cfg, base_dir, precision)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    steps_total = planned_steps(t, len(train_ex))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=t.lr,
                            weight_decay=t.weight_decay, fused=torch.cuda.is_available())
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(t.warmup_steps, steps_total))
    model, opt = acc.prepare(model, opt)
    batches = Batches(train_ex, t.batch_size, cfg.seed, acc.process_index, acc.num_processes, tok.pad_token_id)
    step, history = 0, []
    key = checkpoint.resume_key(cfg, sha256_file(RunPaths(cfg).split("train")))
    if t.resume:
        step, history = checkpoint.restore(out, acc.unwrap_model(model), opt, sched, batches, cfg.seed, key)
    elif acc.is_main_process and (out / "checkpoints").exists():
        shutil.rmtree(out / "checkpoints")  # a fresh run: never leave another run's checkpoint to resume from
    model.train()
    best = BestAdapter(out / "best-adapter", history, keep=t.keep_best and acc.is_main_process)
    bar = tqdm(total=steps_total, initial=step, disable=not acc.is_main_process, desc="train", unit="step")
    window_t0, window_tokens, window_losses = time.perf_counter(), 0, []
    while step < steps_total:
        loss, tokens = train_step(model, acc, opt, sched, batches, t.grad_accum)
        step += 1
        window_tokens += tokens
        window_losses.append(loss)
        do_eval = step % t.eval_every == 0 or step == steps_total
        do_save = step % t.save_every == 0 or step == steps_total
        bar.update(1)
        if not (step % t.log_every == 0 or do_eval or do_save):
            continue
        mean_loss = float(torch.stack(window_losses).mean())  # the only wait for the GPU
        now = time.perf_counter()
        rec = {"step": step, "loss": mean_loss, "lr": sched.get_last_lr()[0],
               "tokens_per_s": window_tokens / (now - window_t0), "steps_in_window": len(window_losses)}
        if do_eval:
            rec["val_loss"] = validate(acc.unwrap_model(model), val_ex, cfg, tok.pad_token_id, acc.device)
            best.offer(step, rec["val_loss"], acc.unwrap_model(model))
        history.append(rec)
        bar.set_postfix(loss=f"{mean_loss:.3f}", tok_s=f"{rec['tokens_per_s']:.0f}",
                        **({"val": f"{rec['val_loss']:.3f}"} if rec.get("val_loss") is not None else {}))
        if acc.is_main_process and do_save:
            checkpoint.save(out, step, acc.unwrap_model(model), opt, sched, batches, history, cfg.seed,
                            key)
        window_t0, window_tokens, window_losses = time.perf_counter(), 0, []
        if do_eval and t.patience and best.evals_since_best >= t.patience:
            log.info("train: no better validation loss in %d validations: stopping at step %d", t.patience, step)
            break
    bar.close()
    acc.wait_for_everyone()
    if not acc.is_main_process:
        return {}
    adapter = out / "adapter"
    if adapter.exists():
        shutil.rmtree(adapter)
    if best.keep and best.step is not None and best.step != step:
        shutil.copytree(best.path, adapter)  # the best validation loss, not the last step
    else:
        acc.unwrap_model(model).save_pretrained(adapter)
    tok.save_pretrained(adapter)
    write_jsonl(out / "history.jsonl", history)
    plots.loss_curve(history, out / "loss_curve.png")
    speeds = sorted(h["tokens_per_s"] for h in history[1:] or history)
    vals = [h["val_loss"] for h in history if h.get("val_loss") is not None]
    summary = {"steps": step, "seed": cfg.seed, "precision": "fp32" if precision == "no" else precision, "device": str(acc.device),
               "processes": acc.num_processes, "base_dir": str(base_dir),
               "trainable_params": trainable, "total_params": total,
               "train_examples": len(train_ex), "dropped_too_long": dropped + val_dropped,
               "tokens_per_s_median": speeds[len(speeds) // 2] if speeds else None,
               "final_train_loss": history[-1]["loss"] if history else None,
               "final_val_loss": vals[-1] if vals else None, "first_train_loss": history[0]["loss"] if history else None,
               "planned_steps": steps_total, "stopped_early": step < steps_total,
               "adapter_step": best.step if best.step is not None else step, "best_val_loss": best.loss}
    write_json(out / "summary.json", summary)
    log.info("train: %s", summary)
    return summary


def planned_steps(t: Any, train_examples: int) -> int:
    """``train.max_steps``, or with ``train.epochs`` set, the steps that pass over the train split that often."""
    if t.epochs <= 0:
        return int(t.max_steps)
    return max(1, math.ceil(t.epochs * train_examples / (t.batch_size * t.grad_accum)))


class BestAdapter:
    """The LoRA weights of the step with the lowest validation loss so far, saved beside the checkpoints
    (adapter weights only: a few MB). A resumed run starts from the best loss its history recorded."""

    def __init__(self, path: Path, history: list[dict], *, keep: bool) -> None:
        self.path, self.keep = path, keep
        seen = [(h["val_loss"], h["step"]) for h in history if h.get("val_loss") is not None]
        self.loss, self.step = min(seen) if seen and path.is_dir() else (None, None)
        self.evals_since_best = 0
        if not seen and path.exists():
            shutil.rmtree(path)  # a fresh run: another run's best is not this one's

    def offer(self, step: int, loss: float | None, model: Any) -> None:
        if loss is None:
            return
        if self.loss is not None and loss >= self.loss:
            self.evals_since_best += 1
            return
        self.loss, self.step, self.evals_since_best = loss, step, 0
        if self.keep:
            tmp = self.path.with_name(self.path.name + ".partial")
            if tmp.exists():
                shutil.rmtree(tmp)
            model.save_pretrained(tmp)
            if self.path.exists():
                shutil.rmtree(self.path)
            tmp.rename(self.path)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None
