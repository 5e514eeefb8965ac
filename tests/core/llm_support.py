"""Fixtures for the chat tests: the real default model, a loaded engine, a small workspace with one patient.

Imported by the test modules (``from llm_support import ...``) rather than living in a conftest, so the
chat tests bring their own fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.llm.catalog import default_model_path
from desktop.core.llm.engine import Engine
from desktop.core.store import Store, open_store

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
    con = store.con
    con.execute("INSERT INTO patients VALUES (?, 'Jane Doe', 'F', DATE '1970-05-01', false, NULL, 1)", [PATIENT])
    con.execute("INSERT INTO observation_codes VALUES ('8480-6', 'Systolic blood pressure', 'vital'), "
                "('8867-4', 'Heart rate', 'vital')")
    for day, sbp, hr in [("2023-03-01", 138, 80), ("2023-09-01", 145, 84), ("2024-03-02", 152, 88)]:
        con.execute("INSERT INTO observations VALUES (?, ?, '8480-6', ?, 'mm[Hg]', ?, 'mm[Hg]', NULL, 1)",
                    [PATIENT, day, str(sbp), sbp])
        con.execute("INSERT INTO observations VALUES (?, ?, '8867-4', ?, '/min', ?, '/min', NULL, 1)",
                    [PATIENT, day, str(hr), hr])
    con.execute("INSERT INTO conditions VALUES (?, DATE '2015-01-01', NULL, '38341003', 'SNOMED', "
                "'Hypertension', NULL, 1)", [PATIENT])


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
