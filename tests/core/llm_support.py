"""Fixtures for the chat tests: the real default model, a loaded engine, a small workspace with one patient.

Imported by the test modules (``from llm_support import ...``) rather than living in a conftest, so the
chat tests bring their own fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.llm.engine import Engine
from desktop.core.llm.model_files import default_model_path
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic.workspaces import seed_demo_patient

PATIENT = "p-jane"
# One thread: ggml's worker threads spin while they wait, and on a 2-core CI machine that is also running
# pytest and DuckDB, two of them slowed generation twenty-fold. Speed is the benchmark's business.
THREADS = 1


def require_default_model() -> Path:
    path = default_model_path()
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make default-model` (make test does it first)")
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    return require_default_model()


@pytest.fixture(scope="session")
def engine(model_path: Path) -> Iterator[Engine]:
    eng = Engine.load(model_path, n_ctx=2048, n_threads=1)
    yield eng
    eng.close()


def seed_patient(store: Store) -> None:
    seed_demo_patient(store, PATIENT)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws.duckdb"
    with open_store(path) as store:
        seed_patient(store)
    return path


@pytest.fixture
def store(workspace: Path) -> Iterator[Store]:
    s = open_store(workspace)
    yield s
    s.close()
