"""The manifest beside a GGUF (``<file>.manifest.json``): what the file must be (size, sha256) and where it
came from. This is the one definition of the format: ``scripts/fetch_default_model.py``, ``model_build``'s
verify stage and the app's model import all write through :func:`write_manifest`, and the app reads
through :func:`load_manifest`, so producer and consumer cannot drift apart.

Fields every writer sets: ``schema_version``, ``file``, ``sha256``, ``size_bytes``. Optional fields the
app reads: ``quantization``, ``context_length``, ``chat_template``, ``verified`` (False means the build
marked the file as failing verification), ``source``. ``model_build`` adds its run's provenance
(``config``, ``data``, ``versions``, ``metrics``; see model_build/README.md).

A LoRA adapter (``kind`` = ``lora_adapter``; a model's manifest has no ``kind`` or ``"model"``) adds
``base``: ``{file, sha256, size_bytes}`` of the GGUF it was trained over. The app loads it only over that
exact file (``model_files.check_adapter``): the adapter's deltas are meaningless over any other weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from desktop.core.llm.gguf_info import ModelFileError

MANIFEST_SUFFIX = ".manifest.json"

#: Bumped when a field changes meaning; a reader refuses a manifest newer than it knows, so an old app
#: never trusts a check it does not understand.
SCHEMA_VERSION = 1

MODEL_KIND = "model"
ADAPTER_KIND = "lora_adapter"
#: What an adapter is loaded for (its manifest's ``roles``): the fallback planner's engine, the chat's engine.
#: The build lists a role only when base+adapter measured better than the base at it; a manifest without
#: ``roles`` is loaded for both.
PLANNER_ROLE = "planner"
CHAT_ROLE = "chat"
ADAPTER_ROLES = (PLANNER_ROLE, CHAT_ROLE)


def manifest_path(model: Path) -> Path:
    return model.with_name(model.name + MANIFEST_SUFFIX)


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest_file(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` with no schema check (for upgrading an old manifest in place)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: manifest is not a JSON object")
    return data


def load_manifest(model: Path) -> dict[str, Any] | None:
    """The manifest of ``model``, or None when it has none.

    A manifest that cannot be read, has no ``schema_version`` or a newer one than this app knows is an
    error naming the file: trusting fields whose meaning may have changed would make the check a guess.
    """
    path = manifest_path(model)
    if not path.exists():
        return None
    data = read_manifest_file(path)
    version = data.get("schema_version")
    if version is None:
        raise ModelFileError(
            f"{path}: the manifest has no schema_version (written by an older tool); fetch or rebuild the model, "
            "or run scripts/fetch_default_model.py --manifest-only for the default model"
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: schema_version {version!r} is not a positive whole number")
    if version > SCHEMA_VERSION:
        raise ModelFileError(
            f"{path}: manifest schema_version {version} is newer than this app understands ({SCHEMA_VERSION}); "
            "update Vitalsight to use this model"
        )
    return data


def verify_against_manifest(model: Path, manifest: dict[str, Any]) -> None:
    """Check size first (free), then sha256; raise :class:`ModelFileError` on any mismatch."""
    size = model.stat().st_size
    expected_size = manifest.get("size_bytes")
    if expected_size is not None and int(expected_size) != size:
        raise ModelFileError(
            f"{model}: size {size} bytes does not match its manifest ({expected_size} bytes); "
            "the file is truncated or was replaced"
        )
    expected_sha = manifest.get("sha256")
    if expected_sha:
        actual = sha256_file(model)
        if actual != str(expected_sha).lower():
            raise ModelFileError(
                f"{model}: sha256 {actual[:16]}… does not match its manifest ({str(expected_sha)[:16]}…); "
                "the file is damaged or was replaced"
            )


def write_manifest(model: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest of ``model`` atomically (temp file, then rename), stamped with the schema version.

    A half-written manifest would make a good model look damaged, so readers only ever see the old file
    or the new one. ``default=str`` lets builders pass paths and dates.
    """
    target = manifest_path(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = {"schema_version": SCHEMA_VERSION, **{k: v for k, v in manifest.items() if k != "schema_version"}}
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, default=str)
            fh.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a manifest is not secret
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
