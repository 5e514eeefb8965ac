"""The model manager: which GGUF files the app can use, whether each is intact, and importing new ones.

Trust follows provenance. A file with a manifest (the shipped default, ``model_build`` output, a file
imported earlier) must match the manifest's size and sha256. A file without one was not built here, so it
is trial-loaded in a child process before the app loads it in-process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop.core.llm.gguf_info import GGUF_MAGIC, GGUFInfo, ModelFileError, read_gguf_info
from desktop.core.llm.manifest import (
    ADAPTER_KIND,
    ADAPTER_ROLES,
    CHAT_ROLE,
    MODEL_KIND,
    PLANNER_ROLE,
    load_manifest,
    sha256_file,
    verify_against_manifest,
    write_manifest,
)
from desktop.core.llm.trial_load import trial_load
from desktop.core.resources import models_dirs, user_data_dir

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: The project's own LoRA adapter (model_build's adapter stage), loaded over the default model by default.
DEFAULT_ADAPTER_NAME = "smollm2-135m-vitalsight-lora-F16.gguf"


@dataclass(frozen=True)
class ModelEntry:
    """One row of the model manager's list. ``error`` is set (and the other facts may be None) when the
    file cannot be used."""

    path: Path
    name: str
    size_bytes: int
    quantization: str | None = None
    context_length: int | None = None
    has_chat_template: bool = False
    has_manifest: bool = False
    manifest: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.error is None


def default_model_path() -> Path:
    return models_dirs()[0] / DEFAULT_MODEL_NAME


def _entry(path: Path, info: GGUFInfo | None, manifest: dict[str, Any] | None, error: str | None) -> ModelEntry:
    return ModelEntry(
        path=path,
        name=path.name,
        size_bytes=path.stat().st_size if path.exists() else 0,
        quantization=(info.quantization if info else None) or (manifest or {}).get("quantization"),
        context_length=(info.context_length if info else None) or (manifest or {}).get("context_length"),
        has_chat_template=bool(info.chat_template) if info else bool((manifest or {}).get("chat_template")),
        has_manifest=manifest is not None,
        manifest=manifest or {},
        error=error,
    )


def describe_model(path: str | Path) -> ModelEntry:
    """Header facts only (no hashing, no loading): cheap enough to list a folder."""
    path = Path(path)
    manifest: dict[str, Any] | None = None
    try:
        manifest = load_manifest(path)
        _check_verified(path, manifest)
        info = read_gguf_info(path)
    except ModelFileError as exc:
        return _entry(path, None, manifest, str(exc))
    return _entry(path, info, manifest, None)


def scan_models(dirs: list[Path] | None = None) -> list[ModelEntry]:
    """Every ``*.gguf`` in the model folders (default first), each described from its header."""
    entries: list[ModelEntry] = []
    seen: set[Path] = set()
    for folder in dirs if dirs is not None else models_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.gguf")):
            real = path.resolve()
            if _is_adapter(path):  # not a model: it is offered as the model's adapter, not in the list
                continue
            if real not in seen:
                seen.add(real)
                entries.append(describe_model(path))
    return entries


def check_model(path: str | Path, *, trial_timeout_s: float = 120.0) -> ModelEntry:
    """Everything short of loading in-process: header, manifest size+sha256, else a child trial load.

    Raises :class:`ModelFileError` with a message naming the file and the problem.
    """
    path = Path(path)
    manifest = load_manifest(path)
    _check_verified(path, manifest)
    if manifest is not None and manifest.get("sha256"):
        # Byte-identical to the file its builder checked: the magic is enough, the full header parse
        # (2 s for a 49k vocabulary) adds nothing.
        _check_magic(path)
        verify_against_manifest(path, manifest)
        return _entry(path, None, manifest, None)
    info = read_gguf_info(path)
    trial_load(path, timeout_s=trial_timeout_s)
    return _entry(path, info, manifest, None)


def _check_verified(path: Path, manifest: dict[str, Any] | None) -> None:
    # model_build's verify stage records its verdict; a model that failed it is not offered for chat.
    if manifest is not None and manifest.get("verified") is False:
        raise ModelFileError(f"{path}: its build marked it as failing verification (see its manifest)")


def _check_magic(path: Path) -> None:
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"{path}: not a GGUF file (starts with {magic!r}, expected {GGUF_MAGIC!r})")


def import_model(src: str | Path, *, dest_dir: Path | None = None, trial_timeout_s: float = 120.0) -> ModelEntry:
    """Copy a GGUF into the user's model folder after checking it, and write its manifest.

    The file is checked before it is copied (header, then a child-process trial load, or its own manifest
    when it brings one) and the copy is written to a temporary name and renamed, so the model folder never
    holds a half-copied or unchecked file.
    """
    src = Path(src)
    dest_dir = dest_dir or (user_data_dir() / "models")
    info = read_gguf_info(src)
    src_manifest = load_manifest(src)
    if src_manifest is not None and src_manifest.get("sha256"):
        verify_against_manifest(src, src_manifest)
    trial_load(src, timeout_s=trial_timeout_s)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / src.name
    if target.exists():
        raise ModelFileError(f"{target}: a model with this file name is already installed")
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=f".{src.name}.", suffix=".part")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        sha = sha256_file(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    manifest = dict(src_manifest or {})
    manifest.update(
        file=target.name,
        sha256=sha,
        size_bytes=target.stat().st_size,
        quantization=info.quantization,
        context_length=info.context_length,
        chat_template=info.chat_template,
        imported_from=str(src),
        imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    manifest.setdefault("source", f"imported from {src}")
    write_manifest(target, manifest)
    return _entry(target, info, manifest, None)


def default_adapter_path() -> Path:
    return models_dirs()[0] / DEFAULT_ADAPTER_NAME


def _is_adapter(path: Path) -> bool:
    try:
        manifest = load_manifest(path)
    except ModelFileError:
        return False
    return manifest is not None and manifest.get("kind") == ADAPTER_KIND


def check_adapter(adapter: str | Path, base: str | Path) -> dict[str, Any]:
    """The adapter's manifest, once the adapter matches it (size, sha256) and ``base`` is the file it was
    trained over. Raises :class:`ModelFileError` naming the file and the problem: llama.cpp would load an
    adapter over the wrong base without complaint when the shapes agree, and answer nonsense.

    The base's sha256 is taken from the base's own manifest when ``check_model`` has just verified the base
    against it (no second hash of 100 MB), else computed.
    """
    adapter, base = Path(adapter), Path(base)
    if not adapter.is_file():
        raise ModelFileError(f"{adapter}: no such adapter file")
    manifest = load_manifest(adapter)
    if manifest is None:
        raise ModelFileError(f"{adapter}: the adapter has no manifest ({adapter.name}.manifest.json); it cannot "
                             "be checked against its base")
    if manifest.get("kind") != ADAPTER_KIND:
        raise ModelFileError(f"{adapter}: its manifest is of kind {manifest.get('kind', MODEL_KIND)!r}, "
                             f"not {ADAPTER_KIND!r}")
    _check_verified(adapter, manifest)
    _check_magic(adapter)
    verify_against_manifest(adapter, manifest)
    expected = str((manifest.get("base") or {}).get("sha256") or "").lower()
    if not expected:
        raise ModelFileError(f"{adapter}: its manifest does not name the base model it was trained over")
    base_manifest = load_manifest(base)
    actual = str((base_manifest or {}).get("sha256") or "").lower() or sha256_file(base)
    if actual != expected:
        raise ModelFileError(
            f"{adapter}: made for the base {manifest['base'].get('file', '?')} (sha256 {expected[:16]}…), not "
            f"{base.name} (sha256 {actual[:16]}…); switch the adapter off or choose its base model")
    return manifest


def adapter_for(model: str | Path, *, enabled: bool = True, adapter: str | Path | None = None,
                role: str | None = None) -> Path | None:
    """The adapter to load over ``model``: None when switched off, when ``model`` is not the base the
    shipped adapter was made for (another model simply runs alone) or when the adapter's manifest does not
    list ``role`` (``PLANNER_ROLE`` / ``CHAT_ROLE``: an adapter trained and measured for planning is not
    loaded for chat); the adapter's path once ``check_adapter`` passed. A damaged adapter for this very base
    raises :class:`ModelFileError`.
    """
    if not enabled:
        return None
    adapter = Path(adapter) if adapter is not None else default_adapter_path()
    if not adapter.is_file():
        return None
    try:
        manifest = load_manifest(adapter)
    except ModelFileError:
        manifest = None
    base_file = ((manifest or {}).get("base") or {}).get("file")
    if base_file is not None and base_file != Path(model).name:
        return None
    roles = (manifest or {}).get("roles")
    if role is not None and isinstance(roles, list) and role not in roles:
        return None
    check_adapter(adapter, model)
    return adapter


_USES = {PLANNER_ROLE: "planning questions the exact parser cannot read", CHAT_ROLE: "chat answers"}


def adapter_description(model: str | Path, adapter: str | Path | None = None) -> str:
    """One line for the Models… window, from the adapter's manifest alone (no hashing): what the shipped
    adapter is loaded for over ``model`` and what the build measured for it against the plain model."""
    adapter = Path(adapter) if adapter is not None else default_adapter_path()
    if not adapter.is_file():
        return "No fine-tuned adapter is installed: the model runs alone."
    try:
        manifest = load_manifest(adapter)
    except ModelFileError as exc:
        return f"{adapter.name} cannot be used: {exc}"
    if manifest is None:
        return f"{adapter.name} has no manifest and is not used."
    base = str((manifest.get("base") or {}).get("file") or "")
    if base and base != Path(model).name:
        return f"{adapter.name} is made for {base}, so it is not used with {Path(model).name}."
    roles = manifest.get("roles")
    uses = [_USES[r] for r in (roles if isinstance(roles, list) else ADAPTER_ROLES) if r in _USES]
    if not uses:
        return f"{adapter.name} measured no better than the plain model at anything, so it is not used."
    text = f"{adapter.name} is used for {' and '.join(uses)}."
    plans = (manifest.get("metrics") or {}).get("plans") or {}
    tuned, plain = plans.get("adapter"), plans.get("base")
    if isinstance(tuned, dict) and isinstance(plain, dict) and "accuracy" in tuned and "accuracy" in plain:
        text += (f" On {tuned.get('n', '?')} held-out phrasings it planned {tuned['accuracy']:.0%} right and "
                 f"{tuned.get('wrong_rate', 0):.0%} wrong; the plain model {plain['accuracy']:.0%} right and "
                 f"{plain.get('wrong_rate', 0):.0%} wrong.")
    return text
