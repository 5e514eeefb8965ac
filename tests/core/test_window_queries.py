"""Queries behind the window (no Qt): patient paging and filters, series and flags, cohort trends,
observation export, display units, settings migration."""

from __future__ import annotations

import csv
from pathlib import Path
from unittest.mock import Mock

import pytest

from desktop.core.clinical.display_units import DisplayUnits, format_value
from desktop.core.queries.cohort import Cancelled, CohortRequest, run_cohort_trend
from desktop.core.queries.observations_table import (
    ObservationFilter,
    count_observations,
    export_observations_csv,
)
from desktop.core.queries.patients import (
    PatientFilter,
    condition_names,
    count_patients,
    list_patients,
    patient_table_page,
)
from desktop.core.queries.series import patient_series
from desktop.core.settings import AppSettings
from desktop.core.workspace.store import Store
from devtools.synthetic.workspaces import fill_demo


@pytest.fixture
def demo(store: Store) -> Store:
    fill_demo(store, patients=40, readings_per_series=12)
    return store


def test_pages_cover_the_filtered_list_once(demo: Store) -> None:
    flt = PatientFilter(sex="F")
    total = count_patients(demo, filter=flt)
    assert total == 20
    ids = [r[1] for offset in range(0, total, 7)
           for r in patient_table_page(demo, filter=flt, offset=offset, limit=7)]
    assert len(ids) == len(set(ids)) == total
    assert count_patients(demo, filter=PatientFilter(search="DEMO-00001")) == 10  # id, case-insensitive
    some = condition_names(demo)[0]
    narrowed = count_patients(demo, filter=PatientFilter(condition=some, sex="F", age_min=30, age_max=70))
    assert 0 < narrowed <= total



def test_one_order_for_the_window_the_cli_and_everything_else(store: Store, capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    """Titles do not decide the order ("Mrs. Alice Ames" files under A); unnamed patients come last."""
    import json

    from desktop.cli import main as cli_main

    with store.transaction() as con:
        for pid, name in (("p3", "Mrs. Zoe Young"), ("p1", "Bob Brown"), ("p2", "Mrs. Alice Ames"),
                          ("p4", None), ("p0", "Dr. Carl Cole")):
            con.execute("INSERT INTO patients (patient_id, name, sex, import_id) VALUES (?, ?, 'F', 1)",
                        [pid, name])
        con.execute("INSERT INTO conditions (patient_id, onset, description, import_id) "
                    "VALUES ('p2', DATE '2020-01-01', 'Asthma', 1), ('p2', DATE '2019-01-01', 'Anemia', 1)")
    expected = ["p2", "p1", "p0", "p3", "p4"]
    assert [p["id"] for p in list_patients(store)] == expected
    table = [row for off in (0, 2, 4) for row in patient_table_page(store, filter=PatientFilter(), offset=off,
                                                                     limit=2)]
    assert [row[1] for row in table] == expected
    assert table[0][4] == "Anemia; Asthma" and table[-1][0] == "(no name)"
    path = store.path
    store.close()
    assert cli_main(["patients", "--workspace", str(path)]) == 0
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == expected


def test_series_flags_and_sex_specific_band(demo: Store) -> None:
    by_code = {s.code: s for s in patient_series(demo, "demo-000000")}  # even ids are women
    creat = by_code["38483-4"]
    assert creat.times.size == 12 and (creat.times[1:] > creat.times[:-1]).all()
    assert (creat.reference.low, creat.reference.high) == (0.6, 1.1)
    flags = creat.flags()
    # The limits 0.6-1.1 mg/dL are inclusive and applied to the value as stored, at full precision.
    assert set(flags[creat.values > 1.1]) <= {"H", "HH"}
    assert set(flags[(creat.values >= 0.6) & (creat.values <= 1.1)]) <= {""}
    men = {s.code: s for s in patient_series(demo, "demo-000001")}
    assert men["38483-4"].reference.sex == "M"


def test_cohort_trend_counts_each_patient_once_per_period(demo: Store) -> None:
    rows = run_cohort_trend(demo, CohortRequest(code="38483-4", group_by="sex", period="year"))
    assert {r.group for r in rows} == {"Female", "Male"}
    assert all(r.patients <= 20 for r in rows)
    assert all(r.p25 <= r.median <= r.p75 for r in rows)
    by_condition = run_cohort_trend(demo, CohortRequest(code="38483-4", group_by="condition", top_conditions=2))
    assert len({r.group for r in by_condition}) == 2


def test_cohort_trend_stops_when_cancelled(demo: Store) -> None:
    state = Mock(cancelled=True)
    state.on_cancel.return_value = lambda: None
    with pytest.raises(Cancelled):
        run_cohort_trend(demo, CohortRequest(code="38483-4"), state)


def test_export_writes_exactly_the_filtered_rows(demo: Store, tmp_path: Path) -> None:
    flt = ObservationFilter(patient_id="demo-000003", code="8480-6", descending=False)
    out = tmp_path / "bp.csv"
    assert export_observations_csv(demo, flt, out) == count_observations(demo, flt) == 12
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["Patient"] for r in rows} == {"demo-000003"} and {r["Code"] for r in rows} == {"8480-6"}
    assert [r["Time (UTC)"] for r in rows] == sorted(r["Time (UTC)"] for r in rows)


def test_display_units() -> None:
    units = DisplayUnits(temperature="F", weight="lb")
    assert units.value("8310-5", "Cel", 37.0) == pytest.approx(98.6)
    assert units.label("8310-5", "Cel") == "°F"
    assert units.value("29463-7", "kg", 100.0) == pytest.approx(220.462, rel=1e-4)
    assert DisplayUnits().label("8480-6", "mm[Hg]") == "mmHg"
    assert format_value(5.0) == "5" and format_value(1.234) == "1.23" and format_value(None) == "—"


def test_settings_survive_damage_and_old_versions() -> None:
    s = AppSettings.from_dict({"workspace": "/old.duckdb", "temperature_unit": "K", "recent_workspaces": "/a.duckdb",
                               "bogus": 1})
    assert s.last_workspace == "/old.duckdb" and s.temperature_unit == "C" and s.recent_workspaces == ["/a.duckdb"]
    for i in range(12):
        s.add_recent(f"/w{i}.duckdb")
    s.add_recent("/w3.duckdb")
    assert s.recent_workspaces[0] == "/w3.duckdb" and len(s.recent_workspaces) == 8
    assert AppSettings.from_dict(s.to_dict()) == s
