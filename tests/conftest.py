"""Shared fixtures: every test gets its own data folder, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path_factory.mktemp("vitalsight-data")
    monkeypatch.setenv("VITALSIGHT_DATA_DIR", str(data_dir))
    return data_dir


def pytest_addoption(parser: pytest.Parser) -> None:
    # tests/packaging runs the built app (dist/Vitalsight). Without a bundle those tests skip, unless
    # --require-bundle (make package-smoke, CI) turns a missing bundle into a failure.
    group = parser.getgroup("vitalsight bundle")
    group.addoption("--require-bundle", action="store_true", help="fail, not skip, when dist/Vitalsight is missing")
    group.addoption("--bundle-dir", default=None, help="the built one-folder app (default: dist/Vitalsight)")
