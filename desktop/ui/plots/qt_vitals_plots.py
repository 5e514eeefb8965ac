"""A patient's vitals and labs, one plot per measurement, dates linked across plots.

The plots fill the width they are given (titles wrap instead of widening the page) and share one time
range, chosen with buttons (30 days, 1 year, 5 years, all) and ending at the patient's newest reading, so
the latest readings are on screen when a patient opens. Plots come in clinical order (vital signs, then
abnormal latest values, then the rest); a measurement with no reading in the chosen range, and the surveys
and QALY/DALY rows, wait under folded sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.clinical.display_units import DisplayUnits
from desktop.core.queries.series import Series
from desktop.ui.plots.qt_plot_panel import PlotPanel

PLOT_HEIGHT = 190
DAY = 86400.0
#: (button text, days back from the newest reading; None: the whole record)
RANGES: tuple[tuple[str, int | None], ...] = (("30 days", 30), ("1 year", 365), ("5 years", 5 * 365 + 1),
                                               ("All", None))
DEFAULT_RANGE_DAYS = 365
ALL_ID = 0  # the "All" button's id in its group (-1 would mean "assign one")
#: a patient with this many readings in their last 30 days (an admission, an ICU stay) opens on those days
DENSE_RECENT_READINGS = 30
AXIS_ROOM = 96  # the left axis and margins beside each plot, in pixels

pg.setConfigOptions(antialias=False, background="w", foreground=(40, 40, 40))


class PlotSection(QWidget):
    """A column of plots in one graphics view, optionally behind a fold button (closed by default)."""

    def __init__(self, title: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setSpacing(4)
        self.graphics.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.graphics.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.button = QToolButton()
        self.button.setCheckable(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.button.toggled.connect(self._toggled)
        self.button.setVisible(title is not None)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.button)
        layout.addWidget(self.graphics)
        self.panels: list[PlotPanel] = []
        self.graphics.setVisible(title is None)

    @property
    def is_open(self) -> bool:
        return self.title is None or self.button.isChecked()

    def empty(self) -> None:
        """Take the plots out (the panels keep their items). Every section is emptied before any is
        filled: a plot moving between sections must leave one scene before it joins another."""
        self.graphics.ci.clear()
        self.panels = []

    def fill(self, panels: list[PlotPanel], note: str = "") -> None:
        self.panels = panels
        for row, panel in enumerate(panels):
            self.graphics.ci.addItem(panel.plot, row=row, col=0)
        if self.title is not None:
            self.button.setText(f"{self.title} ({len(panels)}){note}")
        self.setVisible(bool(panels))
        self.fit_height()

    def fit_height(self) -> None:
        height = sum(PLOT_HEIGHT + p.title_extra for p in self.panels)
        self.graphics.setFixedHeight(height if self.panels else 0)

    def _toggled(self, open_: bool) -> None:
        self.button.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)
        self.graphics.setVisible(open_)


class QtVitalsPlots(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.range_buttons = QButtonGroup(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Time range:"))
        for text, days in RANGES:
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip("Every plot shows this much time, ending at the patient's newest reading"
                              if days else "Every plot shows the whole record")
            self.range_buttons.addButton(button, ALL_ID if days is None else days)
            bar.addWidget(button)
            button.setChecked(days == DEFAULT_RANGE_DAYS)
        self.range_buttons.idClicked.connect(self._range_chosen)
        self._range_by_user = False  # until the clinician picks a range, each patient gets the default
        self.range_label = QLabel()
        self.range_label.setWordWrap(True)
        bar.addWidget(self.range_label, 1)
        self.hint = QLabel("<u>How to read</u>")  # on hover: the plots keep the height a hint line took
        self.hint.setToolTip("Drag or scroll over a plot to move through time (all plots follow); hover for the "
                             "exact value, its flag and the rule behind it. Shaded: the healthy range for this "
                             "patient now; flags use the range at each reading. ▲ above, ▼ below range.")
        bar.addWidget(self.hint)
        self.main = PlotSection(None)
        self.older = PlotSection("No reading in this time range")
        self.more = PlotSection("More: surveys, QALY/DALY and social history")
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        for section in (self.main, self.older, self.more):
            column.addWidget(section)
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        self.empty = QLabel("Select a patient to see their vitals and labs.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroll, 1)
        self.graphics = self.main.graphics  # the first section: what export and the benchmarks use
        self.panels: dict[str, PlotPanel] = {}  # created once per measurement, reused across patients
        self.shown: list[str] = []  # every plotted code: main section first, then the folded ones
        self._series: list[Series] = []
        self._more: list[Series] = []
        # Mouse moves are rate-limited: hover work at most 30 times a second.
        self._proxies = [pg.SignalProxy(s.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)
                         for s in (self.main, self.older, self.more)]
        for section in (self.older, self.more):
            section.button.toggled.connect(lambda _open: self._fit_titles())
        self.scroll.hide()

    # Content
    def show_series(self, series: Sequence[Series], units: DisplayUnits, sex: str | None,
                    more: Sequence[Series] = ()) -> None:
        """``series`` in the order to show (desktop/core/queries/plot_order.py); ``more`` folded."""
        self._series, self._more = list(series), list(more)
        if not self._range_by_user:
            self._check_range(default_range_days(self._series))
        for s in (*series, *more):
            panel = self.panels.get(s.code)
            if panel is None:
                panel = self.panels[s.code] = PlotPanel()
            panel.set_series(s, units, sex)
        self._layout_sections()

    def range_days(self) -> int | None:
        checked = self.range_buttons.checkedId()
        return None if checked == ALL_ID else checked

    def set_range_days(self, days: int | None) -> None:
        """As if the clinician had clicked the range's button (kept for the next patients too)."""
        self._range_chosen(ALL_ID if days is None else days)

    def _range_chosen(self, button_id: int) -> None:
        self._range_by_user = True
        self._check_range(None if button_id == ALL_ID else button_id)
        self._layout_sections()

    def _check_range(self, days: int | None) -> None:
        button = self.range_buttons.button(ALL_ID if days is None else days)
        if button is not None:
            button.setChecked(True)

    def time_window(self) -> tuple[float, float] | None:
        """The shared x range (epoch seconds) before padding: it ends at the patient's newest reading."""
        every = [s for s in (*self._series, *self._more) if s.times.size]
        if not every:
            return None
        newest = max(float(s.times[-1]) for s in every)
        oldest = min(float(s.times[0]) for s in every)
        days = self.range_days()
        start = oldest if days is None else max(oldest, newest - days * DAY)
        return start, newest

    def _layout_sections(self) -> None:
        window = self.time_window()
        in_range: list[Series] = []
        older: list[Series] = []
        for s in self._series:
            if window is not None and s.times.size and float(s.times[-1]) < window[0]:
                older.append(s)
            else:
                in_range.append(s)
        for section in (self.main, self.older, self.more):
            section.empty()
        self.main.fill([self.panels[s.code] for s in in_range])
        self.older.fill([self.panels[s.code] for s in older],
                        f": last taken before {_day(window[0])}; a longer range shows them" if window else "")
        self.more.fill([self.panels[s.code] for s in self._more])
        self.shown = [s.code for s in (*in_range, *older, *self._more)]
        for code, panel in self.panels.items():
            if code not in self.shown:
                panel.clear()
        master: PlotPanel | None = None
        for code in self.shown:
            panel = self.panels[code]
            if master is None:
                master = panel
                panel.plot.setXLink(None)
            else:
                panel.plot.setXLink(master.plot)
        has_plots = bool(self.shown)
        self.scroll.setVisible(has_plots)
        self.empty.setVisible(not has_plots)
        self.empty.setText("" if has_plots else "No numeric readings for this patient.")
        self._fit_titles()
        if master is not None and window is not None:
            start, end = window
            pad = max((end - start) * 0.02, 3600.0)
            master.plot.setXRange(start - pad, end + pad, padding=0)
            self.range_label.setText(f"ending at the newest reading, {_day(end)}")
        else:
            self.range_label.setText("")

    def clear(self, message: str = "Select a patient to see their vitals and labs.") -> None:
        self.show_series([], DisplayUnits(), None)
        self.empty.setText(message)

    # Width: plots follow the viewport; titles wrap to it
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_titles()

    def _fit_titles(self) -> None:
        width = self.scroll.viewport().width() - AXIS_ROOM
        for section in (self.main, self.older, self.more):
            for panel in section.panels:
                panel.fit_title(width)
            section.fit_height()

    def panel(self, code: str) -> PlotPanel:
        return self.panels[code]

    def _on_mouse(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        for code in self.shown:
            self.panels[code].hover(pos)

    def export_png(self, path: str | Path) -> None:
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self.graphics.ci)
        exporter.parameters()["width"] = max(int(self.graphics.width()), 800)
        exporter.export(str(path))

    def visible_points(self, code: str) -> int:
        """Points the curve draws now (after clipping and downsampling); for tests and benchmarks."""
        x, _ = self.panels[code].curve.getData()
        return 0 if x is None else int(np.isfinite(x).sum())


def default_range_days(series: Sequence[Series]) -> int:
    """30 days when the patient's last 30 days are dense (an admission at the end of the record), else a
    year; both end at the newest reading."""
    every = [s for s in series if s.times.size]
    if not every:
        return DEFAULT_RANGE_DAYS
    start = max(float(s.times[-1]) for s in every) - 30 * DAY
    recent = sum(int(s.times.size - np.searchsorted(s.times, start)) for s in every)
    return 30 if recent >= DENSE_RECENT_READINGS else DEFAULT_RANGE_DAYS


def _day(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d")
