"""The window's speed: start to first paint, switching to a patient with five years of data, the
patient list over 100,000 patients, and frame time while panning a 1,000,000-point series.

    python -m benchmarks.bench_ui [--patients 100000] [--points 1000000]

Runs offscreen (QT_QPA_PLATFORM=offscreen unless set). Prints figures; asserts nothing: timings belong
in a benchmark, never in the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DENSE_SERIES = ("8480-6", "8462-4", "8867-4", "8310-5", "59408-5", "9279-1", "38483-4")


def build_workspace(path: Path, patients: int) -> None:
    from desktop.core.workspace.store import open_store
    from devtools.synthetic.workspaces import fill_demo

    with open_store(path) as store:
        fill_demo(store, patients=patients, readings_per_series=6)
        # One patient with five years of vitals every four hours and monthly labs (~ 55,000 readings).
        store.con.execute(
            "INSERT INTO patients (patient_id, name, sex, birth_date, import_id) "
            "VALUES ('bench-5y', 'Five Years', 'M', DATE '1958-02-03', 9999)"
        )
        for code in DENSE_SERIES:
            step = 30 * 86400 if code == "38483-4" else 4 * 3600
            store.con.execute(
                """
                INSERT INTO observations (patient_id, observed_at, code, value_raw, unit_raw, value, unit, import_id)
                SELECT 'bench-5y', TIMESTAMP '2020-01-01' + to_seconds(j * ?), ?, NULL, NULL,
                       CASE ? WHEN '8310-5' THEN 36.8 + (hash(j) % 10) / 10.0 WHEN '59408-5' THEN 93 + hash(j) % 7
                              WHEN '38483-4' THEN 1.0 + (hash(j) % 60) / 100.0 ELSE 60 + hash(j, ?) % 80 END,
                       NULL, 9999
                FROM range(?) t(j)
                """,
                [step, code, code, code, int(5 * 365.25 * 86400 / step)],
            )


def child_first_paint(workspace: str) -> None:
    """Run in a fresh process: report seconds from interpreter start to the first paint of the window
    and to the first page of the patient list on screen."""
    started = float(os.environ["BENCH_T0"])
    from PySide6.QtCore import QEvent, QObject, QTimer

    from desktop.core.settings import AppSettings
    from desktop.ui.app import create_app
    from desktop.ui.qt_main_window import QtMainWindow

    app = create_app([])
    window = QtMainWindow(settings=AppSettings())
    marks: dict[str, float] = {}

    class PaintWatch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "paint" not in marks:
                marks["paint"] = time.time() - started
            return False

    watch = PaintWatch()
    window.patient_list.table.viewport().installEventFilter(watch)

    def counted(_rows: int) -> None:
        window.patient_list.table.viewport().repaint()
        marks["list"] = time.time() - started
        QTimer.singleShot(0, app.quit)

    window.patient_list.model.counted.connect(counted)
    window.show()
    window.open_workspace(workspace)
    app.exec()
    window.shutdown()
    print(f"{marks.get('paint', float('nan')):.3f} {marks.get('list', float('nan')):.3f}", flush=True)
    os._exit(0)  # the figures are out; skip teardown


def first_paint(workspace: Path, runs: int = 3) -> tuple[list[float], list[float]]:
    paints, lists = [], []
    for _ in range(runs):
        env = {**os.environ, "BENCH_T0": repr(time.time())}
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_ui", "--child-first-paint", str(workspace)],
                             env=env, capture_output=True, text=True, check=True).stdout.split()
        paints.append(float(out[-2]))
        lists.append(float(out[-1]))
    return paints, lists


def patient_switch(workspace: Path) -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from desktop.ui.app import create_app
    from desktop.ui.patient.view import QtPatientView
    from desktop.ui.workspace import Workspace

    app = create_app([])
    ws = Workspace()
    view = QtPatientView(ws)
    view.resize(1400, 900)
    view.show()
    done: dict[str, float] = {}
    ws.opened.connect(lambda _p: done.setdefault("opened", time.perf_counter()))
    ws.open(workspace)
    while "opened" not in done:
        app.processEvents()
    times: list[float] = []
    for target in ("demo-000001", "bench-5y", "demo-000002", "bench-5y", "demo-000003", "bench-5y"):
        loaded: list[str] = []
        view.loaded.connect(loaded.append)
        t0 = time.perf_counter()
        ws.select_patient(target)
        while not loaded:
            app.processEvents()
        view.repaint()
        QApplication.processEvents()
        if target == "bench-5y":
            times.append(time.perf_counter() - t0)
        view.loaded.disconnect(loaded.append)
    points = sum(int(view.plots.panel(c).times.size) for c in view.plots.shown)
    ws.shutdown()
    return {"median_s": statistics.median(times), "max_s": max(times), "points": points}


def list_queries(workspace: Path) -> dict[str, float]:
    from desktop.core.queries.patients import PatientFilter, count_patients, list_patients
    from desktop.core.workspace.store import open_store

    out: dict[str, float] = {}
    with open_store(workspace, read_only=True) as store:
        for name, flt in (("all", PatientFilter()), ("search", PatientFilter(search="smith 9")),
                          ("sex+age+condition", PatientFilter(sex="F", age_min=40, age_max=70,
                                                              condition="Hypertension"))):
            t0 = time.perf_counter()
            n = count_patients(store, filter=flt)
            list_patients(store, filter=flt, limit=200)
            list_patients(store, filter=flt, offset=max(n - 200, 0), limit=200)  # scrolled to the end
            out[name] = time.perf_counter() - t0
    return out


def _paint_counter_class() -> type:
    from PySide6.QtCore import QEvent, QObject

    class Counter(QObject):
        count = 0

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    return Counter


def PaintCounter() -> object:
    return _paint_counter_class()()


def pan_frames(points: int, frames: int = 120) -> dict[str, float]:
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from desktop.core.clinical.display_units import DisplayUnits
    from desktop.core.clinical.ranges import load_ranges
    from desktop.core.queries.series import Series
    from desktop.ui.app import create_app
    from desktop.ui.plots.qt_vitals_plots import QtVitalsPlots

    create_app([])
    t = 1.6e9 + np.arange(points, dtype=np.float64) * 60.0  # one reading a minute: ~ 1.9 years
    v = 75 + 15 * np.sin(np.arange(points) / 700.0) + np.random.default_rng(0).normal(0, 4, points)
    series = Series("8867-4", "Heart rate", "/min", t, v, load_ranges().for_patient("8867-4", "F", 50))
    plots = QtVitalsPlots()
    plots.resize(1400, 500)
    plots.show()
    plots.show_series([series], DisplayUnits(), "F")
    plot = plots.panel("8867-4").plot
    viewport = plots.graphics.viewport()
    QApplication.processEvents()
    paints = PaintCounter()
    viewport.installEventFilter(paints)
    results: dict[str, float] = {}
    full = t[-1] - t[0]
    for label, span in (("zoomed out (90% of the points in view)", 0.9 * full), ("one week in view", 7 * 86400.0)):
        frame_times = []
        paints.count = 0
        start = t[0]
        step = (full - span) / frames
        for i in range(frames):
            x0 = start + i * step
            # One frame: the range moves (as a mouse drag moves it) and the event loop repaints once.
            t0 = time.perf_counter()
            plot.setXRange(x0, x0 + span, padding=0)
            QApplication.processEvents()
            frame_times.append((time.perf_counter() - t0) * 1000)
        frame_times.sort()
        results[f"{label} median_ms"] = statistics.median(frame_times)
        results[f"{label} p95_ms"] = frame_times[int(len(frame_times) * 0.95) - 1]
        results[f"{label} paints per frame"] = paints.count / frames
    plots.close()
    return results


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-first-paint":
        child_first_paint(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        build_workspace(workspace, args.patients)
        print(f"workspace: {args.patients:,} patients + one with five years of data, built in "
              f"{time.perf_counter() - t0:.1f} s")
        paints, lists = first_paint(workspace)
        print(f"start to first paint: median {statistics.median(paints):.2f} s (runs {', '.join(f'{p:.2f}' for p in paints)})")
        print(f"start to patient list on screen ({args.patients:,} patients): median {statistics.median(lists):.2f} s")
        for name, seconds in list_queries(workspace).items():
            print(f"patient list query ({name}; count + first page + last page): {seconds * 1000:.0f} ms")
        switch = patient_switch(workspace)
        print(f"switch to the five-year patient ({switch['points']:,} readings, 7 plots): "
              f"median {switch['median_s'] * 1000:.0f} ms, max {switch['max_s'] * 1000:.0f} ms")
    for name, value in pan_frames(args.points).items():
        print(f"pan {args.points:,}-point series, {name}: {value:.1f}")
    print("goal: frame time under 16 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
