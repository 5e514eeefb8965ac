"""Where every artifact of a run lives (the run folder layout in model_build/README.md), in one place.

The stages hand off through files; each stage asks this module for the files it reads and writes instead
of importing another stage's helpers, so a stage can be read, rerun or replaced on its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model_build.config import BuildConfig

SPLITS = ("train", "val", "test")


class RunPaths:
    """The files of one run, rooted at ``cfg.out_path``."""

    def __init__(self, cfg: BuildConfig) -> None:
        self.name = cfg.name
        self.root = cfg.out_path

    # prepare
    @property
    def data(self) -> Path:
        return self.root / "data"

    def split(self, name: str) -> Path:
        return self.data / f"{name}.jsonl"

    @property
    def prepare_report(self) -> Path:
        return self.data / "prepare_report.json"

    # base checkpoint made from a GGUF base
    @property
    def base(self) -> Path:
        return self.root / "base"

    # train
    @property
    def train(self) -> Path:
        return self.root / "train"

    @property
    def adapter(self) -> Path:
        return self.train / "adapter"

    @property
    def train_summary(self) -> Path:
        return self.train / "summary.json"

    # evaluate
    @property
    def eval(self) -> Path:
        return self.root / "eval"

    @property
    def eval_report(self) -> Path:
        return self.eval / "report.json"

    @property
    def eval_markdown(self) -> Path:
        return self.eval / "report.md"

    # merge
    @property
    def merged(self) -> Path:
        return self.root / "merged"

    # convert and quantize
    @property
    def gguf_dir(self) -> Path:
        return self.root / "gguf"

    def gguf(self, qtype: str) -> Path:
        return self.gguf_dir / f"{self.name}-{qtype}.gguf"

    @property
    def convert_report(self) -> Path:
        return self.gguf_dir / "convert_report.json"

    @property
    def quantize_report(self) -> Path:
        return self.gguf_dir / "quantize_report.json"

    # verify
    @property
    def verify(self) -> Path:
        return self.root / "verify"

    @property
    def verify_report(self) -> Path:
        return self.verify / "report.json"

    @property
    def report(self) -> Path:
        return self.root / "report.md"


def gguf_path(cfg: BuildConfig, qtype: str) -> Path:
    return RunPaths(cfg).gguf(qtype)


def read_split(cfg: BuildConfig, name: str) -> list[dict[str, Any]]:
    """The prepared records of one split; a missing file names the stage that writes it."""
    path = RunPaths(cfg).split(name)
    if not path.is_file():
        raise FileNotFoundError(f"expected {path} from the prepare stage; run `prepare` first")
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def read_optional_json(path: Path) -> Any:
    """A report another stage may or may not have written (evaluate and install are optional)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
