"""`run` under `accelerate launch`: single-process stages on the main process only (RANK from the env)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_build import cli, report
from model_build.config import config_from_dict


@pytest.mark.parametrize(("env", "expected"), [
    ({}, True), ({"RANK": "0", "LOCAL_RANK": "0"}, True), ({"RANK": "1", "LOCAL_RANK": "1"}, False),
    ({"RANK": "2", "LOCAL_RANK": "0"}, False),  # second node's local main is not the global main
    ({"LOCAL_RANK": "1"}, False), ({"RANK": ""}, True),
])
def test_main_process_from_the_launchers_env(env: dict, expected: bool) -> None:
    assert cli.is_main_process(env) is expected


@pytest.mark.parametrize(("rank", "stages"), [
    ("0", ["prepare", "train", "evaluate", "merge", "convert", "quantize", "verify", "install"]),
    ("1", ["train"]),
])
def test_run_does_single_process_stages_on_the_main_process_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rank: str, stages: list[str]) -> None:
    ran: list[str] = []
    barriers: list[int] = []
    reports: list[str] = []
    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(cli, "_stage", lambda name: lambda cfg: ran.append(name))
    monkeypatch.setattr(cli, "wait_for_everyone", lambda: barriers.append(len(ran)))
    monkeypatch.setattr(report, "write", lambda cfg, timings: reports.append(cfg.name))
    cfg = config_from_dict({"name": "t", "out_dir": str(tmp_path), "model": {"base": "x"},
                            "install": {"enabled": True}})
    cli.run_all(cfg)
    assert ran == stages
    assert len(barriers) == 8  # every process passes every barrier, or the launch deadlocks
    assert reports == (["t"] if rank == "0" else [])
