"""How chat code reaches the workspace: ``db.call(fn)`` runs ``fn(store)`` on the one DuckDB thread and
returns a :class:`~concurrent.futures.Future` that completes on that thread.

:class:`desktop.core.workspace.executor.WorkspaceExecutor` (used directly by the CLI, tests and benchmarks)
and the window's :class:`desktop.ui.executor.DbExecutor` (which wraps it) both provide ``call``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, TypeVar

from desktop.core.workspace.store import Store

T = TypeVar("T")


class DbCalls(Protocol):
    def call(self, fn: Callable[[Store], T], /) -> Future[T]: ...
