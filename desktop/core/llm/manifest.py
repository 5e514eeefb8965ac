"""The manifest beside a GGUF (``<file>.manifest.json``): what the file must be (size, sha256) and where it
came from. ``scripts/fetch_default_model.py`` and ``model_build`` write one; importing a model writes one.
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


def manifest_path(model: Path) -> Path:
    return model.with_name(model.name + MANIFEST_SUFFIX)


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(model: Path) -> dict[str, Any] | None:
    """The manifest of ``model``, or None when it has none; a manifest that cannot be read is an error."""
    path = manifest_path(model)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: manifest is not a JSON object")
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
    """Write the manifest atomically (temp file, then rename)."""
    target = manifest_path(model)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2)
            fh.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
