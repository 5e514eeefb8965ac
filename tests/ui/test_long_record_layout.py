"""The window on a long, hard record (ten years, about a hundred kinds of measurement, surveys and QALY/DALY,
an admission at the end, a death) at the two screens a clinic has: 1366x768 and 1600x1000, with the
assistant dock open. These check the geometry a clinician sees, not only that the widgets build."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.core.settings import AppSettings
from desktop.ui.patient.summary import FLAG, WHEN
from desktop.ui.plots.qt_vitals_plots import DAY
from desktop.ui.qt_main_window import DOCK_MIN_WIDTH, QtMainWindow
from desktop.ui.workspace import Workspace
from devtools.synthetic.long_record import write_long_record
from tests.ui.conftest import wait_idle

SIZES = [(1366, 768), (1600, 1000)]


@pytest.fixture(scope="module")
def long_record(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("long") / "long.duckdb"
    return path, write_long_record(path)


class WideChat(QLabel):
    """Stands in for the chat panel: a line that does not wrap asks for 517 px, as the real one did."""

    def __init__(self) -> None:
        super().__init__("SmolLM2-135M-Instruct.Q4_1.gguf · context 4096 · 1 thread · loaded in 0.24 s")
        self.setMinimumWidth(517)


def open_patient(qtbot, make_workspace, long_record: tuple[Path, str], size: tuple[int, int]) -> QtMainWindow:
    path, patient_id = long_record
    workspace: Workspace = make_workspace(None)
    window = QtMainWindow(workspace, AppSettings())
    qtbot.addWidget(window)
    window.set_assistant_widget(WideChat())
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(workspace.opened, timeout=20000):
        window.open_workspace(str(path))
    with qtbot.waitSignal(window.patient_view.loaded, timeout=20000):
        workspace.select_patient(patient_id)
    qtbot.wait(50)  # the splitter and the dock settle after the first layout
    return window


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_latest_values_show_ten_rows_with_dates_and_the_critical_first(qtbot, make_workspace, long_record,
                                                                       size) -> None:
    window = open_patient(qtbot, make_workspace, long_record, size)
    summary = window.patient_view.summary
    table = summary.table
    assert table.rowCount() > 60  # the long record: about a hundred kinds of reading
    # At least ten whole rows fit above the plots.
    assert table.viewport().height() >= 10 * table.rowHeight(0), table.viewport().height()
    # The date column is inside the viewport, not past its right edge.
    header = table.horizontalHeader()
    assert header.sectionViewportPosition(WHEN) + header.sectionSize(WHEN) <= table.viewport().width()
    # Critical first, then abnormal, then the rest.
    flags = [table.item(r, FLAG).text() for r in range(table.rowCount())]
    rank = [0 if "critically" in f else 1 if f.startswith(("H ", "L ")) else 2 for f in flags]
    assert rank == sorted(rank) and rank[0] == 0
    # The deceased banner, and diagnoses apart from social findings.
    assert summary.deceased.isVisible() and "Deceased" in summary.deceased.text()
    title = summary.title.text()
    assert "Active diagnoses:" in title
    if "Social findings:" in title:
        assert title.index("Active diagnoses:") < title.index("Social findings:")
        assert "(finding)" not in title[title.index("Active diagnoses:"):title.index("Social findings:")] \
            or "Prediabetes" in title or "obesity" in title
    wait_idle(qtbot, window.workspace)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_plots_fit_the_width_and_open_on_the_newest_readings(qtbot, make_workspace, long_record, size) -> None:
    window = open_patient(qtbot, make_workspace, long_record, size)
    plots = window.patient_view.plots
    viewport = plots.scroll.viewport()
    assert plots.main.panels, "no plot in the main section"
    assert plots.graphics.width() <= viewport.width()  # no plot wider than what shows
    assert plots.scroll.horizontalScrollBar().maximum() == 0
    # The admission at the end is dense: the plots open on its 30 days, ending at the newest reading.
    start, newest = plots.time_window()
    assert plots.range_days() == 30 and newest - start == pytest.approx(30 * DAY)
    for panel in plots.main.panels:
        (x0, x1), _ = panel.plot.vb.viewRange()
        assert x0 <= float(panel.times[-1]) <= x1, panel.series.name  # every plot's newest reading in view
        title = panel.plot.titleLabel
        assert title.item.boundingRect().width() <= viewport.width()  # the title wraps, never widens
        assert title.height() >= title.item.boundingRect().height() - 1  # ... and is never cut
    # Titles and axis labels are HTML: the range's "<" is escaped, so its upper limit is not swallowed.
    systolic = plots.panel("8480-6").plot
    assert "&lt; 120" in systolic.titleLabel.text
    assert "(B (" not in systolic.getAxis("left").labelText
    # Vital signs first; surveys and QALY/DALY folded under "More", closed.
    first = plots.main.panels[0].series
    assert first is not None and first.code in {"8480-6", "8462-4", "8867-4", "9279-1", "8310-5", "59408-5"}
    assert not plots.more.is_open and not plots.more.graphics.isVisible()
    more_codes = {p.series.code for p in plots.more.panels if p.series is not None}
    assert {"QALY", "DALY"} & more_codes
    assert not {p.series.code for p in plots.main.panels if p.series} & {"QALY", "DALY", "QOLS"}
    # "All" widens every plot to the whole record; the older plots come back into the main section.
    older = len(plots.older.panels)
    plots.set_range_days(None)
    start_all, _ = plots.time_window()
    assert newest - start_all > 5 * 365 * DAY and not plots.older.panels and older >= 0
    wait_idle(qtbot, window.workspace)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_assistant_dock_goes_down_to_340_pixels(qtbot, make_workspace, long_record, size) -> None:
    window = open_patient(qtbot, make_workspace, long_record, size)
    dock = window.assistant_dock
    window.resizeDocks([dock], [DOCK_MIN_WIDTH], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() <= DOCK_MIN_WIDTH + 12, timeout=3000)
    # The clinical tabs get the rest (they had 529 px at 1366 when the dock could not shrink below 517).
    assert window.tabs.width() >= window.width() - dock.width() - window.patient_list.width() - 24
    assert window.tabs.width() >= 700
    wait_idle(qtbot, window.workspace)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_patient_list_fits_name_sex_age_and_marks_the_dead(qtbot, make_workspace, long_record, size) -> None:
    window = open_patient(qtbot, make_workspace, long_record, size)
    table = window.patient_list.table
    header = table.horizontalHeader()
    for column in (0, 2, 3):  # name, sex, age
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        assert 0 <= header.sectionViewportPosition(column) and right <= table.viewport().width() + 1, column
    names = [str(row[0]) for row in window.patient_list.model.fetched_rows()]
    assert any(name.startswith("†") for name in names)
    wait_idle(qtbot, window.workspace)


def test_observations_show_flag_range_whole_times(qtbot, make_workspace, long_record) -> None:
    window = open_patient(qtbot, make_workspace, long_record, (1366, 768))
    window.tabs.setCurrentWidget(window.observations)
    table = window.observations
    qtbot.waitUntil(lambda: table.model.rowCount() > 100, timeout=10000)
    from desktop.ui.patient.observations import FLAG as OBS_FLAG
    from desktop.ui.patient.observations import RANGE, TIME

    model = table.model
    qtbot.waitUntil(lambda: model.row(0) is not None, timeout=10000)
    flags = [model.data(model.index(r, OBS_FLAG)) for r in range(40)]
    assert any("critically" in str(f) for f in flags)
    assert any(model.data(model.index(r, RANGE)) for r in range(40))
    assert len(model.data(model.index(1, TIME))) == 19  # "2025-06-10 08:00:00", never cut
    header = table.table.horizontalHeader()
    for column in (TIME, OBS_FLAG):
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        assert right <= table.table.viewport().width() + 1
    wait_idle(qtbot, window.workspace)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_cohort_by_sex_names_a_group_too_small_to_draw(qtbot, make_workspace, long_record, size) -> None:
    window = open_patient(qtbot, make_workspace, long_record, size)
    cohort = window.cohort
    window.tabs.setCurrentWidget(cohort)
    cohort.group_by.setCurrentIndex(max(cohort.group_by.findData("sex"), 0))
    with qtbot.waitSignal(cohort.computed, timeout=20000):
        cohort.measurement.setCurrentIndex(cohort.measurement.findData("8480-6"))
    groups = {r.group for r in cohort.rows}
    assert len(groups) >= 2  # both sexes are in the record
    text = cohort.status.text()
    for group in groups:
        drawn = any(r.patients >= 5 for r in cohort.rows if r.group == group)
        assert drawn or f"{group}: not drawn" in text, (group, text)
    # Newest period first, written as a year.
    first = cohort.table.item(0, 0).text()
    assert first == max(r.period[:4] for r in cohort.rows) and len(first) == 4
    assert cohort.table.viewport().width() > 0 and cohort.plot_widget.width() <= cohort.width()
    wait_idle(qtbot, window.workspace)


def test_the_summary_plots_divider_is_remembered(qtbot, make_workspace, long_record) -> None:
    window = open_patient(qtbot, make_workspace, long_record, (1366, 768))
    splitter = window.patient_view.splitter
    top, bottom = splitter.sizes()
    splitter.setSizes([top - 80, bottom + 80])
    splitter.splitterMoved.emit(top - 80, 1)  # as a drag does
    wait_idle(qtbot, window.workspace)
    from desktop.ui.patient.view import QtPatientView

    again = QtPatientView(window.workspace)
    qtbot.addWidget(again)
    again.resize(window.patient_view.size())
    again.show()
    qtbot.waitExposed(again)
    assert abs(again.splitter.sizes()[0] - (top - 80)) <= 2


def test_empty_units_are_blank() -> None:
    from desktop.ui.patient.observations import unit_text

    assert [unit_text(u) for u in (None, "", "null", "NULL", "mm[Hg]")] == ["", "", "", "", "mmHg"]
