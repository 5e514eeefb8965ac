"""Stage 8 (optional), install: copy the chosen verified GGUF and its manifest where the app looks.

The app's model manager scans ``$VITALSIGHT_DATA_DIR/models`` (default ``~/.local/share/vitalsight/models``)
besides the shipped ``resources/models``. Only a file whose manifest says ``verified: true`` is installed,
and the copy is checked against the manifest's sha256 before it replaces anything.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from model_build.config import BuildConfig
from model_build.convert import gguf_path
from model_build.manifest import manifest_path
from model_build.util import sha256_file

log = logging.getLogger(__name__)


def models_dir(cfg: BuildConfig) -> Path:
    if cfg.install.models_dir:
        return Path(cfg.install.models_dir).expanduser()
    data = os.environ.get("VITALSIGHT_DATA_DIR")
    return (Path(data) if data else Path.home() / ".local" / "share" / "vitalsight") / "models"


def main(cfg: BuildConfig) -> dict:
    src = gguf_path(cfg, cfg.install.quantization)
    man = manifest_path(src)
    if not man.is_file():
        raise FileNotFoundError(f"expected {man}; run `verify` first")
    doc = json.loads(man.read_text())
    if not doc.get("verified"):
        raise RuntimeError(f"{src.name} failed verification (see {cfg.out_path / 'verify' / 'report.json'}); "
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
