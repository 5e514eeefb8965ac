"""Small helpers shared by the stages: JSON files, versions, child processes (hashing: desktop.core.llm.manifest)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)  # a half-written report never looks like a finished one
    return path


def read_json(path: Path, stage: str) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"expected {path} from the {stage} stage; run `{stage}` first")
    return json.loads(path.read_text())


def write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("torch", "transformers", "peft", "accelerate", "tokenizers", "safetensors", "gguf",
                "llama_cpp_python", "rouge_score", "sacrebleu"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def run_child(args: list[str], *, log_path: Path | None = None, timeout: float = 3600,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a Python child process (native code that may abort stays out of this process).

    Raises with the tail of its output when it fails, so the message says what the child saw.
    """
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(f"$ {' '.join(args)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-3000:]
        raise RuntimeError(f"child process failed (exit {proc.returncode}): {' '.join(args[:3])} ...\n{tail}")
    return proc
