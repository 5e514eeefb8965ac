"""Child-process entry for everything that runs llama.cpp natively (quantize, load, tokenize, logits).

A malformed file can hit a GGML_ASSERT and abort the whole process; running here keeps the pipeline
process alive and turns an abort into an error message. Usage::

    python -m model_build.llama_worker quantize SRC DST Q4_K_M
    python -m model_build.llama_worker probe REQUEST.json RESULT.json

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


def _load(path: str, n_ctx: int, logits_all: bool = True) -> Any:
    from llama_cpp import Llama

    return Llama(model_path=path, n_ctx=n_ctx, n_batch=min(n_ctx, 512), logits_all=logits_all, verbose=False,
                 seed=0)


def _logits(llm: Any, ids: list[int]) -> Any:
    import numpy as np

    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float64)


def _log_softmax(x: Any) -> Any:
    import numpy as np

    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def probe(req: dict) -> dict:
    """Token ids per file, reference logits for the prompts, PPL/KLD vs the reference on texts, generation."""
    import numpy as np

    n_ctx = req["n_ctx"]
    models = {name: _load(path, n_ctx) for name, path in req["files"].items()}
    out: dict[str, Any] = {"tokens": {}, "quality": {}, "generated": {}, "chat_template": {}}
    for name, llm in models.items():
        out["tokens"][name] = [llm.tokenize(p.encode(), add_bos=False, special=True) for p in req["prompts"]]
        out["chat_template"][name] = llm.metadata.get("tokenizer.chat_template") is not None
    ref = models[req["reference"]]
    # Logits of the reference file on the HF-tokenized prompt ids, for the NMSE against PyTorch.
    np.save(req["logits_out"], np.concatenate([_logits(ref, ids) for ids in req["prompt_ids"]]).astype(np.float32))
    # Perplexity of each file on the texts, and KL(reference || file) per token, averaged over tokens.
    acc = {name: [0.0, 0.0, 0.0, 0] for name in models}  # nll, kld, same top token, count
    for ids in req["text_ids"]:
        rlp = _log_softmax(_logits(ref, ids))[:-1]
        target = np.array(ids[1:])
        for name, llm in models.items():
            lp = rlp if llm is ref else _log_softmax(_logits(llm, ids))[:-1]
            a = acc[name]
            a[0] -= float(lp[np.arange(len(target)), target].sum())
            a[1] += float((np.exp(rlp) * (rlp - lp)).sum())
            a[2] += float((rlp.argmax(-1) == lp.argmax(-1)).sum())
            a[3] += len(target)
    for name, llm in models.items():
        nll, kld, same, count = acc[name]
        out["quality"][name] = {"ppl": float(np.exp(nll / count)), "kld_mean": kld / count,
                                "same_top_token": same / count, "tokens": int(count)}
        # Greedy tokens from the chat prompt, ignoring EOS: proves the file decodes end to end.
        llm.reset()
        prompt = req["generate_prompt_ids"]
        llm.eval(prompt)
        gen = []
        for _ in range(req["generate_tokens"]):
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            gen.append(tok)
            llm.eval([tok])
        out["generated"][name] = {"ids": gen, "text": llm.detokenize(gen).decode("utf-8", "replace")}
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["quantize"] and len(argv) == 4:
        quantize(*argv[1:])
        return 0
    if argv[:1] == ["probe"] and len(argv) == 3:
        result = probe(json.loads(Path(argv[1]).read_text()))
        Path(argv[2]).write_text(json.dumps(result))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
