"""Start the window: ``python -m desktop gui [--workspace W]`` calls :func:`run_app`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop.ui.qt_settings import APPLICATION, ORGANIZATION


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Vitalsight")
    return app


def run_app(workspace: str | None = None) -> int:
    """Open the window on ``workspace`` (else the last one used) and run until it closes."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    from desktop.ui.qt_main_window import QtMainWindow

    window = QtMainWindow()
    window.show()
    # A workspace named on the command line is created if missing; the remembered one only if it exists
    # (a moved or deleted file must not come back as a new, empty workspace).
    if workspace:
        window.open_workspace(workspace)
    elif window.settings.last_workspace and Path(window.settings.last_workspace).exists():
        window.open_workspace(window.settings.last_workspace)
    # Drain the database thread before Qt tears the widgets down (practice: shutdown at aboutToQuit).
    app.aboutToQuit.connect(window.shutdown)
    code = int(app.exec())
    from desktop.ui.preview import dispose

    dispose(window)
    return code
