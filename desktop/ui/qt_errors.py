"""The one place a background failure becomes a message a clinician can act on (Anki ``errors.py``)."""

from __future__ import annotations

import logging
import traceback

import duckdb
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.core.importers import ImportFailed
from desktop.core.queries.summary import PatientNotFound
from desktop.core.store import WorkspaceError

log = logging.getLogger(__name__)

#: Tests set this to collect messages instead of opening modal boxes.
presented: list[str] | None = None


def user_message(exc: BaseException) -> str:
    if isinstance(exc, (ImportFailed, WorkspaceError, PatientNotFound)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"Cannot read or write {exc.filename or 'the file'}: {exc.strerror or exc}"
    if isinstance(exc, duckdb.Error):
        return f"The workspace database reported an error:\n{exc}"
    return f"Something went wrong that Vitalsight did not expect:\n{type(exc).__name__}: {exc}"


def show_exception(parent: QWidget | None, exc: BaseException) -> None:
    """Log the whole trace, show the short message. Never swallow: unexpected errors stay in the log."""
    log.error("background operation failed:\n%s", "".join(traceback.format_exception(exc)))
    message = user_message(exc)
    if presented is not None:
        presented.append(message)
        return
    box = QMessageBox(QMessageBox.Icon.Warning, "Vitalsight", message, parent=parent)
    box.setDetailedText("".join(traceback.format_exception(exc)))
    box.open()
