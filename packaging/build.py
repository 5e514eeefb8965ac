"""Build the one-folder app (``dist/Vitalsight/``) and check it: ``python packaging/build.py``.

Steps: gather third-party licences, run PyInstaller on ``packaging/vitalsight.spec``, then refuse the
result if the model-building stack (torch, transformers, ...) or a stripped Qt module got in, if a file the
app loads at run time is missing, or if the bundle without the model is over budget. Writes
``build/bundle-report.json`` (sizes, biggest files, build time) and prints a summary.

Options: ``--no-model`` (leave the GGUF out), ``--no-budget`` (report but do not fail on size).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_facts as bf  # a sibling file, loaded by path: packaging/ is not a package
import licences

SPEC = bf.ROOT / "packaging" / "vitalsight.spec"
WORK = bf.ROOT / "build" / "pyinstaller"
REPORT = bf.ROOT / "build" / "bundle-report.json"


def required_files(internal: Path, *, with_model: bool) -> list[Path]:
    """Files the frozen app opens by path at run time; PyInstaller's analysis cannot vouch for them."""
    import duckdb

    so = {"win32": ".dll", "darwin": ".dylib"}.get(sys.platform, ".so")
    platform_plugin = {"win32": "qwindows.dll", "darwin": "libqcocoa.dylib"}.get(sys.platform, "libqxcb.so")
    need = [
        internal
        / "duckdb_extension_httpfs"
        / "extensions"
        / f"v{duckdb.__version__}"
        / "httpfs.duckdb_extension",
        internal / "llama_cpp" / "lib" / f"{'' if so == '.dll' else 'lib'}llama{so}",
        internal / "llama_cpp" / "lib" / f"{'' if so == '.dll' else 'lib'}ggml{so}",
        internal / "resources" / "ranges" / "reference_ranges.json",
        internal / "resources" / "catalog" / "measurements.json",
        internal / "resources" / "licences" / "THIRD-PARTY-NOTICES.txt",
    ]
    if (bf.ROOT / "desktop" / "ui").is_dir():
        plugins = internal / "PySide6" / "Qt" / "plugins"
        if sys.platform == "win32":
            plugins = internal / "PySide6" / "plugins"
        need += [plugins / "platforms" / platform_plugin]
        if sys.platform.startswith("linux"):
            need += [plugins / "platforms" / "libqoffscreen.so"]
    sample = bf.ROOT / "resources" / "sample" / "sample-workspace.duckdb"
    if sample.exists():
        need.append(internal / "resources" / "sample" / sample.name)
    if with_model:
        need += [
            internal / "resources" / "models" / p.name
            for p in (bf.ROOT / "resources" / "models").glob("*.gguf")
        ]
    return need


def build(*, with_model: bool) -> float:
    out = bf.ROOT / "build" / "licences"
    names = licences.gather(out)
    print(f"[package] licences of {len(names)} distributions -> {out.relative_to(bf.ROOT)}")
    if with_model and not any((bf.ROOT / "resources" / "models").glob("*.gguf")):
        raise SystemExit(
            "[package] no model under resources/models: run `make default-model` (or pass --no-model)"
        )
    env = dict(os.environ, VITALSIGHT_BUNDLE_MODEL="1" if with_model else "0")
    # A stale folder would keep files the new spec no longer collects.
    shutil.rmtree(bf.DIST, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(bf.DIST.parent),
            "--workpath",
            str(WORK),
            str(SPEC),
        ],
        check=True,
        env=env,
        cwd=bf.ROOT,
    )
    if sys.platform.startswith("linux"):
        _slim_linux(bf.internal_dir())
        # The installer for Linux is the folder itself: install.sh puts it in place with a menu entry.
        for name in ("install.sh", "vitalsight.desktop"):
            shutil.copy2(bf.ROOT / "packaging" / "linux" / name, bf.DIST / name)
    return time.perf_counter() - started


def _slim_linux(internal: Path) -> None:
    """Two safe savings PyInstaller does not make by itself (about 27 MB).

    * llama_cpp opens ``libllama.so`` by that name and the libraries find each other as ``lib*.so.0``
      (their RUNPATH is $ORIGIN): the unversioned files become symlinks instead of second copies.
    * The system Python's ``libpython3.*.so`` carries debug info. Only that file is stripped: wheels'
      libraries were already stripped by their builders, and stripping a patchelf-ed manylinux library can
      break it (which is why the spec keeps ``strip=False``).
    """
    lib = internal / "llama_cpp" / "lib"
    for plain in sorted(lib.glob("lib*.so")):
        versioned = plain.with_name(plain.name + ".0")
        if versioned.is_file() and not plain.is_symlink() and plain.read_bytes() == versioned.read_bytes():
            plain.unlink()
            plain.symlink_to(versioned.name)
    strip = shutil.which("strip")
    for libpython in internal.glob("libpython3*.so*"):
        if strip and libpython.is_file() and not libpython.is_symlink():
            subprocess.run([strip, "--strip-debug", str(libpython)], check=True)


def check(*, with_model: bool, budget: bool, seconds: float) -> int:
    internal = bf.internal_dir()
    problems = []
    missing = [p for p in required_files(internal, with_model=with_model) if not p.exists()]
    problems += [f"missing: {p.relative_to(bf.DIST)}" for p in missing]
    problems += [f"must not be bundled: {hit}" for hit in bf.forbidden_hits()]
    sizes = bf.size_report()
    if budget and sizes.without_model_mb > bf.BUDGET_WITHOUT_MODEL_MB:
        problems.append(
            f"bundle without the model is {sizes.without_model_mb:.0f} MB, budget "
            f"{bf.BUDGET_WITHOUT_MODEL_MB:.0f} MB"
        )
    report = {
        "platform": sys.platform,
        "build_seconds": round(seconds, 1),
        "total_mb": round(sizes.total_mb, 1),
        "model_mb": round(sizes.model_mb, 1),
        "without_model_mb": round(sizes.without_model_mb, 1),
        "budget_without_model_mb": bf.BUDGET_WITHOUT_MODEL_MB,
        "file_count": len(bf.files()),
        "groups_mb": {k: round(v, 1) for k, v in sizes.groups.items()},
        "biggest_files_mb": {k: round(v, 1) for k, v in bf.biggest_files()},
        "problems": problems,
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        f"[package] {bf.DIST.relative_to(bf.ROOT)}: {sizes.total_mb:.0f} MB "
        f"({sizes.without_model_mb:.0f} MB without the model, budget {bf.BUDGET_WITHOUT_MODEL_MB:.0f} MB), "
        f"{len(bf.files())} files, built in {seconds:.0f} s"
    )
    for name, mb in sizes.groups.items():
        print(f"[package]   {mb:7.1f} MB  {name}")
    for problem in problems:
        print(f"[package] PROBLEM {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-model", action="store_true", help="leave the default model out of the bundle")
    parser.add_argument("--no-budget", action="store_true", help="report the size but do not fail on it")
    parser.add_argument("--check-only", action="store_true", help="check an existing dist/Vitalsight")
    args = parser.parse_args(argv)
    with_model = not args.no_model
    seconds = 0.0 if args.check_only else build(with_model=with_model)
    return check(with_model=with_model, budget=not args.no_budget, seconds=seconds)


if __name__ == "__main__":
    sys.exit(main())
