"""A file naming more (measurement, unit) pairs than the ENUM lookup takes (a laboratory export with thousands of
test names) is looked up through a table instead: the same rows stored, the same rejections with the same lines,
the same descriptions remembered."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.importers import import_paths, pairs
from desktop.core.workspace.store import open_store


def _lab_export(path: Path, tests: int) -> Path:
    lines = ["patient,time,measurement,value,unit"]
    for i in range(3 * tests):
        value = "" if i % 97 == 5 else ("high" if i % 89 == 7 else f"{(i * 37) % 500 / 10:.1f}")
        lines.append(f"P{i % 40},2021-03-{1 + i % 28:02d}T08:{i % 60:02d}:00Z,Lab test {i % tests},{value},"
                     f"{['mg/dL', 'mmol/L', 'U/L'][i % 3]}")
    lines += ["P1,2021-03-01T08:00:00Z,Heart rate,900,/min", "P2,not a date,Heart rate,80,/min",
              ",2021-03-01T08:00:00Z,Heart rate,80,/min", "P3,2021-03-02T08:00:00Z,Heart rate,72,/min"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _imported(tmp_path: Path, name: str, csv: Path) -> tuple[object, ...]:
    with open_store(tmp_path / f"{name}.duckdb") as store:
        f = import_paths(store, [csv]).files[0]
        rows = store.con.execute(
            "SELECT patient_id, observed_at, code, value_raw, unit_raw, value, unit FROM observations ORDER BY ALL"
        ).fetchall()
        codes = store.con.execute("SELECT * FROM observation_codes ORDER BY ALL").fetchall()
    return f.status, f.rows_accepted, f.rows_rejected, f.rejections, rows, codes


def test_many_pairs_go_through_a_table_and_give_what_the_enum_lookup_gives(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    tests = pairs.ENUM_PAIRS + 50
    csv = _lab_export(tmp_path / "labs.csv", tests=tests)
    by_table = _imported(tmp_path, "table", csv)
    monkeypatch.setattr(pairs, "ENUM_PAIRS", 10 * pairs.ENUM_PAIRS)
    by_enum = _imported(tmp_path, "enum", csv)
    assert by_table == by_enum
    status, accepted, rejected, rejections, rows, codes = by_table
    assert status == "imported" and rejected == len(rejections) > 3
    assert accepted + rejected == 3 * tests + 4
    reasons = {r["reason"] for r in rejections}
    assert {"patient is empty", "time 'not a date' is not a date"} <= reasons
    assert any(r.startswith("implausible Heart rate 900") for r in reasons)
    assert len(codes) == tests + 1   # every lab test described once, and heart rate
