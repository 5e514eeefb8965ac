"""Run one panel on its own (``python -m desktop.ui.qt_patient_list [WORKSPACE]``), practice 11.

With no workspace given it uses the sample workspace when built, else a throwaway demo workspace.
``VITALSIGHT_PREVIEW_QUIT_MS`` closes the preview after that many milliseconds (the smoke test).
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
from desktop.core.store import Store


def demo_workspace_path() -> str:
    """The workspace named on the command line, else the sample workspace, else a throwaway demo."""
    if len(sys.argv) > 1:
        return sys.argv[1]
    sample = resource_path("sample", "sample-workspace.duckdb")
    if sample.exists():
        return str(sample)
    from desktop.core.store import open_store
    from devtools.synthetic.workspaces import fill_demo

    path = Path(tempfile.mkdtemp(prefix="vitalsight-preview-")) / "demo.duckdb"
    with open_store(path) as store:
        fill_demo(store, patients=120)
    return str(path)


def seed_demo_patient(store: Store) -> str:
    """The demo patient the chat previews talk about (devtools, reached only from this module)."""
    from devtools.synthetic.workspaces import seed_demo_patient as seed

    return seed(store)


def preview(make: Callable[..., QWidget], *, select_first: bool = True, path: str | None = None) -> int:
    from desktop.ui.workspace import Workspace

    app = QApplication.instance() or QApplication(sys.argv)
    path = path or (sys.argv[1] if len(sys.argv) > 1 else demo_workspace_path())
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


def dispose(widget: QWidget) -> None:
    """Delete the widget tree while Qt is still up, so teardown order is ours and not the garbage
    collector's at interpreter exit (with PySide6 6.12.0 on Python 3.11 that exit aborted the process)."""
    import gc

    widget.close()
    widget.deleteLater()
    QApplication.processEvents()
    del widget
    gc.collect()
