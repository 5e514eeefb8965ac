"""Shared fixtures: every test gets its own data folder, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path_factory.mktemp("vitalsight-data")
    monkeypatch.setenv("VITALSIGHT_DATA_DIR", str(data_dir))
    return data_dir
