"""Stage 8 (optional), install: copy the chosen verified GGUF and its manifest where the app looks.

The app's model manager scans ``$VITALSIGHT_DATA_DIR/models`` (default ``~/.local/share/vitalsight/models``)
besides the shipped ``resources/models``. Only a file whose manifest says ``verified: true`` is installed,
and the copy is checked against the manifest's sha256 before it replaces anything.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from desktop.core.llm.manifest import load_manifest, manifest_path, sha256_file
from model_build.config import BuildConfig
from model_build.paths import RunPaths, gguf_path

log = logging.getLogger(__name__)


def models_dir(cfg: BuildConfig) -> Path:
    if cfg.install.models_dir:
        return Path(cfg.install.models_dir).expanduser()
    data = os.environ.get("VITALSIGHT_DATA_DIR")
    return (Path(data) if data else Path.home() / ".local" / "share" / "vitalsight") / "models"


def main(cfg: BuildConfig) -> dict:
    src = gguf_path(cfg, cfg.install.quantization)
    man = manifest_path(src)
    doc = load_manifest(src)  # the app's own reader: what installs is what the app accepts
    if doc is None:
        raise FileNotFoundError(f"expected {man}; run `verify` first")
    if not doc.get("verified"):
        raise RuntimeError(f"{src.name} failed verification (see {RunPaths(cfg).verify_report}); "
                           "not installing it")
    dest_dir = models_dir(cfg)
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest_dir / (src.name + ".partial")
    shutil.copyfile(src, tmp)
    if sha256_file(tmp) != doc["sha256"]:
        tmp.unlink()
        raise RuntimeError(f"copy of {src} does not match the sha256 in its manifest")
    tmp.replace(dest_dir / src.name)
    shutil.copyfile(man, dest_dir / man.name)  # manifest last: the app never sees a manifest without its file
    log.info("installed %s and its manifest into %s", src.name, dest_dir)
    return {"installed": str(dest_dir / src.name), "manifest": str(dest_dir / man.name)}
