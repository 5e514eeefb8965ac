"""Start the window: ``python -m desktop gui [--workspace W]`` calls :func:`run_app`."""

from __future__ import annotations

import logging
import sys

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
    target = workspace or window.settings.last_workspace
    if target:
        window.open_workspace(target)
    # Drain the database thread before Qt tears the widgets down (practice: shutdown at aboutToQuit).
    app.aboutToQuit.connect(window.shutdown)
    code = int(app.exec())
    from desktop.ui.preview import dispose

    dispose(window)
    return code
