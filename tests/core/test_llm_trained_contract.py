"""What the shipped adapter was trained on (desktop/core/trained) is fingerprinted in its manifest: changing
the contract without retraining fails here, and the app refuses the adapter for that role."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktop.core import trained
from desktop.core.llm.load import AdapterContractChanged, adapter_for_role, check_contract
from desktop.core.llm.manifest import PLANNER_ROLE, load_manifest
from desktop.core.llm.model_files import default_adapter_path, default_model_path

ADAPTER = default_adapter_path()


def test_the_shipped_adapter_was_trained_on_the_contract_the_app_sends() -> None:
    """If this fails, a prompt, reply format or context builder in desktop/core/trained changed: retrain the
    adapter (make model) so that its manifest records the new contract, or undo the change."""
    manifest = load_manifest(ADAPTER)
    assert manifest is not None and manifest.get("roles"), "the shipped adapter names the roles it is for"
    for role in manifest["roles"]:
        recorded = (manifest.get("contracts") or {}).get(role)
        assert recorded == trained.contract_hash(role), (
            f"the {role} contract changed since the shipped adapter was trained; what the app sends now:\n"
            + json.dumps(trained.contract_probe(role), indent=1)[:3000])


def test_a_changed_contract_makes_the_app_refuse_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    assert adapter_for_role(default_model_path(), PLANNER_ROLE) == ADAPTER  # today: loaded for planning
    monkeypatch.setattr(trained, "contract_hash", lambda role: "0" * 64)
    with pytest.raises(AdapterContractChanged, match="trained on another planner prompt.*Retrain it"):
        adapter_for_role(default_model_path(), PLANNER_ROLE)
    assert adapter_for_role(default_model_path(), PLANNER_ROLE, enabled=False) is None  # switched off: no check


def test_an_adapter_recording_no_contract_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / ADAPTER.name
    shutil.copyfile(ADAPTER, copy)
    manifest = load_manifest(ADAPTER) or {}
    manifest.pop("contracts", None)
    (tmp_path / f"{ADAPTER.name}.manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(AdapterContractChanged, match="records no planner prompt"):
        check_contract(copy, PLANNER_ROLE)


def test_the_planner_contract_is_the_trained_prompt_and_reply_format() -> None:
    probe = trained.contract_probe(PLANNER_ROLE)
    assert probe["prompts"][0] == [("system", trained.TRAINED_SYSTEM_PROMPT),
                                   ("user", "what was her highest pulse in 2021?")]
    assert list(probe["schema"]["properties"]) == ["kind", "subject", "operation", "measurement", "threshold",
                                                   "condition"]
    with pytest.raises(ValueError):
        trained.contract_hash("poet")
