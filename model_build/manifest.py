"""The manifest beside each GGUF (``<gguf name>.manifest.json``), read by the app's model manager.

Schema (documented in model_build/README.md): file, sha256, size_bytes, quantization, architecture,
base_model, context_length, chat_template (bool), chat_format, created (ISO 8601 UTC), verified, data
(split and source hashes), config (the resolved run config), versions (libraries and converter), metrics
(this file's verification numbers, its quantization statistics and the run's evaluation numbers).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model_build.config import BuildConfig
from model_build.gguf_info import metadata
from model_build.util import sha256_file, versions, write_json

SCHEMA_VERSION = 1


def _maybe(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def manifest_path(gguf: Path) -> Path:
    return gguf.with_name(gguf.name + ".manifest.json")


def write(cfg: BuildConfig, gguf: Path, quantization: str, verify_metrics: dict, passed: bool) -> Path:
    meta = metadata(gguf)
    arch = meta["general.architecture"]
    prep = _maybe(cfg.out_path / "data" / "prepare_report.json") or {}
    quant = _maybe(gguf.parent / "quantize_report.json") or {}
    evaluation = _maybe(cfg.out_path / "eval" / "report.json") or {}
    train = _maybe(cfg.out_path / "train" / "summary.json") or {}
    qstats = quant.get("files", {}).get(quantization) or (quant.get("source") if quantization ==
                                                          cfg.convert.outtype.upper() else None) or {}
    ctx = meta.get(f"{arch}.context_length") or cfg.model.context_length
    doc = {
        "schema_version": SCHEMA_VERSION,
        "file": gguf.name,
        "sha256": sha256_file(gguf),
        "size_bytes": gguf.stat().st_size,
        "quantization": quantization,
        "architecture": arch,
        "base_model": cfg.model.base,
        # For a GGUF base: which file exactly (its sha256), since a path says little on another machine.
        "base_model_source": _maybe(cfg.out_path / "base" / "source.json"),
        "context_length": int(min(ctx, cfg.model.context_length)),
        "chat_template": meta.get("tokenizer.chat_template") is not None,
        "chat_format": cfg.model.chat_format,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "verified": passed,
        "data": {"splits": prep.get("splits", {}), "sources": prep.get("sources", {})},
        "config": cfg.to_dict(),
        "versions": {**versions(), "converter": f"llama-cpp-python=={cfg.convert.llama_cpp_python} "
                     "vendor/llama.cpp/convert_hf_to_gguf.py"},
        "metrics": {
            "verify": {k: v for k, v in verify_metrics.items() if k != "generated_text"},
            "bits_per_weight": qstats.get("bits_per_weight"),
            "fallback_tensors": qstats.get("fallback_tensors"),
            "tensor_types": qstats.get("types"),
            "eval": evaluation.get("metrics"),
            "train": {k: train.get(k) for k in ("steps", "seed", "final_train_loss", "final_val_loss",
                                                "tokens_per_s_median")} if train else None,
        },
    }
    return write_json(manifest_path(gguf), doc)
