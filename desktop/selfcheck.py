"""``vitalsight selfcheck``: can this installation do its job? For IT staff, the installer's smoke test
and a support call ("run selfcheck and send me the output").

Each check exercises what a frozen app finds by path at run time, where packaging mistakes show up:
the ``resources/`` folder, DuckDB's httpfs extension (an encrypted workspace is created, reopened with its
key and refused without it), llama.cpp's shared libraries, the shipped model's files and Qt's platform
plugins. Prints JSON; exit status 0 when every check passed, 1 otherwise. Nothing is written outside a
temporary folder, and nothing touches the network.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.core.resources import models_dirs, resource_path, resources_dir


def _resources() -> str:
    for parts in (("ranges", "reference_ranges.json"), ("catalog", "measurements.json")):
        json.loads(resource_path(*parts).read_text(encoding="utf-8"))
    return str(resources_dir())


def _encrypted_workspace() -> str:
    from desktop.core.workspace.store import WorkspaceError, _httpfs_extension_path, open_store

    extension = _httpfs_extension_path()
    if extension is None:
        raise RuntimeError("the httpfs extension file was not found")
    key = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="vitalsight-selfcheck-") as tmp:
        path = Path(tmp) / "encrypted.duckdb"
        with open_store(path, encryption_key=key) as store:
            created = store.schema_version()
        with open_store(path, encryption_key=key, read_only=True) as store:
            if store.schema_version() != created:
                raise RuntimeError("reopened workspace has another schema version")
        try:
            open_store(path, read_only=True).close()
        except WorkspaceError:
            pass  # without the key the file must not open: that is the point of encrypting it
        else:
            raise RuntimeError("the encrypted workspace opened without its key")
    return f"created, reopened with its key, refused without it (schema {created}; {Path(extension).name})"


def _llama_libraries() -> str:
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    where = Path(llama_cpp.__file__).parent
    return f"llama_cpp {llama_cpp.__version__} loaded from {where}; {text.strip()[:120]}"


def _models() -> str:
    found = [p for folder in models_dirs() if folder.is_dir() for p in sorted(folder.glob("*.gguf"))]
    if not found:
        # Not fatal for a bundle built with --no-model: the user imports one. Reported, not failed.
        return (
            "no model file in the bundle or the data folder (import one with the chat panel's Models… button)"
        )
    text = ", ".join(f"{p.name} ({p.stat().st_size / 1e6:.0f} MB)" for p in found)
    from desktop.core.llm.model_files import adapter_description, adapter_for, default_model_path

    model = default_model_path()
    # The shipped adapter is checked against its manifest and its base (a damaged one fails the check).
    if model.is_file() and adapter_for(model) is not None:
        text += "; adapter checked: " + adapter_description(model)
    return text


def _qt_plugins() -> str:
    try:
        from PySide6.QtCore import QLibraryInfo, __version__
    except ImportError:
        return "Qt not in this build (command line only)"
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    platforms = sorted(p.name for p in (plugins / "platforms").glob("*") if p.is_file())
    if not platforms:
        raise RuntimeError(f"no Qt platform plugins under {plugins}")
    return f"Qt {__version__}, platform plugins: {', '.join(platforms)}"


CHECKS: dict[str, Callable[[], str]] = {
    "resources": _resources,
    "encrypted_workspace": _encrypted_workspace,
    "llama_cpp": _llama_libraries,
    "models": _models,
    "qt": _qt_plugins,
}


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("vitalsight")
    except metadata.PackageNotFoundError:
        return "unknown (not installed as a package)"


def run_selfcheck() -> dict[str, Any]:
    results = []
    for name, check in CHECKS.items():
        try:
            results.append({"check": name, "ok": True, "detail": check()})
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the others
            last = traceback.extract_tb(exc.__traceback__)[-1]
            results.append(
                {
                    "check": name,
                    "ok": False,
                    "detail": f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})",
                }
            )
    return {
        "ok": all(r["ok"] for r in results),
        "version": _version(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "python": sys.version.split()[0],
        "checks": results,
    }


def main() -> int:
    report = run_selfcheck()
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if report["ok"] else 1
