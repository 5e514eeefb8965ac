"""Read a GGUF back (the ``gguf`` package's reader): metadata through ``gguf.Keys`` and per-tensor types.

Used after conversion (assert what the converter wrote) and after quantization (type histogram,
fallback tensors, effective bits per weight).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

# The types llama.cpp picks by design for each file type; a 2-D tensor of another type fell back
# (its row length is not a multiple of the block size: 256 for k-quants, 32 for the legacy types).
NOMINAL = {
    "Q8_0": {"Q8_0"}, "Q4_0": {"Q4_0", "Q6_K"}, "Q5_0": {"Q5_0", "Q6_K"}, "Q6_K": {"Q6_K"},
    "Q4_K_M": {"Q4_K", "Q6_K"}, "Q5_K_M": {"Q5_K", "Q6_K"}, "F16": {"F16"}, "F32": {"F32"},
}


def metadata(path: Path) -> dict[str, Any]:
    import gguf

    reader = gguf.GGUFReader(path)
    keys = [gguf.Keys.General.ARCHITECTURE, gguf.Keys.General.FILE_TYPE, gguf.Keys.Tokenizer.MODEL,
            gguf.Keys.Tokenizer.PRE, gguf.Keys.Tokenizer.CHAT_TEMPLATE, gguf.Keys.Tokenizer.EOS_ID,
            gguf.Keys.Tokenizer.BOS_ID, gguf.Keys.Tokenizer.ADD_BOS,
            # a LoRA adapter file (convert_lora_to_gguf.py): general.type "adapter"
            gguf.Keys.General.TYPE, gguf.Keys.Adapter.TYPE, gguf.Keys.Adapter.LORA_ALPHA]
    out: dict[str, Any] = {}
    for key in keys:
        field = reader.fields.get(key)
        out[key] = field.contents() if field is not None else None
    arch = out[gguf.Keys.General.ARCHITECTURE]
    for template in (gguf.Keys.LLM.BLOCK_COUNT, gguf.Keys.LLM.CONTEXT_LENGTH, gguf.Keys.LLM.EMBEDDING_LENGTH):
        key = template.format(arch=arch)
        field = reader.fields.get(key)
        out[key] = field.contents() if field is not None else None
    tokens = reader.fields.get(gguf.Keys.Tokenizer.LIST)
    out["vocab_size"] = len(tokens.data) if tokens is not None else None
    out["tensor_count"] = len(reader.tensors)
    return out


def tensor_stats(path: Path, ftype: str) -> dict[str, Any]:
    """Type histogram, fallback tensors and effective bits per weight (all tensors' bytes over weights)."""
    import gguf

    reader = gguf.GGUFReader(path)
    hist: Counter = Counter()
    fallbacks = []
    n_bytes = n_weights = 0
    nominal = NOMINAL.get(ftype, set())
    for t in reader.tensors:
        name = t.tensor_type.name
        hist[name] += 1
        n_bytes += int(t.n_bytes)
        n_weights += int(t.n_elements)
        is_matrix = sum(int(d) > 1 for d in t.shape) >= 2
        # F32 is llama.cpp keeping a tensor at full precision by design (GPT-2's position embeddings),
        # not a substitute type; anything else outside the nominal set is a fallback.
        if is_matrix and nominal and name not in nominal and name != "F32":
            fallbacks.append({"tensor": t.name, "type": name, "row": int(t.shape[0])})
    return {"types": dict(sorted(hist.items())), "fallback_tensors": len(fallbacks),
            "matrix_tensors": sum(1 for t in reader.tensors if sum(int(d) > 1 for d in t.shape) >= 2),
            "fallbacks": fallbacks, "bits_per_weight": 8 * n_bytes / max(n_weights, 1),
            "tensor_bytes": n_bytes, "weights": n_weights, "file_bytes": path.stat().st_size}
