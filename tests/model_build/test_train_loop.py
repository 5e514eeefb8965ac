"""The training step's loss weighting and the checkpoint's atomic save and resume checks, on a tiny
random Llama (no tokenizer, no data files)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from model_build import checkpoint
from model_build.encode import IGNORE, collate
from model_build.train import train_step


def _model(seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=40, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)
    return LlamaForCausalLM(cfg)


def _example(prompt: int, answer: int, start: int) -> dict:
    ids = [(start + i) % 37 + 2 for i in range(prompt + answer)]
    return {"input_ids": ids, "labels": [IGNORE] * prompt + ids[prompt:]}


class _Fixed:
    def __init__(self, batches: list[dict]) -> None:
        self.batches, self.cursor = batches, 0

    def next(self) -> dict:
        self.cursor += 1
        return self.batches[self.cursor - 1]


class _Capture:
    """An optimizer that only records the gradients it is asked to apply."""

    def __init__(self, params: list) -> None:
        self.params, self.grads = params, None

    def step(self) -> None:
        self.grads = [p.grad.clone() for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None


def test_loss_is_the_mean_over_every_answer_token_of_the_step() -> None:
    import torch
    from accelerate import Accelerator

    short = [_example(4, 2, 0), _example(4, 2, 5)]  # 4 answer tokens in micro-batch 1 (2 each, shifted: 2)
    long = [_example(4, 30, 9)]  # 30 answer tokens in micro-batch 2
    micro = [collate(short, 0), collate(long, 0)]
    model = _model()
    acc = Accelerator(cpu=True)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _Capture(params)
    train_step(model, acc, opt, SimpleNamespace(step=lambda: None), _Fixed(micro), grad_accum=2)

    reference = _model()
    logits_labels = []
    for batch in micro:
        logits = reference(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        logits_labels.append((logits[:, :-1].reshape(-1, 40), batch["labels"][:, 1:].reshape(-1)))
    logits = torch.cat([x for x, _ in logits_labels])
    labels = torch.cat([y for _, y in logits_labels])
    torch.nn.functional.cross_entropy(logits, labels, ignore_index=IGNORE).backward()
    torch.nn.utils.clip_grad_norm_(reference.parameters(), 1.0)  # as train_step does
    for got, p in zip(opt.grads, reference.parameters()):
        torch.testing.assert_close(got, p.grad, rtol=1e-4, atol=1e-6)


def _peft(seed: int = 0):
    import torch
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(_model(seed), LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    return model, opt, sched, SimpleNamespace(cursor=0)


def _key(**change: object) -> dict:
    key = {"seed": 1, "base": "b", "chat_format": "zephyr", "lora": {"r": 2}, "batch_size": 4, "grad_accum": 1,
           "max_seq_len": 64, "lr": 1e-3, "warmup_steps": 0, "train_data": "abc"}
    return {**key, **change}


def test_a_save_killed_midway_leaves_the_last_whole_checkpoint_and_resume_works(tmp_path: Path) -> None:
    model, opt, sched, batches = _peft()
    batches.cursor = 8
    checkpoint.save(tmp_path, 2, model, opt, sched, batches, [{"step": 2}], 1, _key())
    # A kill during the next save: the adapter was written, the state never was.
    half = tmp_path / "checkpoints" / f"step-4{checkpoint.PARTIAL}"
    model.save_pretrained(half)
    # The old, non-atomic layout's leftover: a step folder without its state.
    model.save_pretrained(tmp_path / "checkpoints" / "step-5")
    fresh, opt2, sched2, batches2 = _peft(seed=1)
    step, history = checkpoint.restore(tmp_path, fresh, opt2, sched2, batches2, 1, _key())
    assert (step, history, batches2.cursor) == (2, [{"step": 2}], 8)
    checkpoint.save(tmp_path, 6, model, opt, sched, batches, [], 1, _key())
    assert not half.exists()
    assert (tmp_path / "checkpoints" / "step-6" / "state.pt").is_file()


def test_resume_refuses_a_checkpoint_made_with_other_settings(tmp_path: Path) -> None:
    model, opt, sched, batches = _peft()
    checkpoint.save(tmp_path, 2, model, opt, sched, batches, [], 1, _key())
    with pytest.raises(ValueError, match="grad_accum: checkpoint 1, config 4"):
        checkpoint.restore(tmp_path, model, opt, sched, batches, 1, _key(grad_accum=4))
    with pytest.raises(ValueError, match="train_data"):
        checkpoint.restore(tmp_path, model, opt, sched, batches, 1, _key(train_data="other"))


def test_epochs_set_the_steps_and_the_best_validation_step_is_kept(tmp_path: Path) -> None:
    from model_build.train import BestAdapter, planned_steps

    t = SimpleNamespace(max_steps=7, epochs=0.0, batch_size=16, grad_accum=1)
    assert planned_steps(t, 1000) == 7
    t.epochs = 2
    assert planned_steps(t, 1000) == 125  # ceil(2 * 1000 / 16)

    class Saves:
        def __init__(self, tag: str) -> None:
            self.tag = tag

        def save_pretrained(self, path: Path) -> None:
            path.mkdir(parents=True)
            (path / "weights").write_text(self.tag)

    best = BestAdapter(tmp_path / "best", [], keep=True)
    for step, loss in ((25, 0.9), (50, 0.4), (75, 0.5), (100, 0.45)):
        best.offer(step, loss, Saves(f"step {step}"))
    assert (best.step, best.loss, best.evals_since_best) == (50, 0.4, 2)
    assert (tmp_path / "best" / "weights").read_text() == "step 50"
    assert not (tmp_path / "best.partial").exists()
    # Resumed with the same history: the best is known again; a fresh run clears another run's best.
    history = [{"step": 50, "val_loss": 0.4}, {"step": 75, "val_loss": 0.5}]
    assert BestAdapter(tmp_path / "best", history, keep=True).step == 50
    assert BestAdapter(tmp_path / "best", [], keep=True).step is None and not (tmp_path / "best").exists()
