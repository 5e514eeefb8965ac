"""The bundle checks themselves, on a made-up folder: they must catch what they are there to catch.
(No built app needed: these run in every test run.)"""

from __future__ import annotations

from pathlib import Path

from tests.packaging.conftest import bundle_facts


def _tree(root: Path, files: dict[str, int]) -> Path:
    for rel, size in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * size)
    return root


def test_forbidden_hits_catch_the_model_building_stack_and_stripped_qt(tmp_path: Path) -> None:
    dist = _tree(
        tmp_path / "Vitalsight",
        {
            "vitalsight": 10,
            "_internal/torch/lib/libtorch_cpu.so": 10,
            "_internal/transformers-5.23.0.dist-info/METADATA": 10,
            "_internal/PySide6/Qt/lib/libQt6WebEngineCore.so.6": 10,
            "_internal/PySide6/Qt/translations/qtbase_de.qm": 10,
            "_internal/duckdb/__init__.pyc": 10,
            "_internal/llama_cpp/lib/libllama.so.0": 10,
        },
    )
    hits = bundle_facts.forbidden_hits(dist)
    assert hits == sorted(
        [
            "_internal/torch/lib/libtorch_cpu.so",
            "_internal/transformers-5.23.0.dist-info/METADATA",
            "_internal/PySide6/Qt/lib/libQt6WebEngineCore.so.6",
            "_internal/PySide6/Qt/translations/qtbase_de.qm",
        ]
    )


def test_size_report_separates_the_model(tmp_path: Path) -> None:
    dist = _tree(
        tmp_path / "Vitalsight",
        {
            "vitalsight": 1_000_000,
            "_internal/resources/models/m.gguf": 3_000_000,
            "_internal/resources/ranges/r.json": 1_000_000,
            "_internal/_duckdb.cpython-311-x86_64-linux-gnu.so": 2_000_000,
        },
    )
    report = bundle_facts.size_report(dist)
    assert round(report.total_mb, 3) == 7.0
    assert round(report.model_mb, 3) == 3.0
    assert round(report.without_model_mb, 3) == 4.0
    assert report.groups["DuckDB"] == 2.0
