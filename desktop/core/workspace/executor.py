"""The one thread that touches the workspace: every DuckDB call, from a page of the patient list to a
whole import, runs here in order, so the connection is never used from two threads at once.

Qt-free (Anki ``taskman.py`` shape, minus the GUI relay): the CLI, tests and benchmarks use it directly;
the window wraps it in :class:`desktop.ui.executor.DbExecutor`, which adds the relay to the GUI thread.

    executor.call(lambda store: count_patients(store, flt)).result()
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from desktop.core.workspace.store import Store

T = TypeVar("T")


class WorkspaceExecutor:
    """Owns the store and its single worker thread."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb")
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def call(self, fn: Callable[[Store], T], /) -> Future[T]:
        """``fn(store)`` on the database thread, as a Future that completes there. The store is read when
        ``fn`` runs, so a workspace swapped in by work queued earlier is the one used. After
        :meth:`shutdown` the Future comes back cancelled (late requests while quitting are not errors)."""
        return self.submit(lambda: self._with_store(fn))

    def submit(self, fn: Callable[[], T], /) -> Future[T]:
        """``fn()`` on the database thread, for work that decides itself whether it needs a store."""
        if self._closed:
            dropped: Future[T] = Future()
            dropped.cancel()
            return dropped
        return self._pool.submit(fn)

    def _with_store(self, fn: Callable[[Store], T]) -> T:
        if self.store is None:
            raise RuntimeError("no workspace is open")
        return fn(self.store)

    def replace_store(self, store: Store | None) -> None:
        """Swap the workspace. Call only on the worker thread, so that everything queued before runs
        against the old store and everything after against the new one."""
        old, self.store = self.store, store
        if old is not None and old is not store:
            old.close()

    def shutdown(self, *, close_store: bool = True, drop_queued: bool = False) -> None:
        """Stop the thread after the queued work (or, with ``drop_queued``, after the work already running,
        as the app does at quit), then close the store unless told not to."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=drop_queued)
        if close_store and self.store is not None:
            self.store.close()
            self.store = None
