"""Loading an engine, written once for every caller (the window's model thread, ``python -m desktop chat``,
the evaluations and the benchmark): the model checked against its manifest, the project's adapter for the
role when it is made for this model, measured better at the role and trained on the app's current contract
(``desktop/core/trained``), and the role's context size.

    engine = load_engine(path, CHAT_ROLE, settings)      # the chat: settings.n_ctx
    planner = load_engine(path, PLANNER_ROLE, settings)  # the planner: its own small context
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.manifest import ADAPTER_ROLES, PLANNER_ROLE, load_manifest
from desktop.core.llm.model_files import adapter_for, check_model


class EngineSettings(Protocol):
    """What loading needs of the chat settings (``desktop.core.chat.session.ChatSettings``)."""

    @property
    def n_ctx(self) -> int: ...
    @property
    def n_threads(self) -> int: ...
    @property
    def use_adapter(self) -> bool: ...


class AdapterContractChanged(ModelFileError):
    """The adapter was trained on other prompts than the app now sends for this role."""


_checked: dict[Path, tuple[int, float]] = {}  # model file -> (size, mtime) when check_model passed
_checked_lock = threading.Lock()


def _check_once(path: Path) -> None:
    """check_model (size + sha256, or a trial load) once per file and change: the chat and the planner load
    the same file, and a second hash of 100 MB buys nothing."""
    stat = path.stat() if path.exists() else None
    key = (stat.st_size, stat.st_mtime) if stat else None
    with _checked_lock:
        if key is not None and _checked.get(path.resolve()) == key:
            return
    check_model(path)
    if key is not None:
        with _checked_lock:
            _checked[path.resolve()] = key


def check_contract(adapter: Path, role: str) -> None:
    """Raise :class:`AdapterContractChanged` unless the adapter's manifest records, for ``role``, the hash of
    the contract the app has now (``desktop.core.trained.contract_hash``)."""
    from desktop.core.trained import contract_hash

    recorded = ((load_manifest(adapter) or {}).get("contracts") or {}).get(role)
    current = contract_hash(role)
    if recorded != current:
        what = f"was trained on another {role} prompt ({str(recorded)[:12]}…)" if recorded else \
            f"records no {role} prompt it was trained on"
        raise AdapterContractChanged(
            f"{adapter}: the adapter {what}, and the app now sends {current[:12]}…: its answers would not be "
            f"what was measured. Retrain it (make model), or switch the adapter off in Models…")


def adapter_for_role(path: str | Path, role: str, *, enabled: bool = True) -> Path | None:
    """The checked adapter to load over ``path`` for ``role``, or None (see ``model_files.adapter_for``)."""
    if role not in ADAPTER_ROLES:
        raise ValueError(f"unknown role {role!r}")
    adapter = adapter_for(path, enabled=enabled, role=role)
    if adapter is not None:
        check_contract(adapter, role)
    return adapter


def load_engine(path: str | Path, role: str, settings: EngineSettings) -> Engine:
    """The engine for ``role`` (``CHAT_ROLE`` or ``PLANNER_ROLE``) over the model at ``path``. Raises
    :class:`ModelFileError` naming the file and the problem (damaged model, adapter for another base,
    adapter trained on prompts the app no longer sends)."""
    from desktop.core.trained import PLANNER_N_CTX

    path = Path(path)
    _check_once(path)
    adapter = adapter_for_role(path, role, enabled=settings.use_adapter)
    n_ctx = PLANNER_N_CTX if role == PLANNER_ROLE else settings.n_ctx
    return Engine.load(path, n_ctx=n_ctx, n_threads=settings.n_threads, lora_path=adapter)
