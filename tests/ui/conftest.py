"""Qt test fixtures: offscreen, settings and user data in tmp, real workspaces built through the real
importers, and a check that no test leaves any thread running (practice 9)."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings, QThread, QThreadPool

from desktop.core.importers import import_paths
from desktop.core.workspace.store import open_store
from desktop.ui import qt_errors
from desktop.ui.workspace import Workspace

PATIENTS_CSV = """Id,BIRTHDATE,DEATHDATE,PREFIX,FIRST,LAST,GENDER
p-alice,1970-04-02,,Mrs.,Alice123,Ames456,F
p-bob,1965-09-30,,Mr.,Bob77,Brown88,M
p-carl,2001-01-15,,Mr.,Carl1,Cole2,M
"""
CONDITIONS_CSV = """START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION
2015-03-01,,p-alice,e1,44054006,Diabetes mellitus type 2
2012-06-01,,p-bob,e2,59621000,Essential hypertension
2019-06-01,2019-07-01,p-carl,e3,195662009,Acute viral pharyngitis
"""
_OBS_HEADER = "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
# Alice (F): creatinine 0.8, 0.9, 1.4 mg/dL -> the last is H for a woman (0.6-1.1).
# Bob (M): creatinine 0.9, 1.0, 1.2 mg/dL -> all normal for a man (0.7-1.3).
OBSERVATIONS = [
    ("2020-01-10T09:00:00Z", "p-alice", "2160-0", "Creatinine", "0.8", "mg/dL"),
    ("2021-02-11T09:00:00Z", "p-alice", "2160-0", "Creatinine", "0.9", "mg/dL"),
    ("2023-03-12T09:00:00Z", "p-alice", "2160-0", "Creatinine", "1.4", "mg/dL"),
    ("2023-03-12T09:00:00Z", "p-alice", "8480-6", "Systolic Blood Pressure", "142", "mm[Hg]"),
    ("2023-03-12T09:00:00Z", "p-alice", "8462-4", "Diastolic Blood Pressure", "91", "mm[Hg]"),
    ("2023-03-12T09:00:00Z", "p-alice", "8867-4", "Heart rate", "88", "/min"),
    ("2020-05-01T10:00:00Z", "p-bob", "2160-0", "Creatinine", "0.9", "mg/dL"),
    ("2021-05-01T10:00:00Z", "p-bob", "2160-0", "Creatinine", "1.0", "mg/dL"),
    ("2022-05-01T10:00:00Z", "p-bob", "2160-0", "Creatinine", "1.2", "mg/dL"),
    ("2022-05-01T10:00:00Z", "p-bob", "8310-5", "Body temperature", "37.0", "Cel"),
    ("2022-05-01T10:00:00Z", "p-carl", "8867-4", "Heart rate", "70", "/min"),
]


def write_synthea(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patients.csv").write_text(PATIENTS_CSV, encoding="utf-8")
    (folder / "conditions.csv").write_text(CONDITIONS_CSV, encoding="utf-8")
    lines = [f"{d},{p},enc,laboratory,{c},{desc},{v},{u},numeric" for d, p, c, desc, v, u in OBSERVATIONS]
    (folder / "observations.csv").write_text(_OBS_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never touch the real user's settings (tests/conftest.py already moves VITALSIGHT_DATA_DIR)."""
    config = tmp_path_factory.mktemp("config")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(config))
    yield


class _Presented(list):  # type: ignore[type-arg]
    expected = False


@pytest.fixture(autouse=True)
def _collect_errors(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[_Presented]:
    """Error messages the presenter would have shown: a test fails if one appears that it did not ask
    for with the ``presented`` fixture."""
    messages = _Presented()
    monkeypatch.setattr(qt_errors, "presented", messages)
    yield messages
    if messages and not messages.expected:
        pytest.fail(f"{request.node.name}: unexpected error shown to the user: {messages}")


@pytest.fixture
def presented(_collect_errors: _Presented) -> list[str]:
    """Use in a test that expects the presenter to show messages."""
    _collect_errors.expected = True
    return _collect_errors


@pytest.fixture(autouse=True)
def _no_dangling_work(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves ANY thread running: a Python thread it started (a database executor, a
    file pool, anything), a QThread, or a QThreadPool runnable (napari's ``_dangling_qthreads``, widened
    to Python threads)."""
    before = {t.ident for t in threading.enumerate()}
    started: list[weakref.ref[QThread]] = []
    original_start = QThread.start

    def tracked_start(self: QThread, *args: object) -> None:
        started.append(weakref.ref(self))
        original_start(self, *args)

    monkeypatch.setattr(QThread, "start", tracked_start)
    yield
    pool = QThreadPool.globalInstance()
    pool.waitForDone(2000)
    deadline = time.monotonic() + 2.0  # a thread told to stop may need a moment to return
    new = [t for t in threading.enumerate() if t.ident not in before]
    for t in new:
        t.join(max(0.0, deadline - time.monotonic()))
    left = [t.name for t in new if t.is_alive()]
    qthreads = [q for q in (ref() for ref in started) if q is not None and _running(q)]
    if left or qthreads or pool.activeThreadCount():
        pytest.fail(f"{request.node.name} left work running: threads {left}, QThreads {qthreads}, "
                    f"pool {pool.activeThreadCount()}")


def _running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is gone, so is its thread
        return False


@pytest.fixture
def synthea_folder(tmp_path: Path) -> Path:
    return write_synthea(tmp_path / "synthea")


@pytest.fixture
def workspace_file(tmp_path: Path, synthea_folder: Path) -> Path:
    """A real workspace file, filled through the real importer."""
    path = tmp_path / "ws.duckdb"
    with open_store(path) as store:
        report = import_paths(store, [synthea_folder])
        assert report.ok, report.to_dict()
    return path


@pytest.fixture
def make_workspace(qtbot: object) -> Iterator[Callable[[Path | None], Workspace]]:
    """Workspace models opened on a file; shut down (executor drained) at teardown."""
    made: list[Workspace] = []

    def make(path: Path | None = None) -> Workspace:
        ws = Workspace()
        made.append(ws)
        if path is not None:
            with qtbot.waitSignal(ws.opened, timeout=10000):  # type: ignore[attr-defined]
                if Path(path).exists():
                    ws.open(path)
                else:  # File > New's path: only creating makes a workspace where there is none
                    ws.create(path, passphrase=None)
        return ws

    yield make
    for ws in made:
        ws.shutdown()


@pytest.fixture
def workspace(make_workspace: Callable[[Path | None], Workspace], workspace_file: Path) -> Workspace:
    return make_workspace(workspace_file)


def wait_idle(qtbot: object, ws: Workspace, timeout: int = 10000) -> None:
    """Wait until every queued database op has run and delivered its result."""
    qtbot.waitUntil(lambda: ws.executor.idle, timeout=timeout)  # type: ignore[attr-defined]
