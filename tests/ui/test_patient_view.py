"""Selecting a patient: the plots hold their readings, the band is that sex's range, flags show as text."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from desktop.core.clinical.display_units import DisplayUnits
from desktop.ui.patient.summary import RANGE
from desktop.ui.patient.view import QtPatientView
from desktop.ui.workspace import Workspace

CREATININE = "38483-4"


@pytest.fixture
def view(qtbot, workspace: Workspace) -> QtPatientView:
    widget = QtPatientView(workspace)
    qtbot.addWidget(widget)
    widget.resize(1000, 800)
    widget.show()
    return widget


def select(qtbot, view: QtPatientView, patient_id: str) -> None:
    with qtbot.waitSignal(view.loaded, timeout=10000) as blocker:
        view.workspace.select_patient(patient_id)
    assert blocker.args == [patient_id]


def test_plot_holds_the_patients_points_and_the_band_follows_sex(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    panel = view.plots.panel(CREATININE)
    x, y = panel.curve.getOriginalDataset()
    assert np.isfinite(y).sum() == 3
    assert sorted(y[np.isfinite(y)].tolist()) == [0.8, 0.9, 1.4]
    assert np.all(np.diff(x[np.isfinite(y)]) > 0)  # chronological, on a time axis
    assert panel.band.getRegion() == pytest.approx((0.6, 1.1))  # women
    assert panel.band.isVisible()
    _, hy = panel.high.getData()
    assert hy.tolist() == [1.4]  # the abnormal point is marked
    assert "mg/dL" in panel.plot.getAxis("left").labelText

    select(qtbot, view, "p-bob")
    panel = view.plots.panel(CREATININE)
    _, y = panel.curve.getOriginalDataset()
    assert np.isfinite(y).sum() == 3
    assert panel.band.getRegion() == pytest.approx((0.7, 1.3))  # men
    assert panel.high.getData()[1] is None or panel.high.getData()[1].size == 0


def test_plots_are_linked_in_time(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    codes = view.plots.shown
    assert len(codes) >= 2
    first, second = view.plots.panel(codes[0]).plot, view.plots.panel(codes[1]).plot
    first.setXRange(1.6e9, 1.65e9, padding=0)
    assert second.viewRange()[0] == pytest.approx([1.6e9, 1.65e9])


def test_hover_reads_out_value_unit_flag_and_time(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    panel = view.plots.panel(CREATININE)
    t = float(panel.times[-1])
    qtbot.waitUntil(lambda: panel.plot.vb.sceneBoundingRect().width() > 100)
    scene_pos = panel.plot.vb.mapViewToScene(QPointF(t, 1.4))
    assert panel.hover(scene_pos)
    text = panel.label.textItem.toPlainText()
    assert "1.4 mg/dL" in text and "(H high)" in text and "2023-03-12 09:00 UTC" in text
    # the age at the reading, the limit with its rule, and its authority
    assert "aged " in text and "> 1.1 mg/dL" in text and "MedlinePlus" in text


def test_flagged_value_shows_in_the_summary_as_text(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    assert view.summary.flag_text("Creatinine") == "H high"
    scores = view.summary.scores.text()
    assert "Hypertension stage 2" in scores
    assert "PARTIAL" in scores  # NEWS2 has missing inputs: never shown as a full score
    assert "Diabetes mellitus type 2" in view.summary.title.text()
    select(qtbot, view, "p-bob")
    assert view.summary.flag_text("Creatinine") == "normal"


def test_summary_tooltip_names_age_rule_and_authority(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    row = next(r for r in range(view.summary.table.rowCount()) if view.summary.table.item(r, 0).text() == "Creatinine")
    tip = view.summary.table.item(row, 3).toolTip()
    assert "at the reading" in tip and "H: > 1.1 mg/dL (MedlinePlus" in tip
    assert view.summary.table.item(row, RANGE).text() == "≥ 0.6 and ≤ 1.1"


def test_spo2_scale2_switch_is_recorded_and_rescores(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-alice")
    assert view.summary.scale2.isVisible() and not view.summary.scale2.isChecked()
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.summary.scale2.click()
    assert view.summary.scale2.isChecked()
    assert "SpO2 scale 2" in view.summary.scores.text()
    assert "Switched on by" in view.summary.scale2.toolTip()


def test_display_units_convert_temperature(qtbot, view: QtPatientView) -> None:
    select(qtbot, view, "p-bob")
    panel = view.plots.panel("8310-5")
    assert panel.values.tolist() == pytest.approx([37.0])
    view.workspace.set_display_units(DisplayUnits(temperature="F"))
    panel = view.plots.panel("8310-5")
    assert panel.values.tolist() == pytest.approx([98.6])
    assert "°F" in panel.plot.getAxis("left").labelText
    assert panel.band.getRegion() == pytest.approx((96.98, 100.4))
