"""Gather the licences of everything the installer ships into ``build/licences/``.

The spec bundles that folder as ``resources/licences/``. Which distributions: the closure of
``vitalsight[app]``'s requirements as installed in the build environment (a new dependency is picked up
without editing a list), plus Python itself. Qt is LGPL-3.0: its licence ships with PySide6's, and the
one-folder layout lets a user replace the Qt libraries, which is what the LGPL asks for.

Run: ``python packaging/licences.py [OUT_DIR]``.
"""

from __future__ import annotations

import re
import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

# The PyPI ``packaging`` library (a PyInstaller dependency). The repository's ``packaging/`` folder has no
# __init__.py, so it is at most a namespace portion and the installed regular package wins.
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
APP = "vitalsight"
EXTRA = "app"
# Qt's wheels carry no licence file; resources/licences/ holds the LGPL/GPL texts committed.
LGPL_QT = {"pyside6-essentials", "pyside6", "shiboken6"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def shipped_distributions() -> list[metadata.Distribution]:
    """``vitalsight[app]`` and everything it needs at run time, as installed now."""
    seen: dict[str, metadata.Distribution] = {}
    queue: list[tuple[str, frozenset[str]]] = [(APP, frozenset({EXTRA}))]
    while queue:
        name, extras = queue.pop()
        key = _normalise(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency not installed: not shipped either
        first_visit = key not in seen
        seen[key] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
                continue
            if first_visit or req.extras:
                queue.append((req.name, frozenset(req.extras)))
    seen.pop(APP, None)
    return sorted(seen.values(), key=lambda d: _normalise(d.metadata["Name"]))


def _licence_files(dist: metadata.Distribution) -> list[Path]:
    found = []
    for file in dist.files or []:
        parts = file.parts
        name = parts[-1].upper()
        in_info = parts[0].endswith(".dist-info")
        if in_info and (name.startswith(("LICEN", "COPYING", "NOTICE", "AUTHORS")) or "licenses" in parts):
            path = Path(dist.locate_file(file))
            if path.is_file():
                found.append(path)
    return found


def gather(out: Path) -> list[str]:
    """Write one licence file per distribution and an index; return the distribution names."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    index = [
        "Vitalsight ships the following third-party software. Each licence text follows in its own file.",
        "",
    ]
    names = []
    for dist in shipped_distributions():
        name, version = dist.metadata["Name"], dist.version
        licence = dist.metadata.get("License-Expression") or dist.metadata.get("License") or ""
        licence = licence.splitlines()[0][:80] if licence else "see file"
        texts = _licence_files(dist)
        target = out / f"{_normalise(name)}.txt"
        with target.open("w", encoding="utf-8") as fh:
            fh.write(f"{name} {version}\nLicence: {licence}\n\n")
            for text in texts:
                fh.write(f"----- {text.name} -----\n")
                fh.write(text.read_text(encoding="utf-8", errors="replace"))
                fh.write("\n")
            if not texts and _normalise(name) in LGPL_QT:
                fh.write(
                    "The LGPL-3.0 (LGPL-3.0.txt with GPL-3.0.txt, in this folder) applies; see README.txt.\n"
                )
            elif not texts:
                fh.write("(no licence file in the distribution; see its project page)\n")
        index.append(f"{name} {version}: {licence}")
        names.append(name)
    python_licence = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if python_licence.is_file():
        shutil.copyfile(python_licence, out / "python.txt")
        index.append(f"Python {sys.version.split()[0]}: PSF-2.0 (python.txt)")
    index += ["", "The default chat model's licence is in resources/models/ beside the model."]
    (out / "THIRD-PARTY-NOTICES.txt").write_text("\n".join(index) + "\n", encoding="utf-8")
    return names


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "licences"
    shipped = gather(target)
    print(f"licences of {len(shipped)} distributions -> {target}")
