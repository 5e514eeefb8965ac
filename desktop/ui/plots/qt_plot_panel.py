"""One measurement's plot: its line, abnormal markers, reference band and hover read-out.

Items are created once and updated with ``setData`` when the patient changes (pyqtgraph practice);
long series are peak-downsampled and clipped to the visible range, so 1,000,000 points pan smoothly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont

from desktop.core.clinical.display_units import DisplayUnits, format_value, normal_range_text
from desktop.core.clinical.flag_words import describe_flag
from desktop.core.queries.series import Series

HIGH_COLOUR, LOW_COLOUR, LINE_COLOUR = QColor(200, 30, 30), QColor(30, 80, 200), QColor(60, 60, 60)
BAND_BRUSH = QColor(60, 170, 90, 45)
SYMBOLS_UP_TO = 600  # draw every point's dot only when there are few enough to see
MARKERS_UP_TO = 3000  # more abnormal markers than this in view merge into a solid band: hide them till zoomed


def gap_threshold(times: np.ndarray) -> float:
    """A pause in recording longer than this is drawn as a break in the line, not a straight bridge."""
    if times.size < 3:
        return float("inf")
    median = float(np.median(np.diff(times)))
    return max(10.0 * median, 7 * 86400.0)


def with_gaps(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Insert a NaN after each long pause so that ``connect='finite'`` breaks the line there."""
    if times.size < 3:
        return times, values
    cut = np.nonzero(np.diff(times) > gap_threshold(times))[0] + 1
    if cut.size == 0:
        return times, values
    return np.insert(times, cut, times[cut - 1] + 1.0), np.insert(values, cut, np.nan)


def format_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


