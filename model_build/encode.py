"""Turn prepared records into token ids with answer-only labels, and batch them.

The prompt (system + turns + assistant header) is tokenized exactly as the app tokenizes it: the chat
template's text, no special tokens added (the templates carry no BOS and the app tokenizes with
add_bos=False). The answer is tokenized *together* with the prompt and its tokens are what follows the
prompt's: tokenized alone, a SentencePiece tokenizer would start it with a "▁" the app never sees.
Labels are -100 on the prompt and on padding, so the loss, the perplexity and the learned EOS all
concern the answer alone.
"""

from __future__ import annotations

from typing import Any

from model_build.chat_format import ChatFormat, prompt_messages

IGNORE = -100


def encode_prompt(tok: Any, fmt: ChatFormat, rec: dict) -> list[int]:
    return tok(fmt.render_prompt(prompt_messages(rec), tok.eos_token), add_special_tokens=False)["input_ids"]


def encode_example(tok: Any, fmt: ChatFormat, rec: dict, max_len: int) -> dict[str, list[int]] | None:
    """None when prompt + answer do not fit in max_len (dropped, not truncated: a cut answer would teach
    the model to stop mid-sentence, a cut prompt would hide the values the answer quotes)."""
    prompt = encode_prompt(tok, fmt, rec)
    text = fmt.render_prompt(prompt_messages(rec), tok.eos_token) + fmt.render_answer(rec["answer"], tok.eos_token)
    whole = tok(text, add_special_tokens=False)["input_ids"]
    if whole[:len(prompt)] == prompt:
        answer = whole[len(prompt):]
    else:  # a merge across the boundary: keep the app's prompt tokens, the answer as tokenized alone
        answer = tok(fmt.render_answer(rec["answer"], tok.eos_token), add_special_tokens=False)["input_ids"]
    if len(prompt) + len(answer) > max_len:
        return None
    return {"input_ids": prompt + answer, "labels": [IGNORE] * len(prompt) + answer}


def encode_all(tok: Any, fmt: ChatFormat, records: list[dict], max_len: int) -> tuple[list[dict], int]:
    out, dropped = [], 0
    for rec in records:
        ex = encode_example(tok, fmt, rec, max_len)
        if ex is None:
            dropped += 1
        else:
            out.append(ex)
    return out, dropped


def collate(batch: list[dict], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(ex["input_ids"]) for ex in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, ex in enumerate(batch):
        n = len(ex["input_ids"])
        ids[i, :n] = torch.tensor(ex["input_ids"])
        labels[i, :n] = torch.tensor(ex["labels"])
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def answer_nll(model: Any, batch: dict[str, Any]) -> tuple[float, int]:
    """Summed negative log-likelihood of the labelled (answer) tokens and their count, teacher-forced."""
    import torch

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
    shift_logits = logits[:, :-1].reshape(-1, logits.size(-1))
    shift_labels = batch["labels"][:, 1:].reshape(-1)
    nll = torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=IGNORE, reduction="sum")
    return float(nll), int((shift_labels != IGNORE).sum())
