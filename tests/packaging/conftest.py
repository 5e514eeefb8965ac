"""Fixtures for running the built app (``dist/Vitalsight``) the way a clinician or IT would.

A test here never imports the app: it runs the frozen executable in a subprocess with a private data
folder, headless (``QT_QPA_PLATFORM=offscreen``) and with no Python/Qt/LD variables leaking in from the
developer's environment.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_bundle_facts() -> ModuleType:
    # packaging/ is not a package (it would shadow PyPI's ``packaging``), so its helper is loaded by path.
    spec = importlib.util.spec_from_file_location(
        "vitalsight_bundle_facts", ROOT / "packaging" / "bundle_facts.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bundle_facts = _load_bundle_facts()
TIMINGS = ROOT / "build" / "package-smoke-timings.json"


@dataclass
class FrozenApp:
    """The built app, run as a subprocess in ``home`` (its cwd) with its own data folder."""

    dist: Path
    home: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def exe(self) -> Path:
        return bundle_facts.executable(self.dist)

    @property
    def internal(self) -> Path:
        return bundle_facts.internal_dir(self.dist)

    def env(self) -> dict[str, str]:
        return bundle_facts.frozen_env(self.home / "data")

    def run(
        self, *args: str, timeout: float = 120.0, label: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        started = time.perf_counter()
        proc = subprocess.run(
            [str(self.exe), *args],
            check=False,
            cwd=self.home,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        self.timings[label or args[0]] = round(time.perf_counter() - started, 2)
        return proc

    def run_json(self, *args: str, ok_codes: tuple[int, ...] = (0,), **kw: object) -> object:
        proc = self.run(*args, **kw)  # type: ignore[arg-type]
        assert proc.returncode in ok_codes, f"{args[0]} exited {proc.returncode}\n{proc.stderr[-3000:]}"
        return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def bundle_dir(request: pytest.FixtureRequest) -> Path:
    dist = Path(request.config.getoption("--bundle-dir") or bundle_facts.DIST).resolve()
    if not bundle_facts.executable(dist).exists():
        message = f"no built app at {dist} (run `make package`)"
        if request.config.getoption("--require-bundle"):
            pytest.fail(message + "; --require-bundle was given", pytrace=False)
        pytest.skip(message + "; `make package-smoke` requires it")
    return dist


_session_timings: dict[str, float] = {}


@pytest.fixture
def frozen(bundle_dir: Path, tmp_path: Path) -> FrozenApp:
    (tmp_path / "data").mkdir()
    app = FrozenApp(dist=bundle_dir, home=tmp_path)
    yield app
    _session_timings.update(app.timings)


@pytest.fixture(scope="session")
def sample_workspace(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample workspace shipped in the bundle (tests write to it; the bundle stays clean)."""
    shipped = bundle_facts.internal_dir(bundle_dir) / "resources" / "sample" / "sample-workspace.duckdb"
    if not shipped.exists():
        pytest.fail(f"the bundle has no sample workspace at {shipped}", pytrace=False)
    copy = tmp_path_factory.mktemp("sample") / "sample-workspace.duckdb"
    copy.write_bytes(shipped.read_bytes())
    return copy


def pytest_sessionfinish(session: pytest.Session) -> None:
    # The figures packaging/README.md quotes come from here (build/package-smoke-timings.json).
    if _session_timings:
        TIMINGS.parent.mkdir(parents=True, exist_ok=True)
        TIMINGS.write_text(json.dumps(_session_timings, indent=2) + "\n", encoding="utf-8")
