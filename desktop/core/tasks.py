"""The state a long ``run_*`` function is given: it reports progress and checks for cancellation.

Orange3's ``TaskState`` shape (``Orange/widgets/utils/concurrent.py``): the work itself is a plain function
in ``desktop/core`` that takes ``state`` and never touches Qt; whoever started it (the window's task
manager, the CLI, a benchmark, a test) decides where progress goes by the callback it passes in. Dialogs
therefore need no relay of their own: the window's task manager delivers ``on_progress`` on the GUI thread.

    def run_import(store, *, paths, state: TaskState) -> ImportReport:
        for i, path in enumerate(paths):
            state.raise_if_cancelled()
            ...
            state.set_progress((i + 1) / len(paths), f"imported {path.name}")
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: progress(fraction 0..1, message)
ProgressCallback = Callable[[float, str], None]


class TaskCancelled(Exception):
    """Raised inside a task when its state was cancelled; the task manager treats it as a quiet end."""


class TaskState:
    """Progress out, cancellation in. Safe to use from any thread."""

    def __init__(self, on_progress: ProgressCallback | None = None) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._on_progress = on_progress

    # -- progress -------------------------------------------------------------------------------------
    def set_progress(self, fraction: float, message: str = "") -> None:
        """Report how far the work is (0..1) and what it is doing now."""
        if self._on_progress is not None:
            self._on_progress(min(max(fraction, 0.0), 1.0), message)

    # -- cancellation ---------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the work to stop; runs the registered interrupters (e.g. ``con.interrupt``)."""
        with self._lock:
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise TaskCancelled()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Register ``callback`` to run on :meth:`cancel` (at once if already cancelled); returns a function
        that unregisters it. DuckDB work registers ``con.interrupt`` so a long query stops mid-way."""
        with self._lock:
            self._callbacks.append(callback)
            already = self._event.is_set()
        if already:
            callback()

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove
