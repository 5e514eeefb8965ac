"""Tearing a widget tree down while Qt is still up (the app at exit, previews, screenshot scripts)."""

from __future__ import annotations

import gc

from PySide6.QtWidgets import QApplication, QWidget


def dispose(widget: QWidget) -> None:
    """Delete the widget tree while Qt is still up, so teardown order is ours and not the garbage
    collector's at interpreter exit (with PySide6 6.12.0 on Python 3.11 that exit aborted the process)."""
    widget.close()
    widget.deleteLater()
    QApplication.processEvents()
    del widget
    gc.collect()
