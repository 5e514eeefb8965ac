from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from desktop.core.importers import import_paths
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "workspace.duckdb")
    yield s
    s.close()


def write(path: Path, text: str) -> Path:
    """Write a CSV exactly as given (tests mean every byte)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def snapshot(store: Store) -> dict[str, int]:
    """Row counts of every workspace table: equal snapshots mean nothing was added or removed."""
    tables = [r[0] for r in store.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'ws' ORDER BY 1").fetchall()]
    return {t: store.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


# The world the whole-record tests ask their questions of: a messy generated Synthea cohort imported by the
# app's importer, with its CSV files read by pandas (expected answers come from the frames, not the app).
TABLES = ("patients", "conditions", "medications", "encounters", "observations", "immunizations", "procedures")


@pytest.fixture(scope="module", params=[23, 5])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, pd.DataFrame], Path]]:
    folder = tmp_path_factory.mktemp("record")
    generate_cohort(folder, patients=40, years=8, seed=request.param, wide_rows=0)
    store = open_store(folder / "ws.duckdb")
    import_paths(store, [folder / "synthea"])
    frames = {t: pd.read_csv(folder / "synthea" / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}
    yield store, frames, folder
    store.close()
