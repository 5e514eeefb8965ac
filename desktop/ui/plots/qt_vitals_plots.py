"""A patient's vitals and labs, one plot per measurement, dates linked across plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.core.clinical.display_units import DisplayUnits
from desktop.core.queries.series import Series
from desktop.ui.plots.qt_plot_panel import PlotPanel

PLOT_HEIGHT = 190

pg.setConfigOptions(antialias=False, background="w", foreground=(40, 40, 40))


class QtVitalsPlots(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setSpacing(4)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.graphics)
        self.empty = QLabel("Select a patient to see their vitals and labs.")
        self.hint = QLabel("Drag or scroll over a plot to move through time (all plots follow); hover for the exact "
                           "value. Shaded: healthy range for this patient. ▲ above, ▼ below range.")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroll, 1)
        self.panels: dict[str, PlotPanel] = {}  # created once per measurement, reused across patients
        self.shown: list[str] = []
        # Mouse moves are rate-limited: hover work at most 30 times a second.
        self._proxy = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)
        self.scroll.hide()

    def show_series(self, series: list[Series], units: DisplayUnits, sex: str | None) -> None:
        self.graphics.ci.clear()  # removes the plots from the layout; the panels keep their items
        self.shown = []
        first: PlotPanel | None = None
        for row, s in enumerate(series):
            panel = self.panels.get(s.code)
            if panel is None:
                panel = self.panels[s.code] = PlotPanel()
            panel.set_series(s, units, sex)
            self.graphics.ci.addItem(panel.plot, row=row, col=0)
            if first is None:
                first = panel
                panel.plot.setXLink(None)
            else:
                panel.plot.setXLink(first.plot)
            self.shown.append(s.code)
        for code, panel in self.panels.items():
            if code not in self.shown:
                panel.clear()
        self.graphics.setMinimumHeight(PLOT_HEIGHT * len(series))
        self.scroll.setVisible(bool(series))
        self.empty.setVisible(not series)
        self.empty.setText("No numeric readings for this patient." if not series else "")
        if first is not None:
            self.fit_time(series)

    def clear(self, message: str = "Select a patient to see their vitals and labs.") -> None:
        self.show_series([], DisplayUnits(), None)
        self.empty.setText(message)

    def fit_time(self, series: list[Series]) -> None:
        starts = [s.times[0] for s in series if s.times.size]
        ends = [s.times[-1] for s in series if s.times.size]
        if not starts:
            return
        lo, hi = float(min(starts)), float(max(ends))
        pad = max((hi - lo) * 0.02, 3600.0)
        self.panels[self.shown[0]].plot.setXRange(lo - pad, hi + pad, padding=0)

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
