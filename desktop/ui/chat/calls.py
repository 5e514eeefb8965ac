"""The chat's way to the workspace and back: ``fn(store)`` on the one DuckDB thread, its result handed to a
callback on the GUI thread through the window's task manager, its error to ``on_error`` (default: the
owner's ``errorRaised``). Shared by the chat's controllers so none of them keeps its own relay."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from desktop.core.chat.db import DbCalls
from desktop.core.store import Store
from desktop.ui.taskman import TaskManager


class Calls:
    def __init__(self, *, db: DbCalls, tasks: TaskManager, on_error: Callable[[str], None]) -> None:
        self.db = db
        self.tasks = tasks
        self._on_error = on_error

    def db_call(self, fn: Callable[[Store], Any], on_ok: Callable[[Any], None] | None = None,
                on_error: Callable[[str], None] | None = None) -> None:
        self.tasks.watch(self.db.call(fn), lambda f: self._done(f, on_ok, on_error))

    def background(self, fn: Callable[[], Any], on_ok: Callable[[Any], None],
                   on_error: Callable[[str], None] | None = None) -> None:
        """Work that is not the workspace (model files): it must hold up neither DuckDB nor the model."""
        self.tasks.run_in_background(fn, lambda f: self._done(f, on_ok, on_error))

    def _done(self, fut: Future[Any], on_ok: Callable[[Any], None] | None,
              on_error: Callable[[str], None] | None) -> None:
        if fut.cancelled():
            return  # the workspace closed (app quitting) before this ran: nothing to show
        exc = fut.exception()
        if exc is not None:
            (on_error or self._on_error)(str(exc) or type(exc).__name__)
        elif on_ok is not None:
            on_ok(fut.result())
