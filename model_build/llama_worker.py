"""Child-process entry for everything that runs llama.cpp natively (quantize, load, tokenize, logits).

A malformed file can hit a GGML_ASSERT and abort the whole process; running here keeps the pipeline
process alive and turns an abort into an error message. Usage::

    python -m model_build.llama_worker quantize SRC DST Q4_K_M
    python -m model_build.llama_worker probe REQUEST.json RESULT.json
    python -m model_build.llama_worker adapter REQUEST.json RESULT.json

The probe request names GGUF files, prompts and texts; the result holds token ids, logits of the
reference file (as .npy beside the result), PPL and KL divergence of each file against the reference.
"""

from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path
from typing import Any


def quantize(src: str, dst: str, qtype: str) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{qtype}")
    params.nthread = 0
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize({src} -> {dst}, {qtype}) returned {rc}")


def _load(path: str, n_ctx: int, logits_all: bool = True, lora: str | None = None) -> Any:
    from llama_cpp import Llama

    return Llama(model_path=path, n_ctx=n_ctx, n_batch=min(n_ctx, 512), logits_all=logits_all, verbose=False,
                 seed=0, lora_path=lora)


def _logits(llm: Any, ids: list[int]) -> Any:
    import numpy as np

    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float64)


def _log_softmax(x: Any) -> Any:
    import numpy as np

    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _is_end(llm: Any, token: int) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llama_cpp.llama_model_get_vocab(llm.model), token))


def _app_text(llm: Any, messages: list[dict], answer: str | None = None) -> str:
    """The prompt as the app renders it: the file's own chat template through the app's ChatTemplate."""
    from desktop.core.llm.prompt import ChatMessage, ChatTemplate

    eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace")
    template = ChatTemplate(llm.metadata.get("tokenizer.chat_template"), eos_token=eos)
    text = template.render([ChatMessage(m["role"], m["content"]) for m in messages])
    return text if answer is None else text + answer + eos


def _app_tokens(llm: Any, text: str) -> list[int]:
    return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))  # as the app's engine


def probe(req: dict) -> dict:
    """For each file: the app's prompt tokens for every conversation; the reference file's logits on its
    own tokens of those prompts (for the NMSE against PyTorch); PPL and KLD against the reference on the
    answer tokens only; greedy generation."""
    import numpy as np

    n_ctx = req["n_ctx"]
    models = {name: _load(path, n_ctx) for name, path in req["files"].items()}
    out: dict[str, Any] = {"tokens": {}, "quality": {}, "generated": {}, "chat_template": {}}
    for name, llm in models.items():
        out["tokens"][name] = [_app_tokens(llm, _app_text(llm, c)) for c in req["conversations"]]
        out["chat_template"][name] = llm.metadata.get("tokenizer.chat_template") is not None
    ref = models[req["reference"]]
    ref_tokens = out["tokens"][req["reference"]]
    np.save(req["logits_out"], np.concatenate([_logits(ref, ids) for ids in ref_tokens]).astype(np.float32))
    # PPL and KL(reference || file) per answer token: prompt as context, answer (with its end token) scored.
    acc = {name: [0.0, 0.0, 0.0, 0] for name in models}  # nll, kld, same top token, count
    finite = {name: True for name in models}
    for conv, answer in req["scored"]:
        prompt = _app_tokens(ref, _app_text(ref, conv))
        whole = _app_tokens(ref, _app_text(ref, conv, answer))
        cut = max(0, len(whole) - req["max_tokens"])  # drop the oldest context, never the answer
        ids = whole[cut:]
        start = max(1, len(prompt) - cut)  # first answer position in ids
        if start >= len(ids):
            continue
        rlp = _log_softmax(_logits(ref, ids))[start - 1:-1]
        target = np.array(ids[start:])
        for name, llm in models.items():
            lp = rlp if llm is ref else _log_softmax(_logits(llm, ids))[start - 1:-1]
            finite[name] &= bool(np.isfinite(lp).all())
            a = acc[name]
            a[0] -= float(lp[np.arange(len(target)), target].sum())
            a[1] += float((np.exp(rlp) * (rlp - lp)).sum())
            a[2] += float((rlp.argmax(-1) == lp.argmax(-1)).sum())
            a[3] += len(target)
    for name, llm in models.items():
        nll, kld, same, count = acc[name]
        out["quality"][name] = {"ppl": float(np.exp(nll / count)) if count else None,
                                "kld_mean": kld / count if count else None,
                                "same_top_token": same / count if count else None, "answer_tokens": int(count),
                                "finite_logits": finite[name]}
        # Greedy tokens from an app prompt, ignoring EOS: the file must decode to text, not end tokens.
        llm.reset()
        llm.eval(_app_tokens(llm, _app_text(llm, req["generate_conversation"])))
        gen = []
        for _ in range(req["generate_tokens"]):
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            gen.append(tok)
            llm.eval([tok])
        text = llm.detokenize([t for t in gen if not _is_end(llm, t)]).decode("utf-8", "replace")
        out["generated"][name] = {"ids": gen, "text": text, "end_tokens": sum(_is_end(llm, t) for t in gen)}
    for llm in models.values():
        llm.close()
    return out


def adapter_probe(req: dict) -> dict:
    """The base GGUF with and without the GGUF LoRA adapter, on the app's tokens of each test conversation
    (prompt + reference answer): log-probabilities at the answer positions (saved as .npy for the parent to
    compare with the merged HF model) and greedy tokens from the prompt (the adapted model only)."""
    import numpy as np

    n_ctx = req["n_ctx"]
    tuned = _load(req["base"], n_ctx, lora=req["lora"])
    plain = _load(req["base"], n_ctx)
    out: dict[str, Any] = {"conversations": []}
    for i, (conv, answer) in enumerate(req["scored"]):
        prompt = _app_tokens(tuned, _app_text(tuned, conv))
        ids = _app_tokens(tuned, _app_text(tuned, conv, answer))
        start = len(prompt)
        for name, llm in (("tuned", tuned), ("plain", plain)):
            lp = _log_softmax(_logits(llm, ids))[start - 1:-1].astype(np.float32)
            np.save(Path(req["out_dir"]) / f"{name}-{i}.npy", lp)
        tuned.reset()
        tuned.eval(prompt)
        gen: list[int] = []
        for _ in range(req["generate_tokens"]):
            tok = int(np.argmax(tuned.scores[tuned.n_tokens - 1]))
            gen.append(tok)
            if _is_end(tuned, tok):
                break
            tuned.eval([tok])
        out["conversations"].append({"ids": ids, "start": start, "greedy": gen})
    tuned.close()
    plain.close()
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["quantize"] and len(argv) == 4:
        quantize(*argv[1:])
        return 0
    if argv[:1] in (["probe"], ["adapter"]) and len(argv) == 3:
        work = probe if argv[0] == "probe" else adapter_probe
        result = work(json.loads(Path(argv[1]).read_text()))
        Path(argv[2]).write_text(json.dumps(result))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
