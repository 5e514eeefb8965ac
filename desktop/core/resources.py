"""One place that finds files under ``resources/``, from source and when frozen by PyInstaller."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder: beside the package in a checkout, inside ``sys._MEIPASS`` when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``, e.g. ``resource_path("ranges", "reference_ranges.json")``."""
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Where the user's own data lives (imported models, workspaces by default).

    ``VITALSIGHT_DATA_DIR`` overrides it, which keeps tests away from the real user's files.
    """
    override = os.environ.get("VITALSIGHT_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "vitalsight"


def models_dirs() -> list[Path]:
    """Folders the model manager scans, the shipped default first."""
    return [resource_path("models"), user_data_dir() / "models"]
