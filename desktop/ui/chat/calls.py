"""The chat's way to the workspace and back, through the window's one door: :func:`desktop.ui.executor.op`
(``fn(store)`` on the one DuckDB thread; its result or its error, as a message, handed to a callback on the
GUI thread, which the worker thread never holds). Work that is not the workspace (model files) goes to the
task manager's pool, its callback likewise kept on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from desktop.core.workspace.store import Store
from desktop.ui.executor import DbExecutor, op


class Calls:
    def __init__(self, *, db: DbExecutor, on_error: Callable[[str], None]) -> None:
        self.db = db
        self._on_error = on_error

    def db_call(self, fn: Callable[[Store], Any], on_ok: Callable[[Any], None] | None = None,
                on_error: Callable[[str], None] | None = None) -> None:
        report = on_error or self._on_error
        op(fn).success(on_ok or (lambda _value: None)).failure(
            lambda exc: report(str(exc) or type(exc).__name__)).run(self.db)

    def background(self, fn: Callable[[], Any], on_ok: Callable[[Any], None],
                   on_error: Callable[[str], None] | None = None) -> None:
        """Work that is not the workspace (model files): it must hold up neither DuckDB nor the model."""
        self.db.tasks.run_in_background(fn, lambda f: self._done(f, on_ok, on_error))

    def _done(self, fut: Future[Any], on_ok: Callable[[Any], None],
              on_error: Callable[[str], None] | None) -> None:
        if fut.cancelled():
            return  # the app is quitting: nothing to show
        exc = fut.exception()
        if exc is not None:
            (on_error or self._on_error)(str(exc) or type(exc).__name__)
        else:
            on_ok(fut.result())
