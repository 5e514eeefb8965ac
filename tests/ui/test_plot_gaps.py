"""Long pauses in recording are drawn as breaks in the line, never bridged (time stays proportional)."""

from __future__ import annotations

import numpy as np

from desktop.ui.plots.qt_plot_panel import gap_threshold, with_gaps

DAY = 86400.0


def test_a_long_pause_breaks_the_line_and_times_are_kept() -> None:
    times = np.array([0, 1, 2, 3, 400, 401, 402], dtype=float) * DAY
    values = np.arange(7, dtype=float)
    t, v = with_gaps(times, values)
    assert np.isnan(v).sum() == 1  # one break, between day 3 and day 400
    assert t[np.isfinite(v)].tolist() == times.tolist()
    assert np.all(np.diff(t) > 0)


def test_regular_readings_stay_connected() -> None:
    times = np.arange(100, dtype=float) * 3600  # hourly
    t, v = with_gaps(times, np.ones(100))
    assert np.isfinite(v).all() and t.size == 100
    assert gap_threshold(times) == 7 * DAY  # at least a week before a pause counts as a gap
