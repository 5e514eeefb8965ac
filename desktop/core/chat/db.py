"""How chat code reaches the workspace: ``db.call(fn)`` runs ``fn(store)`` on the one DuckDB thread and
returns a :class:`~concurrent.futures.Future` that completes on that thread.

The app's own database executor provides ``call``; :class:`ThreadDb` is the stand-alone version for the
CLI, previews, tests and benchmarks. ``fn`` receives the store when it runs, so a workspace swapped in the
meantime is the one used.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, TypeVar

from desktop.core.store import Store

T = TypeVar("T")


class DbCalls(Protocol):
    def call(self, fn: Callable[[Store], T], /) -> Future[T]: ...


class ThreadDb:
    """A :class:`Store` with its own single worker thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb")

    def call(self, fn: Callable[[Store], T], /) -> Future[T]:
        return self._pool.submit(fn, self.store)

    def shutdown(self, *, close_store: bool = True) -> None:
        """Finish queued work, stop the thread, and close the store unless told not to."""
        self._pool.shutdown(wait=True)
        if close_store:
            self.store.close()
