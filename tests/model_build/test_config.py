from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from model_build.config import ConfigError, config_from_dict, load_config

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted((ROOT / "model_build" / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_presets_load(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.name and cfg.model.base


def test_presets_exist() -> None:
    assert {p.stem for p in PRESETS} >= {"gpt2", "tinyllama", "smollm2-135m"}


def test_unknown_keys_are_all_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nlearning_rate = 1\n[model]\nbase = "m"\n[train]\nmax_step = 3\nbatch_size = "4"\n')
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    text = str(info.value)
    assert "learning_rate: unknown key" in text
    assert "train.max_step: unknown key" in text and "max_steps" in text  # names the known keys
    assert "train.batch_size: expected int, found str '4'" in text
    assert len(info.value.problems) == 3


def test_missing_required_and_bad_choice() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict({"name": "x", "model": {"chat_format": "alpaca"}})
    assert "model.base: required key is missing" in str(info.value)
    assert "model.chat_format: expected one of" in str(info.value)


def test_overrides_are_typed_and_checked(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "model_build/configs/smollm2-135m.toml",
                      ["train.max_steps=7", "quantize.types=['Q8_0']", "install.enabled=false", "out_dir=/tmp/x"])
    assert cfg.train.max_steps == 7 and cfg.quantize.types == ["Q8_0"] and cfg.out_dir == "/tmp/x"
    with pytest.raises(ConfigError, match="train.max_stepz: unknown key"):
        load_config(ROOT / "model_build/configs/smollm2-135m.toml", ["train.max_stepz=7"])


def test_cli_fails_with_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ncolour = "red"\n[model]\nbase = "m"\n')
    proc = subprocess.run([sys.executable, "-m", "model_build", "prepare", "--config", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 2
    assert "colour: unknown key" in proc.stderr
