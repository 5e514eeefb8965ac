"""One serialized executor for every DuckDB call, and the op builder that runs work on it.

The connection is never used from two threads at once: all database work, from a page of the patient
list to a whole import, goes through the single worker thread of the core's ``WorkspaceExecutor``, in
order. Results come back to the GUI thread through the task manager's one relay (``desktop/ui/taskman.py``), so callbacks may
touch widgets. (Anki ``taskman.py``,
``operations/__init__.py``.)

    op(lambda store: count_patients(store, filter=flt)).success(self._show).run(executor)
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QObject

from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.ui.taskman import TaskManager

if TYPE_CHECKING:
    from desktop.core.workspace.store import Store

T = TypeVar("T")


class DbExecutor(QObject):
    """The window's face of :class:`~desktop.core.workspace.executor.WorkspaceExecutor`: the same one
    worker thread, plus the relay that brings results back to the GUI thread."""

    def __init__(self, store: Store | None = None, parent: QObject | None = None, *,
                 workspace: WorkspaceExecutor | None = None) -> None:
        """``workspace``: an executor already running (a chat given a bare ``WorkspaceExecutor``, as previews
        and tests build it), used as is: the same one thread, with this relay in front of it."""
        super().__init__(parent)
        self.workspace = workspace or WorkspaceExecutor(store)
        self._pending = 0  # submitted ops whose callback has not run yet
        self._job_ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[BaseException], None]]] = {}  # GUI thread
        self._outcomes: queue.SimpleQueue[tuple[int, tuple[bool, Any]]] = queue.SimpleQueue()  # worker -> GUI
        self._lock = threading.Lock()
        # The one relay to the GUI thread, and the one pool for non-database work (model files).
        self.tasks = TaskManager(parent=self)

    @property
    def store(self) -> Store | None:
        return self.workspace.store

    @store.setter
    def store(self, store: Store | None) -> None:
        self.workspace.store = store

    def submit(self, fn: Callable[[Store], Any], on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None], *, needs_store: bool = True) -> Future[Any]:
        # The worker thread must never hold the last reference to anything of the GUI's: a widget whose
        # last reference goes on that thread is destroyed there, and its timers stay registered with the
        # GUI thread (a segfault when they next fire). So the callbacks stay here, keyed by job, and the
        # worker lets go of the function and of its outcome before it tells the GUI thread to deliver.
        job_id = next(self._job_ids)
        self._callbacks[job_id] = (on_done, on_error)
        job = [fn]

        def work() -> None:
            # The store is read on the worker thread: a workspace switch queued earlier has happened.
            store = self.workspace.store
            call = job.pop()
            try:
                if store is None and needs_store:
                    raise RuntimeError("no workspace is open")
                outcome: tuple[bool, Any] = (True, call(store))
            except BaseException as exc:  # noqa: BLE001 - every failure goes to the op's failure callback
                outcome = (False, exc)
            del call
            self._outcomes.put((job_id, outcome))
            del outcome
            self.tasks.run_on_main(self._deliver_outcomes)

        # Late requests while the app quits (a debounce timer firing, say) come back cancelled, not errors.
        future = self.workspace.submit(work)
        if future.cancelled():
            del self._callbacks[job_id]
        else:
            with self._lock:
                self._pending += 1
        return future

    def call(self, fn: Callable[[Store], T], /) -> Future[T]:
        """``fn(store)`` on the database thread, as a Future that completes there (the chat's ``DbCalls``
        protocol, ``desktop/core/chat/db.py``). Callers needing the GUI thread use :func:`op` instead."""
        return self.workspace.call(fn)

    def run_sync(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn`` on the worker thread and wait for it (shutdown paths and tests only)."""
        return self.call(fn).result()

    def _deliver_outcomes(self) -> None:
        """On the GUI thread: every finished job's callback, in the order the jobs finished."""
        while True:
            try:
                job_id, (ok, value) = self._outcomes.get_nowait()
            except queue.Empty:
                return
            on_done, on_error = self._callbacks.pop(job_id)
            with self._lock:
                self._pending -= 1
            (on_done if ok else on_error)(value)

    @property
    def idle(self) -> bool:
        """No op is waiting for its callback (tests and the smoke script wait for this)."""
        with self._lock:
            return self._pending == 0

    def replace_store(self, store: Store | None) -> None:
        """Swap the workspace. Call only on the worker thread (inside an op), so that everything
        queued before runs against the old store and everything after against the new one."""
        self.workspace.replace_store(store)

    def shutdown(self) -> None:
        """Finish the running call, drop queued ones, then close the store (at aboutToQuit)."""
        self.workspace.shutdown(drop_queued=True)
        self.tasks.shutdown()


class Op(Generic[T]):
    """A background operation: ``op(fn).success(cb).failure(cb).with_progress(label).run(executor)``.

    ``fn`` runs on the database thread and must never touch widgets; callbacks run on the GUI thread.
    Without ``failure``, errors go to the one presenter (:func:`desktop.ui.qt_errors.show_exception`).
    """

    def __init__(self, fn: Callable[[Store], T]) -> None:
        self._fn = fn
        self._success: Callable[[T], None] = lambda _value: None
        self._failure: Callable[[BaseException], None] | None = None
        self._progress_label: str | None = None
        self._parent: Any = None

    def success(self, callback: Callable[[T], None]) -> Op[T]:
        self._success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> Op[T]:
        self._failure = callback
        return self

    def with_progress(self, label: str, parent: Any = None) -> Op[T]:
        """Show ``label`` in the main window's status bar while it runs."""
        self._progress_label = label
        self._parent = parent
        return self

    def run(self, executor: DbExecutor, *, needs_store: bool = True) -> Future[Any]:
        from desktop.ui.qt_errors import show_exception

        parent = self._parent
        status = getattr(parent, "show_busy", None) if parent is not None else None
        if status is not None and self._progress_label:
            status(self._progress_label)

        def done(value: T) -> None:
            if status is not None and self._progress_label:
                status(None)
            self._success(value)

        def failed(exc: BaseException) -> None:
            if status is not None and self._progress_label:
                status(None)
            if self._failure is not None:
                self._failure(exc)
            else:
                show_exception(parent, exc)

        return executor.submit(self._fn, done, failed, needs_store=needs_store)


def op(fn: Callable[[Store], T]) -> Op[T]:
    return Op(fn)
