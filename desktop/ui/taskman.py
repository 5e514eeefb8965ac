"""The window's one way back to the GUI thread, and its one pool for work that is not the workspace
(Anki ``qt/aqt/taskman.py``).

* :meth:`TaskManager.run_on_main`: call ``fn()`` on the GUI thread, from any thread;
* :meth:`TaskManager.progress`: an ``on_progress`` for :class:`desktop.core.tasks.TaskState` that lands on
  the GUI thread, so a dialog needs no relay of its own;
* :meth:`TaskManager.run_in_background`: model-file hashing, header parses and trial loads, which must
  hold up neither DuckDB (``WorkspaceExecutor``) nor the model owner thread.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

T = TypeVar("T")


class TaskManager(QObject):
    _run = Signal(object)  # a callable, emitted from any thread, called queued on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool: ThreadPoolExecutor | None = None  # started on first use, so idle windows own no thread
        self._closed = False
        self._ids = itertools.count(1)
        # GUI-thread only: the callbacks wait here, keyed by job, so the pool's thread never holds (and never
        # drops the last reference to) anything of the GUI's (desktop/ui/executor.py says why that matters).
        self._callbacks: dict[int, Callable[[Future[Any]], None]] = {}
        self._run.connect(self._on_run)

    def run_on_main(self, fn: Callable[[], None]) -> None:
        self._run.emit(fn)

    def progress(self, on_progress: Callable[..., None]) -> Callable[..., None]:
        """Wrap a GUI callback so that a worker thread may call it (``TaskState(on_progress=...)``)."""
        return lambda *args: self.run_on_main(lambda: on_progress(*args))

    def run_in_background(self, fn: Callable[[], T], on_done: Callable[[Future[T]], None]) -> Future[T]:
        """``fn()`` on the pool; ``on_done(future)`` on the GUI thread once it has finished. After
        :meth:`shutdown` the future comes back cancelled and ``on_done`` is not called."""
        if self._closed:
            dropped: Future[T] = Future()
            dropped.cancel()
            return dropped
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background")
        job = next(self._ids)
        self._callbacks[job] = on_done
        future = self._pool.submit(fn)
        future.add_done_callback(lambda f: self.run_on_main(lambda: self._deliver(job, f)))
        return future

    def _deliver(self, job: int, future: Future[Any]) -> None:
        on_done = self._callbacks.pop(job, None)
        if on_done is not None:
            on_done(future)

    @Slot(object)
    def _on_run(self, fn: Callable[[], None]) -> None:
        fn()

    def shutdown(self) -> None:
        """Let the running task end, drop the queued ones, stop the pool's thread."""
        self._closed = True
        self._callbacks.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
