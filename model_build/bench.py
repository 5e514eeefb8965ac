"""Training throughput: this pipeline's LoRA step (train.train_step) against the plain HF Trainer, on
randomly initialised models of real shapes (GPT-2 124M, TinyLlama 1.1B), same LoRA, batch and precision.

    python -m model_build.bench --shape gpt2-124m --batch 16 --seq 512 --steps 30 --out bench.json

Random token ids, every position labelled, no padding: the numbers measure the training step, not the
data. Tokens/s = batch x seq x timed steps / wall time, timed after the warm-up steps, with the GPU
synchronised at both ends.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from model_build.config import BuildConfig, LoraConfig, ModelConfig, TrainConfig
from model_build.tiny import SHAPES

REAL_VOCAB = {"gpt2-124m": 50257, "tinyllama-1.1b": 32000, "gpt2-tiny": 50257, "llama-tiny": 32000}
TARGETS = {"gpt2": ["c_attn", "c_proj"], "llama": ["q_proj", "k_proj", "v_proj", "o_proj"]}


def _model(shape: str, precision: str, device: str) -> Any:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = dict(SHAPES[shape])
    model_type = spec.pop("model_type")
    config = AutoConfig.for_model(model_type, vocab_size=REAL_VOCAB[shape], **spec)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=dtype).to(device)
    model.config.use_cache = False
    return model


def _cfg(shape: str, args: argparse.Namespace) -> BuildConfig:
    arch = SHAPES[shape]["model_type"]
    return BuildConfig(name="bench", model=ModelConfig(base=shape), lora=LoraConfig(target_modules=TARGETS[arch]),
                       train=TrainConfig(batch_size=args.batch, gradient_checkpointing=args.grad_ckpt))


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def bench_ours(shape: str, args: argparse.Namespace, precision: str, device: str) -> float:
    import torch
    from accelerate import Accelerator

    from model_build.train import apply_lora, train_step

    acc = Accelerator(mixed_precision=precision, cpu=device == "cpu")
    model = apply_lora(_model(shape, precision, device), _cfg(shape, args))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4,
                            fused=torch.cuda.is_available())
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    model, opt = acc.prepare(model, opt)
    model.train()
    ids = torch.randint(0, REAL_VOCAB[shape], (args.batch, args.seq))

    class Fixed:
        def next(self) -> dict:
            return {"input_ids": ids, "labels": ids, "attention_mask": torch.ones_like(ids)}

    for _ in range(args.warmup):
        train_step(model, acc, opt, sched, Fixed(), 1)
    _sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        train_step(model, acc, opt, sched, Fixed(), 1)
    _sync()
    return args.batch * args.seq * args.steps / (time.perf_counter() - t0)


def bench_hf_trainer(shape: str, args: argparse.Namespace, precision: str, device: str) -> float:
    import tempfile

    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from model_build.train import apply_lora

    model = apply_lora(_model(shape, precision, device), _cfg(shape, args))
    ids = torch.randint(0, REAL_VOCAB[shape], (args.batch, args.seq))
    data = [{"input_ids": ids[i % args.batch], "labels": ids[i % args.batch]}
            for i in range(args.batch * (args.steps + args.warmup))]
    marks: dict[str, float] = {}

    class Timer(TrainerCallback):
        def on_step_end(self, targs: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == args.warmup:
                _sync()
                marks["t0"] = time.perf_counter()
            if state.global_step == args.warmup + args.steps:
                _sync()
                marks["t1"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(output_dir=tmp, per_device_train_batch_size=args.batch,
                                  max_steps=args.warmup + args.steps, learning_rate=1e-4, bf16=precision == "bf16",
                                  fp16=precision == "fp16", report_to=[], save_strategy="no", logging_steps=10**6,
                                  use_cpu=device == "cpu", dataloader_pin_memory=device != "cpu",
                                  )
        Trainer(model=model, args=targs, train_dataset=data, callbacks=[Timer()]).train()
    return args.batch * args.seq * args.steps / (marks["t1"] - marks["t0"])


def main(argv: list[str] | None = None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", choices=sorted(SHAPES), required=True)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--grad-ckpt", action="store_true")
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if device == "cuda" else "no"
    result = {"shape": shape_info(args.shape), "batch": args.batch, "seq": args.seq, "steps": args.steps,
              "precision": precision, "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
              "gradient_checkpointing": args.grad_ckpt, "torch": torch.__version__}
    result["ours_tokens_per_s"] = bench_ours(args.shape, args, precision, device)
    if device == "cuda":
        torch.cuda.empty_cache()
    result["hf_trainer_tokens_per_s"] = bench_hf_trainer(args.shape, args, precision, device)
    print(json.dumps(result))
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(json.dumps(result) + "\n")
    return 0


def shape_info(shape: str) -> str:
    return f"{shape} (vocab {REAL_VOCAB[shape]})"


if __name__ == "__main__":
    raise SystemExit(main())
