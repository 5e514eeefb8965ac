from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.workspace.store import Store, open_store


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
