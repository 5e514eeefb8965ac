"""Training tokens equal the app's tokens; evaluation scores each output against its own reference."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from desktop.core.llm.prompt import ChatMessage, ChatTemplate
from model_build import evaluate
from model_build.chat_format import get_format, prompt_messages
from model_build.encode import IGNORE, encode_example, encode_prompt


def test_training_tokens_equal_the_apps_tokens_from_token_0(spm_tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(spm_tokenizer_dir)
    fmt = get_format("zephyr")
    rec = {"system": "You are a careful clinical assistant.\nPatient: 54 y, BP 142/91 mmHg.",
           "messages": [{"role": "user", "content": "What was the last blood pressure?"}],
           "answer": "The last blood pressure was 142/91 mmHg."}
    app = ChatTemplate(fmt.template, eos_token=tok.eos_token)
    messages = [ChatMessage(m["role"], m["content"]) for m in prompt_messages(rec)]
    # The app tokenizes the rendered prompt with add_bos=False and special tokens parsed.
    app_prompt = tok(app.render(messages), add_special_tokens=False)["input_ids"]
    assert app_prompt[0] != tok.bos_token_id
    assert encode_prompt(tok, fmt, rec) == app_prompt
    ex = encode_example(tok, fmt, rec, 4096)
    assert ex is not None
    assert ex["input_ids"][:len(app_prompt)] == app_prompt
    # The answer as the app sees it in a later turn's history: prompt and answer in one text.
    history = app.render([*messages, ChatMessage("assistant", rec["answer"])], add_generation_prompt=False)
    app_history = tok(history.rstrip("\n"), add_special_tokens=False)["input_ids"]
    assert ex["input_ids"] == app_history
    assert ex["labels"] == [IGNORE] * len(app_prompt) + ex["input_ids"][len(app_prompt):]


def test_evaluation_pairs_each_output_with_its_own_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    records = [{"messages": [{"role": "user", "content": f"q{i}"}], "answer": f"answer number {i} alpha beta",
                "too_long": i in (0, 2)} for i in range(5)]
    monkeypatch.setattr(evaluate, "encode_example",
                        lambda tok, fmt, rec, n: None if rec["too_long"] else {"input_ids": [1], "labels": [1]})
    monkeypatch.setattr(evaluate, "collate", lambda batch, pad: {"input_ids": torch.zeros(1)})
    monkeypatch.setattr(evaluate, "answer_nll", lambda model, batch: (1.0, 1))
    monkeypatch.setattr(evaluate, "encode_prompt", lambda tok, fmt, rec: [records.index(rec) + 10])
    end = 99

    class Model:
        def eval(self) -> None:
            pass

        def generate(self, input_ids: torch.Tensor, **kw: object) -> torch.Tensor:
            return torch.cat([input_ids, torch.tensor([[int(input_ids[0, 0]) - 10, end]])], dim=1)

    tok = SimpleNamespace(eos_token="</s>", pad_token_id=0, convert_tokens_to_ids=lambda t: end,
                          decode=lambda ids, skip_special_tokens: records[ids[0]]["answer"])
    cfg = SimpleNamespace(model=SimpleNamespace(chat_format="zephyr"), train=SimpleNamespace(max_seq_len=64),
                          eval=SimpleNamespace(max_new_tokens=8))
    scores = evaluate._score(Model(), tok, records, cfg, "cpu")
    assert scores["examples"] == 3 and scores["rouge_l"] == pytest.approx(1.0)
    assert scores["numbers_recalled"] == 1.0
    assert scores["outputs"] == {i: records[i]["answer"] for i in (1, 3, 4)}
