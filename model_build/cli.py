"""``python -m model_build {run,prepare,train,evaluate,merge,convert,quantize,verify,install,setup-converter}
--config model_build/configs/NAME.toml [--set key=value ...]``

Each stage reads its inputs from the run folder and writes its outputs there, so any stage can be rerun
alone. The resolved config is saved as ``<run>/config.resolved.json`` on every invocation.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from model_build.config import BuildConfig, ConfigError, load_config, save_resolved
from model_build.data.adapters import DataFormatError

STAGES = ("prepare", "train", "evaluate", "merge", "adapter", "convert", "quantize", "verify", "install")
# Stages a config can switch off: evaluate, adapter and install run only when enabled.
_OPTIONAL = {"evaluate": "eval", "adapter": "adapter", "install": "install"}


def _stage(name: str) -> Callable[[BuildConfig], dict]:
    import importlib

    return importlib.import_module(f"model_build.{name}").main


# Stages every process of an `accelerate launch` runs; the others write shared files and run once.
DISTRIBUTED_STAGES = frozenset({"train"})


def is_main_process(env: Mapping[str, str] | None = None) -> bool:
    """True unless this is a secondary process of a distributed launch (accelerate/torchrun set RANK)."""
    env = os.environ if env is None else env
    return int(env.get("RANK", env.get("LOCAL_RANK", "0")) or 0) == 0


def _world_size(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    return int(env.get("WORLD_SIZE", "1") or 1)


def wait_for_everyone() -> None:
    """Barrier between stages of a distributed launch, so no process reads a file the main one is writing."""
    if _world_size() > 1:
        from accelerate import PartialState

        PartialState().wait_for_everyone()


def run_all(cfg: BuildConfig) -> dict[str, float]:
    """Every stage in order; evaluate and install only when enabled. Returns seconds per stage.

    Under ``accelerate launch`` every process runs this: training uses all of them, the single-process
    stages (prepare, evaluate, merge, convert, quantize, verify, install, the report) run on the main
    process only, with a barrier after each so the others wait for its files.
    """
    from model_build import report

    main = is_main_process()
    timings: dict[str, float] = {}
    for name in STAGES:
        if name in _OPTIONAL and not getattr(cfg, _OPTIONAL[name]).enabled:
            continue
        if main or name in DISTRIBUTED_STAGES:
            t0 = time.perf_counter()
            logging.getLogger("model_build").info("=== stage %s", name)
            _stage(name)(cfg)
            timings[name] = round(time.perf_counter() - t0, 1)
        wait_for_everyone()
    if main:
        report.write(cfg, timings)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model_build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("run", *STAGES, "setup-converter"))
    parser.add_argument("--config", required=True, type=Path, help="TOML file, e.g. model_build/configs/gpt2.toml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set train.max_steps=10 (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if is_main_process():  # one writer under `accelerate launch`
        save_resolved(cfg, cfg.out_path)
    try:
        _dispatch(args.command, cfg)
    except (DataFormatError, FileNotFoundError) as exc:  # the user's files: a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _dispatch(command: str, cfg: BuildConfig) -> None:
    if command == "run":
        run_all(cfg)
    elif command == "setup-converter":
        from model_build.convert import setup_converter

        print(setup_converter(cfg.convert.llama_cpp_python, Path(cfg.convert.converter_dir)))
    else:
        _stage(command)(cfg)