class PlotPanel:
    """The items of one measurement's plot, reused across patients."""

    def __init__(self) -> None:
        self.plot = pg.PlotItem(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        # No grid: it doubled the frame time when panning long series; the shaded band, its dashed
        # edges and the hover read-out give the values.
        self.plot.setMouseEnabled(x=True, y=False)  # time pans and zooms; the value scale stays put
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getAxis("left").setWidth(78)
        self.plot.hideButtons()
        self.band = pg.LinearRegionItem((0, 1), orientation="horizontal", movable=False, brush=BAND_BRUSH,
                                        pen=pg.mkPen(QColor(60, 150, 80), style=Qt.PenStyle.DashLine))
        self.band.setZValue(-10)
        # Set on the PlotItem, not the curves: PlotItem.addItem overwrites an item's own downsampling and
        # clipping with the plot's. A 1 px cosmetic pen: wider pens take Qt's slow stroking path.
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(LINE_COLOUR, width=1), connect="finite")
        # Markers are plain scatter items, set once per patient: as PlotDataItems they would be
        # clipped and rebuilt spot by spot on every frame of a pan.
        self.high = pg.ScatterPlotItem(symbol="t1", size=9, brush=HIGH_COLOUR, pen=None)
        self.low = pg.ScatterPlotItem(symbol="t", size=9, brush=LOW_COLOUR, pen=None)
        self.cursor = pg.ScatterPlotItem(size=12, pen=pg.mkPen("k", width=2), brush=None)
        self.label = pg.TextItem(color=(20, 20, 20), fill=QColor(255, 255, 240, 230), border=QColor(120, 120, 120))
        font = QFont()  # the application's family: QFont("") falls back to a serif face
        font.setPointSize(9)
        self.label.setFont(font)
        for item in (self.band, self.curve, self.high, self.low, self.cursor):
            self.plot.addItem(item)
        self.plot.vb.sigXRangeChanged.connect(self._thin_markers)
        self._marker_times = np.empty(0)
        self.plot.addItem(self.label, ignoreBounds=True)
        self.label.hide()
        self.series: Series | None = None
        self.times = np.empty(0)
        self.values = np.empty(0)  # in display units
        self.flags = np.empty(0, dtype="<U2")
        self.unit = ""
        self.title_extra = 0  # pixels the title needs beyond one line (it wraps to the plot's width)

    def fit_title(self, width: int) -> None:
        """Wrap the title to ``width`` pixels and give its row the height it then needs: a long title
        never widens the page or loses its end."""
        label = self.plot.titleLabel
        label.item.setTextWidth(max(width, 120))
        height = int(label.item.boundingRect().height()) + 2
        label.setMaximumHeight(height)
        self.plot.layout.setRowFixedHeight(0, height)
        label.updateMin()
        self.title_extra = max(0, height - 30)

    def set_series(self, series: Series, units: DisplayUnits, sex: str | None) -> None:
        self.series = series
        factor, offset, self.unit = units.conversion(series.code, series.unit)
        self.times = series.times
        self.values = series.values * factor + offset
        self.flags = series.flags()
        t, v = with_gaps(self.times, self.values)
        few = self.times.size <= SYMBOLS_UP_TO
        self.curve.setData(t, v, symbol="o" if few else None, symbolSize=4, symbolBrush=LINE_COLOUR, symbolPen=None)
        up = np.char.startswith(self.flags, "H")
        down = np.char.startswith(self.flags, "L")
        self.high.setData(x=self.times[up], y=self.values[up])
        self.low.setData(x=self.times[down], y=self.values[down])
        self._marker_times = self.times[up | down]
        self.cursor.setData([], [])
        self.label.hide()
        # The axis holds the short name and the unit (Sittig 2015); the full name is in the title.
        short = _short_name(series)
        self.plot.setLabel("left", escape(f"{short} ({self.unit})" if self.unit else short))
        self.plot.setTitle(self._title(series, factor, offset, sex, int(up.sum()), int(down.sum())), size="9pt")
        low, high = self._band_limits(series, factor, offset)
        if low is None:
            self.band.hide()
        else:
            self.band.setRegion((low, high))
            self.band.show()
        self._fit_y(low, high)

    def _title(self, s: Series, factor: float, offset: float, sex: str | None, n_high: int, n_low: int) -> str:
        parts = [f"<b>{escape(s.name)}</b> — {s.times.size:,} reading{'s' if s.times.size != 1 else ''}"]
        r = s.reference
        if r is not None:
            span = normal_range_text(r.to_dict(), lambda v: v * factor + offset)
            who = {"F": " for women", "M": " for men"}.get(r.sex, "") if r.sex != "any" else ""
            if r.population == "pregnancy":
                who += " in pregnancy"
            parts.append(escape(f"healthy range {span} {self.unit}{who}"))
        else:
            parts.append("no reference range" + ("" if sex else " (sex unknown)"))
        if n_high + n_low > MARKERS_UP_TO:
            parts.append(f"markers shown when under {MARKERS_UP_TO:,} are in view")
        if n_high:
            parts.append(f"<span style='color:#c81e1e'>▲ {n_high} above</span>")
        if n_low:
            parts.append(f"<span style='color:#1e50c8'>▼ {n_low} below</span>")
        return " · ".join(parts)

    def _band_limits(self, s: Series, factor: float, offset: float) -> tuple[float | None, float | None]:
        r = s.reference
        if r is None or (r.low is None and r.high is None):
            return None, None
        data_lo = float(np.nanmin(self.values)) if self.values.size else 0.0
        data_hi = float(np.nanmax(self.values)) if self.values.size else 1.0
        low = r.low * factor + offset if r.low is not None else min(0.0, data_lo)
        high = r.high * factor + offset if r.high is not None else max(data_hi, low) * 1.2 + 1
        return low, high

    def _fit_y(self, low: float | None, high: float | None) -> None:
        values = self.values[np.isfinite(self.values)]
        candidates = [v for v in (low, high) if v is not None]
        if values.size:
            candidates += [float(values.min()), float(values.max())]
        if not candidates:
            return
        bottom, top = min(candidates), max(candidates)
        pad = (top - bottom) * 0.08 or max(abs(top) * 0.1, 1.0)
        self.plot.setYRange(bottom - pad, top + pad, padding=0)

    def _thin_markers(self, _vb: object, x_range: tuple[float, float]) -> None:
        """Two binary searches per frame: cheap enough to run on every step of a pan."""
        lo, hi = np.searchsorted(self._marker_times, x_range)
        show = bool(hi - lo <= MARKERS_UP_TO)
        if show != self.high.isVisible():
            self.high.setVisible(show)
            self.low.setVisible(show)

    def clear(self) -> None:
        self.series = None
        self.curve.setData([], [])
        self._marker_times = np.empty(0)
        for markers in (self.high, self.low):
            markers.setData(x=[], y=[])
        self.cursor.setData([], [])
        self.band.hide()
        self.label.hide()

    def hover(self, scene_pos: QPointF) -> bool:
        """Show the nearest reading's value, unit, flag and time; False when the mouse is elsewhere."""
        vb = self.plot.vb
        if self.times.size == 0 or not vb.sceneBoundingRect().contains(scene_pos):
            self.cursor.setData([], [])
            self.label.hide()
            return False
        x = vb.mapSceneToView(scene_pos).x()
        i = int(np.clip(np.searchsorted(self.times, x), 1, self.times.size - 1)) if self.times.size > 1 else 0
        if self.times.size > 1 and abs(self.times[i - 1] - x) < abs(self.times[i] - x):
            i -= 1
        t, v, f = float(self.times[i]), float(self.values[i]), str(self.flags[i])
        self.cursor.setData([t], [v])
        reference = self.series.reference_at(i) if self.series else None
        flag = describe_flag(f or "N") if reference is not None else "no flag"
        rule = self.series.describe_point(i, f, self.series.unit) if self.series else ""
        # Wrapped to half the plot: a long rule must not run past the plot's edge and lose its start.
        self.label.setTextWidth(max(180.0, vb.width() * 0.5))
        self.label.setText(f"{format_value(v)} {self.unit}  ({flag})\n{format_time(t)}\n{rule}")
        (x0, x1), (y0, y1) = vb.viewRange()
        # Keep the read-out inside the plot: left of the point in the right half, below it in the top half.
        self.label.setAnchor((1.0 if t > (x0 + x1) / 2 else 0.0, 0.0 if v > (y0 + y1) / 2 else 1.0))
        self.label.setPos(t, v)
        self.label.show()
        # Repaint the plot's whole area: a freshly laid-out label can otherwise be painted only within
        # the region it had before its text changed.
        self.plot.update()
        return True


def _short_name(series: Series, limit: int = 22) -> str:
    """The catalog's short name, else the name without its bracketed qualifiers, cut at a word (with an
    ellipsis) rather than mid-word or inside a bracket."""
    from desktop.core.clinical.measurements import load_catalog

    m = load_catalog().by_code(series.code)
    if m:
        return m.short
    plain = re.sub(r"\s+", " ", re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", series.name)).strip() or series.name
    if len(plain) <= limit:
        return plain
    cut = plain[:limit].rsplit(" ", 1)[0] if " " in plain[:limit] else plain[:limit]
    return cut.rstrip(" ,;:-") + "…"
