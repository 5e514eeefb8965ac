"""The database executor and op builder: one worker thread, results on the GUI thread, failures to the
one presenter with a message a clinician can act on."""

from __future__ import annotations

import threading
from pathlib import Path

from desktop.core.importers import ImportFailed
from desktop.ui.executor import op
from desktop.ui.workspace import Workspace
from tests.ui.conftest import wait_idle


def test_ops_run_in_order_on_one_thread_and_answer_on_the_gui_thread(qtbot, workspace: Workspace) -> None:
    seen: list[tuple[str, int]] = []
    answered_on: list[threading.Thread] = []
    for i in range(5):
        op(lambda store, i=i: (threading.current_thread().name, i)).success(
            lambda value: (seen.append(value), answered_on.append(threading.current_thread()))
        ).run(workspace.executor)
    wait_idle(qtbot, workspace)
    assert [i for _, i in seen] == [0, 1, 2, 3, 4]
    assert len({name for name, _ in seen}) == 1 and seen[0][0].startswith("duckdb")
    assert all(t is threading.main_thread() for t in answered_on)


def test_a_failure_goes_to_the_presenter(qtbot, workspace: Workspace, presented: list[str]) -> None:
    def fail(_store: object) -> None:
        raise ImportFailed("ward.csv: line 7 is not UTF-8")

    op(fail).run(workspace.executor)
    wait_idle(qtbot, workspace)
    assert presented == ["ward.csv: line 7 is not UTF-8"]


def test_a_file_that_is_not_a_workspace_gets_a_clear_message(qtbot, make_workspace, tmp_path: Path,
                                                              presented: list[str]) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("this is not a database", encoding="utf-8")
    ws = make_workspace(None)
    ws.open(bogus)
    qtbot.waitUntil(lambda: bool(presented), timeout=10000)
    assert "Cannot open workspace" in presented[0] and "notes.duckdb" in presented[0]
    assert not ws.is_open
    assert bogus.read_text(encoding="utf-8") == "this is not a database"  # nothing overwritten


def test_call_serves_the_chat_protocol_on_the_same_thread(qtbot, workspace: Workspace) -> None:
    from desktop.core.chat.db import DbCalls

    db: DbCalls = workspace.executor
    future = db.call(lambda store: (threading.current_thread().name, store.con.execute("SELECT 41 + 1").fetchone()[0]))
    name, value = future.result(timeout=10)
    assert name.startswith("duckdb") and value == 42


def test_the_task_manager_brings_progress_and_background_results_to_the_gui_thread(qtbot) -> None:
    from desktop.core.tasks import TaskState
    from desktop.ui.taskman import TaskManager

    tasks = TaskManager()
    gui = threading.get_ident()
    seen: list[tuple[float, str, bool]] = []
    state = TaskState(on_progress=tasks.progress(lambda f, m: seen.append((f, m, threading.get_ident() == gui))))
    done: list[tuple[int, bool]] = []

    def work() -> int:
        assert threading.get_ident() != gui
        state.set_progress(0.5, "half")
        return 42

    tasks.run_in_background(work, lambda f: done.append((f.result(), threading.get_ident() == gui)))
    qtbot.waitUntil(lambda: bool(done) and bool(seen), timeout=5000)
    assert done == [(42, True)] and seen == [(0.5, "half", True)]
    tasks.shutdown()  # the autouse guard fails the test if the pool's thread were left running
    assert tasks.run_in_background(lambda: 1, lambda _f: None).cancelled()


def test_the_chat_reaches_the_workspace_through_the_same_door(qtbot, workspace: Workspace) -> None:
    """``Calls`` (the chat's database calls and model-file work) is op() underneath: results and errors come
    back on the GUI thread, in order, and the worker thread never holds the callbacks."""
    import gc
    import weakref

    from desktop.ui.chat.calls import Calls

    errors: list[tuple[str, bool]] = []
    calls = Calls(db=workspace.executor, on_error=lambda m: errors.append((m, threading.current_thread() is
                                                                          threading.main_thread())))
    seen: list[tuple[int, bool]] = []

    class Widgetish:  # stands for a GUI object a callback keeps alive
        def done(self, value: int) -> None:
            seen.append((value, threading.current_thread() is threading.main_thread()))

    holder = Widgetish()
    ref = weakref.ref(holder)
    for i in range(3):
        calls.db_call(lambda store, i=i: store.con.execute("SELECT ?", [i]).fetchone()[0], holder.done)
    calls.db_call(lambda store: store.con.execute("SELECT * FROM no_such_table").fetchall())
    background: list[bool] = []
    calls.background(lambda: 7, lambda v: background.append(v == 7 and threading.current_thread() is
                                                             threading.main_thread()))
    wait_idle(qtbot, workspace)
    qtbot.waitUntil(lambda: bool(background), timeout=5000)
    assert seen == [(0, True), (1, True), (2, True)] and background == [True]
    assert len(errors) == 1 and "no_such_table" in errors[0][0] and errors[0][1]
    del holder
    gc.collect()
    assert ref() is None  # nothing on the worker side kept the GUI object alive
