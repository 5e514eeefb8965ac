"""Adapter checks on the app's side: an adapter is used only over the exact base its manifest names, can be
switched off, is not listed as a model, and a wrong base or a damaged or unvouched adapter is a
ModelFileError naming the file, never a crash. (Loading a real GGUF LoRA over its base in llama.cpp is
tests/model_build/test_adapter.py, on a tiny model through the real converter.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.manifest import (
    ADAPTER_KIND,
    CHAT_ROLE,
    PLANNER_ROLE,
    load_manifest,
    manifest_path,
    sha256_file,
    write_manifest,
)
from desktop.core.llm.model_files import DEFAULT_MODEL_NAME, adapter_for, check_adapter, scan_models
from desktop.core.settings import AppSettings

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"
BASE = MODELS / DEFAULT_MODEL_NAME


def _adapter(folder: Path, base_sha: str, **extra: object) -> Path:
    lora = folder / "test-lora-F16.gguf"
    lora.write_bytes(b"GGUF" + bytes(range(256)) * 8)
    write_manifest(lora, {"kind": ADAPTER_KIND, "file": lora.name, "sha256": sha256_file(lora),
                          "size_bytes": lora.stat().st_size, "verified": True,
                          "base": {"file": DEFAULT_MODEL_NAME, "sha256": base_sha}, **extra})
    return lora


@pytest.fixture
def lora(tmp_path: Path) -> Path:
    return _adapter(tmp_path, load_manifest(BASE)["sha256"])


def test_adapter_over_its_base_is_used_unless_switched_off(lora: Path) -> None:
    assert check_adapter(lora, BASE)["kind"] == ADAPTER_KIND
    assert adapter_for(BASE, enabled=True, adapter=lora) == lora
    assert adapter_for(BASE, enabled=False, adapter=lora) is None
    # A model of another name simply runs without the adapter.
    assert adapter_for(lora.parent / "other-model.gguf", enabled=True, adapter=lora) is None
    assert adapter_for(BASE, enabled=True, adapter=lora.parent / "missing.gguf") is None
    assert lora.name not in [e.name for e in scan_models([lora.parent])]


def test_an_adapter_is_loaded_only_for_the_roles_its_manifest_lists(tmp_path: Path) -> None:
    planner_only = _adapter(tmp_path, load_manifest(BASE)["sha256"], roles=[PLANNER_ROLE])
    assert adapter_for(BASE, adapter=planner_only, role=PLANNER_ROLE) == planner_only
    assert adapter_for(BASE, adapter=planner_only, role=CHAT_ROLE) is None
    assert adapter_for(BASE, adapter=planner_only) == planner_only  # no role asked: the file itself
    nothing = _adapter(tmp_path, load_manifest(BASE)["sha256"], roles=[])
    assert adapter_for(BASE, adapter=nothing, role=PLANNER_ROLE) is None


def test_adapter_setting_defaults_on_and_reads_back() -> None:
    assert AppSettings().chat_use_adapter is True
    assert AppSettings.from_dict({"chat_use_adapter": "false"}).chat_use_adapter is False
    assert AppSettings.from_dict({"chat_use_adapter": False}).chat_use_adapter is False
    assert AppSettings.from_dict({"chat_use_adapter": "junk"}).chat_use_adapter is True


def test_adapter_over_another_base_is_refused(tmp_path: Path) -> None:
    lora = _adapter(tmp_path, "0" * 64)
    with pytest.raises(ModelFileError, match="made for the base SmolLM2-135M-Instruct.Q4_1.gguf"):
        adapter_for(BASE, enabled=True, adapter=lora)


def test_damaged_or_unvouched_adapter_is_an_error_message(lora: Path) -> None:
    data = bytearray(lora.read_bytes())
    data[-100] ^= 0xFF
    lora.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="does not match its manifest"):
        adapter_for(BASE, enabled=True, adapter=lora)
    man = json.loads(manifest_path(lora).read_text())
    manifest_path(lora).write_text(json.dumps({**man, "kind": "model"}))
    with pytest.raises(ModelFileError, match="not 'lora_adapter'"):
        check_adapter(lora, BASE)
    manifest_path(lora).unlink()
    with pytest.raises(ModelFileError, match="has no manifest"):
        check_adapter(lora, BASE)


def test_the_models_window_says_what_the_adapter_is_for_and_what_it_measured(tmp_path: Path) -> None:
    from desktop.core.llm.model_files import adapter_description

    metrics = {"plans": {"base": {"n": 80, "accuracy": 0.1, "wrong_rate": 0.05},
                         "adapter": {"n": 80, "accuracy": 0.625, "wrong_rate": 0.025}}}
    lora = _adapter(tmp_path, load_manifest(BASE)["sha256"], roles=[PLANNER_ROLE], metrics=metrics)
    text = adapter_description(BASE, lora)
    assert "used for planning questions" in text and "chat" not in text
    assert "planned 62% right and 2% wrong; the plain model 10% right and 5% wrong" in text
    assert "not used with other.gguf" in adapter_description(tmp_path / "other.gguf", lora)
    assert "No fine-tuned adapter" in adapter_description(BASE, tmp_path / "none.gguf")
    nothing = _adapter(tmp_path, load_manifest(BASE)["sha256"], roles=[])
    assert "not used" in adapter_description(BASE, nothing)
