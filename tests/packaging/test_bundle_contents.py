"""What is inside dist/Vitalsight: the files the app opens by path, nothing of the model-building stack,
and a size within budget."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT, bundle_facts

pytestmark = pytest.mark.bundle


def _pyz_top_modules(exe: Path) -> set[str]:
    """Top-level names of the Python modules frozen into the executable's PYZ archive."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(exe))
    names = archive.open_embedded_archive("PYZ.pyz").toc
    return {name.split(".")[0] for name in names}


def test_no_model_building_stack_among_files(bundle_dir: Path) -> None:
    assert bundle_facts.forbidden_hits(bundle_dir) == []


def test_no_model_building_stack_among_python_modules(bundle_dir: Path) -> None:
    modules = _pyz_top_modules(bundle_facts.executable(bundle_dir))
    assert "desktop" in modules and "duckdb" in modules and "llama_cpp" in modules
    assert modules.isdisjoint(bundle_facts.FORBIDDEN_MODULES)
    # The test and build tools of the dev extra stay out too.
    assert modules.isdisjoint({"hypothesis", "pytestqt", "importlinter", "pip", "setuptools", "model_build"})


def test_files_opened_by_path_at_run_time(bundle_dir: Path) -> None:
    internal = bundle_facts.internal_dir(bundle_dir)
    ext = list((internal / "duckdb_extension_httpfs" / "extensions").glob("v*/httpfs.duckdb_extension"))
    assert len(ext) == 1, (
        "the httpfs extension (encrypted workspaces) must be bundled, for one DuckDB version"
    )
    lib = internal / "llama_cpp" / "lib"
    names = {p.name for p in lib.iterdir()}
    assert {"libllama.so", "libllama.so.0", "libggml.so.0", "libggml-base.so.0", "libggml-cpu.so.0"} <= names
    for rel in (
        "ranges/reference_ranges.json",
        "catalog/measurements.json",
        "icons/vitalsight.png",
        "licences/THIRD-PARTY-NOTICES.txt",
        "licences/LGPL-3.0.txt",
        "sample/sample-workspace.duckdb",
    ):
        assert (internal / "resources" / rel).is_file(), rel


def test_qt_platform_plugins_and_nothing_unused(bundle_dir: Path) -> None:
    if not (ROOT / "desktop" / "ui").is_dir():
        pytest.fail("desktop/ui is missing: this branch has no window to bundle")
    plugins = bundle_facts.internal_dir(bundle_dir) / "PySide6" / "Qt" / "plugins"
    platforms = {p.name for p in (plugins / "platforms").iterdir()}
    assert {"libqxcb.so", "libqoffscreen.so"} <= platforms
    assert not platforms & {"libqvnc.so", "libqeglfs.so", "libqlinuxfb.so"}
    assert (plugins / "xcbglintegrations").is_dir()
    assert (plugins / "imageformats").is_dir()


def test_size_budget(bundle_dir: Path) -> None:
    sizes = bundle_facts.size_report(bundle_dir)
    assert sizes.without_model_mb < bundle_facts.BUDGET_WITHOUT_MODEL_MB, sizes.groups


def test_linux_installer_files(bundle_dir: Path) -> None:
    desktop_entry = (bundle_dir / "vitalsight.desktop").read_text(encoding="utf-8")
    assert "Exec=vitalsight gui" in desktop_entry and "Icon=vitalsight" in desktop_entry
    assert (bundle_dir / "install.sh").stat().st_mode & 0o111


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF sonames: the Linux bundle")
def test_linux_system_libraries_are_the_documented_ones(bundle_dir: Path) -> None:
    # Everything else the bundle's libraries need must be inside it; a new system dependency (or a
    # library dropped from the bundle by mistake) shows up here, and packaging/README.md must list it.
    needed = bundle_facts.external_libraries(bundle_dir)
    unexpected = {
        soname: users[:3]
        for soname, users in needed.items()
        if not soname.startswith(bundle_facts.LINUX_SYSTEM_SONAMES)
    }
    assert unexpected == {}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="install.sh is the Linux installer")
def test_linux_install_and_uninstall_for_one_user(bundle_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    run = functools.partial(subprocess.run, capture_output=True, text=True, env=env, timeout=300, check=False)
    installed = run(["sh", str(bundle_dir / "install.sh")])
    assert installed.returncode == 0, installed.stderr
    prefix = home / ".local" / "lib" / "vitalsight"
    launcher = home / ".local" / "bin" / "vitalsight"
    entry = home / ".local" / "share" / "applications" / "vitalsight.desktop"
    assert launcher.is_symlink() and launcher.resolve() == (prefix / "vitalsight").resolve()
    assert f"Exec={prefix}/vitalsight gui" in entry.read_text(encoding="utf-8")
    assert (home / ".local" / "share" / "icons" / "hicolor" / "256x256" / "apps" / "vitalsight.png").is_file()
    # Started through the PATH symlink, the bootloader still finds _internal beside the real executable.
    check = run([str(launcher), "selfcheck"], env={**env, "VITALSIGHT_DATA_DIR": str(tmp_path / "data")})
    assert check.returncode == 0, check.stdout[-2000:]
    removed = run(["sh", str(prefix / "install.sh"), "--uninstall"])
    assert removed.returncode == 0, removed.stderr
    assert not prefix.exists() and not launcher.exists() and not entry.exists()
