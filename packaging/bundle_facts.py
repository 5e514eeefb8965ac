"""Facts about a built bundle, shared by ``packaging/build.py`` and ``tests/packaging/``.

Pure standard library on purpose: the tests load this file by path (``packaging/`` is not a Python
package, and must never become one: it would shadow the PyPI ``packaging`` library).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist" / "Vitalsight"
# What the bundle may weigh without the model (issue 6).
BUDGET_WITHOUT_MODEL_MB = 300.0
# Start to first paint of the window (issue 6).
BUDGET_COLD_START_S = 3.0

# Top-level modules of the model-building stack: finding any of them in the bundle is a packaging bug.
FORBIDDEN_MODULES = (
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "safetensors",
    "sentencepiece",
    "tokenizers",
    "triton",
    "matplotlib",
    "pandas",
    "scipy",
    "pytest",
    "PyInstaller",
)
# Qt modules stripped from the bundle (see the spec's EXCLUDED_MODULES); their libraries must not sneak in.
FORBIDDEN_QT_LIBS = ("Qt6WebEngine", "Qt6Quick", "Qt6Qml", "Qt6Designer", "Qt6Pdf", "Qt6Multimedia")


def internal_dir(dist: Path = DIST) -> Path:
    """Where PyInstaller 6 puts everything but the executables (``sys._MEIPASS`` at run time)."""
    if sys.platform == "darwin" and (dist.parent / "Vitalsight.app").exists():
        return dist.parent / "Vitalsight.app" / "Contents" / "Frameworks"
    return dist / "_internal"


def executable(dist: Path = DIST, *, cli: bool = True) -> Path:
    if sys.platform == "win32":
        return dist / ("vitalsight-cli.exe" if cli else "vitalsight.exe")
    if sys.platform == "darwin":
        return dist / "Vitalsight"
    return dist / "vitalsight"


def files(dist: Path = DIST) -> list[Path]:
    return sorted(p for p in dist.rglob("*") if p.is_file() and not p.is_symlink())


def forbidden_hits(dist: Path = DIST) -> list[str]:
    """Paths in the bundle that belong to the model-building stack or to stripped Qt modules."""
    hits = []
    for path in files(dist):
        rel = path.relative_to(dist).as_posix()
        parts = rel.split("/")
        for mod in FORBIDDEN_MODULES:
            if mod in parts or any(
                p.startswith((f"{mod}-", f"{mod}.")) and p.endswith(("dist-info", ".so", ".pyd"))
                for p in parts
            ):
                hits.append(rel)
        if any(lib in path.name for lib in FORBIDDEN_QT_LIBS):
            hits.append(rel)
        if "/translations/" in f"/{rel}" and path.suffix == ".qm":
            hits.append(rel)
    # The Python modules inside the PYZ archive are checked separately (tests/packaging reads the TOC).
    return sorted(set(hits))


@dataclass(frozen=True)
class SizeReport:
    total_mb: float
    model_mb: float
    groups: dict[str, float]

    @property
    def without_model_mb(self) -> float:
        return self.total_mb - self.model_mb


# First matching rule wins; the order goes from the most specific path to the most general.
_GROUPS: tuple[tuple[str, str], ...] = (
    ("resources/models/", "default model (resources/models)"),
    ("resources/", "resources (ranges, catalog, sample, icons, licences)"),
    ("PySide6/Qt/plugins/", "Qt plugins"),
    ("libicu", "ICU (Qt text support)"),
    ("PySide6/Qt/lib/", "Qt libraries"),
    ("PySide6/", "PySide6 bindings + shiboken6"),
    ("shiboken6/", "PySide6 bindings + shiboken6"),
    ("duckdb_extension_httpfs/", "DuckDB httpfs extension"),
    ("_duckdb", "DuckDB"),
    ("duckdb/", "DuckDB"),
    ("llama_cpp/", "llama.cpp (llama_cpp/lib)"),
    ("numpy", "numpy + OpenBLAS"),
    ("pyqtgraph/", "pyqtgraph"),
    ("base_library.zip", "Python stdlib + app code (PYZ)"),
    ("PYZ", "Python stdlib + app code (PYZ)"),
    ("python3", "Python runtime"),
    ("libpython", "Python runtime"),
    ("lib-dynload/", "Python extension modules"),
)


def size_report(dist: Path = DIST) -> SizeReport:
    groups: dict[str, float] = {}
    total = model = 0.0
    for path in files(dist):
        rel = path.relative_to(dist).as_posix()
        mb = path.stat().st_size / 1e6
        total += mb
        group = next((name for key, name in _GROUPS if key in rel), None)
        if group is None:
            group = "executables" if path.parent == dist else "other native libraries and data"
        if group.startswith("default model"):
            model += mb
        groups[group] = groups.get(group, 0.0) + mb
    ordered = dict(sorted(groups.items(), key=lambda kv: -kv[1]))
    return SizeReport(total_mb=total, model_mb=model, groups=ordered)


def biggest_files(dist: Path = DIST, n: int = 15) -> list[tuple[str, float]]:
    sized = [(p.relative_to(dist).as_posix(), p.stat().st_size / 1e6) for p in files(dist)]
    return sorted(sized, key=lambda kv: -kv[1])[:n]


# Shared libraries a Linux bundle may take from the system, by soname prefix: glibc, and the desktop
# libraries the spec deliberately leaves out (LINUX_SYSTEM_LIBS there; the Debian packages are listed in
# packaging/README.md). GTK/cairo/pango/atk are wanted only by Qt's optional GTK theme plugin.
LINUX_SYSTEM_SONAMES = (
    "libc.so",
    "libm.so",
    "libdl.so",
    "libpthread.so",
    "librt.so",
    "ld-linux",
    "libutil.so",
    "libX11.so",
    "libX11-xcb.so",
    "libxcb",
    "libxkbcommon",
    "libEGL.so",
    "libGL.so",
    "libfontconfig.so",
    "libfreetype.so",
    "libglib-2.0",
    "libgobject-2.0",
    "libgio-2.0",
    "libgthread-2.0",
    "libgmodule-2.0",
    "libdbus-1.so",
    "libwayland-",
    "libgtk-3",
    "libgdk-3",
    "libgdk_pixbuf",
    "libatk-1.0",
    "libcairo",
    "libpango",
    "libharfbuzz",
)


def external_libraries(dist: Path = DIST) -> dict[str, list[str]]:
    """Sonames the bundle's ELF files need that the bundle does not hold: {soname: [who needs it]}.

    Uses ``readelf`` (binutils, which PyInstaller needs on Linux anyway).
    """
    import subprocess

    elves = [p for p in files(dist) if ".so" in p.name or p == executable(dist)]
    provided = {p.name for p in dist.rglob("*") if ".so" in p.name}
    needs: dict[str, list[str]] = {}
    for path in elves:
        out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if "(NEEDED)" in line and "[" in line:
                soname = line.split("[", 1)[1].rstrip("]")
                if soname not in provided:
                    needs.setdefault(soname, []).append(path.relative_to(dist).as_posix())
    return needs


def frozen_env(data_dir: Path) -> dict[str, str]:
    """The environment a test runs the frozen app in: headless, private data folder, no dev venv leaking."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "QT_", "LD_"))}
    env["VITALSIGHT_DATA_DIR"] = str(data_dir)
    # QSettings (window geometry, recent workspaces) and caches go to the test's folder, not the user's.
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "share")):
        env[var] = str(data_dir / sub)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env
