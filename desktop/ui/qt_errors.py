"""The one place a background failure becomes a message a clinician can act on (Anki ``errors.py``).

Logs carry no patient data (issue 12): an exception's message may quote a value, a name or a question
(DuckDB echoes the row it choked on; a chat error repeats the prompt), so the log gets the exception's
type and where it was raised, never its text. :class:`PrivateFormatter` does the same for every other
logger's tracebacks (``log.exception`` anywhere in the app).
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import duckdb
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.core.importers import ImportFailed
from desktop.core.queries.summary import PatientNotFound
from desktop.core.workspace.store import WorkspaceError

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


def private_trace(exc: BaseException) -> str:
    """The exception's type and its stack (file, line, function) without any message or source line that
    could hold patient data; chained causes likewise."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        where = [f"  {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames]
        parts.append("\n".join([f"{type(current).__module__}.{type(current).__qualname__}", *where]))
        current = current.__cause__ or current.__context__
    return "\ncaused by ".join(parts)


def location(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown location"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"


class PrivateFormatter(logging.Formatter):
    """Formats tracebacks as :func:`private_trace`: ``log.exception`` anywhere leaks no message text."""

    def formatException(self, ei: object) -> str:
        exc = ei[1] if isinstance(ei, tuple) and len(ei) == 3 else None
        return private_trace(exc) if isinstance(exc, BaseException) else "(no exception)"


def install_private_logging(level: int = logging.INFO) -> None:
    """The app's logging: INFO to stderr, tracebacks without their messages (see the module docstring)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(PrivateFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))


def show_exception(parent: QWidget | None, exc: BaseException) -> None:
    """Log the type and the stack, show the short message. Never swallow: unexpected errors stay logged."""
    log.error("background operation failed: %s at %s\n%s", type(exc).__name__, location(exc),
              private_trace(exc))
    message = user_message(exc)
    if presented is not None:
        presented.append(message)
        return
    box = QMessageBox(QMessageBox.Icon.Warning, "Vitalsight", message, parent=parent)
    # The details are for a bug report, which leaves the clinic: the stack, not the message.
    box.setDetailedText(private_trace(exc))
    box.open()
