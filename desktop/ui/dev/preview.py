"""Run one panel on its own, for developers (practice 11)::

    python -m desktop.ui.dev.preview NAME [WORKSPACE]

NAME is one of :data:`PANELS` (patient_list, patient_view, observations, overview, cohort, main_window).
With no workspace given it uses the sample workspace when built, else a throwaway demo workspace.
``VITALSIGHT_PREVIEW_QUIT_MS`` closes the preview after that many milliseconds (the smoke test).

The shipped app never imports this package (an import-linter contract): previews may reach devtools.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop.core.resources import resource_path
from desktop.core.workspace.store import Store
from desktop.ui.teardown import dispose

__all__ = ["PANELS", "demo_workspace_path", "dispose", "preview", "seed_demo_patient"]


def demo_workspace_path(named: str | None = None) -> str:
    """``named`` if given, else the sample workspace, else a throwaway demo."""
    if named:
        return named
    sample = resource_path("sample", "sample-workspace.duckdb")
    if sample.exists():
        return str(sample)
    from desktop.core.workspace.store import open_store
    from devtools.synthetic.workspaces import fill_demo

    path = Path(tempfile.mkdtemp(prefix="vitalsight-preview-")) / "demo.duckdb"
    with open_store(path) as store:
        fill_demo(store, patients=120)
    return str(path)


def seed_demo_patient(store: Store) -> str:
    """The demo patient the chat previews talk about (devtools, reached only from this package)."""
    from devtools.synthetic.workspaces import seed_demo_patient as seed

    return seed(store)


def preview(make: Callable[..., QWidget], *, select_first: bool = True, path: str | None = None) -> int:
    from desktop.ui.workspace import Workspace

    app = QApplication.instance() or QApplication(sys.argv)
    path = path or demo_workspace_path()
    workspace = Workspace()
    widget = make(workspace)
    widget.resize(1100, 750)
    widget.show()
    if select_first:
        def pick_first() -> None:
            from desktop.core.queries.patients import list_patients
            from desktop.ui.executor import op

            op(lambda store: list_patients(store, limit=1)).success(
                lambda rows: rows and workspace.select_patient(str(rows[0]["id"]))
            ).run(workspace.executor)

        workspace.opened.connect(pick_first)
    workspace.open(path)
    quit_ms = os.environ.get("VITALSIGHT_PREVIEW_QUIT_MS")
    if quit_ms:
        QTimer.singleShot(int(quit_ms), app.quit)
    app.aboutToQuit.connect(workspace.shutdown)
    code = int(app.exec())
    dispose(widget)
    return code


def _panels() -> dict[str, tuple[Callable[..., QWidget], bool]]:
    """Each panel's factory (given the workspace) and whether the preview picks the first patient."""
    from desktop.core.settings import AppSettings
    from desktop.ui.patient.observations import QtObservationsTable
    from desktop.ui.patient.overview import QtOverview
    from desktop.ui.patient.patient_list import QtPatientList
    from desktop.ui.patient.view import QtPatientView
    from desktop.ui.plots.qt_cohort_view import QtCohortView
    from desktop.ui.qt_main_window import QtMainWindow

    return {
        "patient_list": (QtPatientList, True),
        "patient_view": (QtPatientView, True),
        "observations": (QtObservationsTable, True),
        "overview": (QtOverview, True),
        "cohort": (QtCohortView, False),
        "main_window": (lambda ws: QtMainWindow(ws, AppSettings()), True),
    }


PANELS = ("patient_list", "patient_view", "observations", "overview", "cohort", "main_window")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in PANELS:
        print(f"usage: python -m desktop.ui.dev.preview {{{'|'.join(PANELS)}}} [WORKSPACE]", file=sys.stderr)
        return 2
    make, select_first = _panels()[argv[0]]
    return preview(make, select_first=select_first, path=demo_workspace_path(argv[1] if len(argv) > 1 else None))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
