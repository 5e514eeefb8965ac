"""The lock: Ctrl+L and the idle timer hide every patient view and the assistant dock; the passphrase
(or, for a plaintext workspace, the OS user's confirmation) brings the view back; each step leaves an
audit entry, and exports say they hold patient data and can be de-identified."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel

from desktop.core.settings import AppSettings
from desktop.core.workspace import crypto as workspace_crypto
from desktop.core.workspace.audit import read_audit
from desktop.core.workspace.store import forget_workspace_key, is_workspace_unlocked, open_store
from desktop.ui import qt_errors
from desktop.ui.qt_main_window import QtMainWindow
from desktop.ui.qt_settings import qsettings
from desktop.ui.security.audit_log import AuditLogDialog
from desktop.ui.security.export_notice import DEIDENTIFIED, FULL
from desktop.ui.workspace import files as workspace_files
from tests.ui.conftest import wait_idle
from tests.ui.security_support import PASSPHRASE, encrypted_workspace, shows

PATIENT_NAME = "Alice123"  # the first name conftest's cohort gives p-alice


@pytest.fixture
def window(qtbot, make_workspace):
    win = QtMainWindow(make_workspace(None), AppSettings())
    qtbot.addWidget(win)
    win.show()
    win.set_assistant_widget(QLabel(f"Chat about {PATIENT_NAME}: creatinine 1.4"))
    yield win
    forget_workspace_key()


@pytest.fixture
def no_delay(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(workspace_crypto.DEFAULT_THROTTLE, "sleep", recorded.append)
    monkeypatch.setattr(workspace_crypto.DEFAULT_THROTTLE, "failures", {})
    return recorded


def _open(qtbot, window: QtMainWindow, path: Path, passphrase: str | None = None) -> None:
    dialog = window.files.open_workspace(str(path))
    with qtbot.waitSignal(window.workspace.opened, timeout=20000):
        if dialog is not None:
            assert passphrase is not None
            dialog.field.setText(passphrase)
            dialog.try_unlock()
    wait_idle(qtbot, window.workspace)


def _view_alice(qtbot, window: QtMainWindow) -> None:
    qtbot.waitUntil(lambda: window.patient_list.model.rowCount() == 3, timeout=10000)
    with qtbot.waitSignal(window.patient_view.loaded, timeout=10000):
        window.patient_list.select_row(0)
    qtbot.waitUntil(lambda: shows(window, PATIENT_NAME), timeout=10000)


def test_lock_hides_patient_data_and_the_passphrase_brings_it_back(
    qtbot, window: QtMainWindow, tmp_path: Path, synthea_folder: Path, no_delay: list[float]
) -> None:
    path = encrypted_workspace(tmp_path / "enc.duckdb", synthea_folder)
    _open(qtbot, window, path, PASSPHRASE)
    _view_alice(qtbot, window)
    assert window.assistant_dock.isVisible()

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    assert window.security.lock_action.shortcut().toString() == "Ctrl+L"
    qtbot.keyClick(window.patient_list.search, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    lock = window.security.lock
    assert lock.is_locked and lock.screen.isVisible() and lock.screen.field.isVisible()
    assert not shows(window, PATIENT_NAME) and not shows(window, "creatinine")
    assert not window.assistant_dock.isVisible() and not window.patient_list.isVisible()
    assert not is_workspace_unlocked(path)  # the key is forgotten while locked
    assert not window.menuBar().isEnabled()
    # No shortcut reaches the data either: export, import, View > Assistant; Quit and Lock stay.
    assert not window.export_csv_action.isEnabled() and not window.import_action.isEnabled()
    assert not window.assistant_dock.toggleViewAction().isEnabled()
    assert window.security.lock_action.isEnabled()

    lock.screen.field.setText("not the passphrase")
    lock.screen.button.click()
    qtbot.waitUntil(lambda: lock.failures == 1, timeout=20000)
    assert lock.is_locked and "not correct" in lock.screen.message.text()
    assert not shows(window, PATIENT_NAME)

    lock.screen.field.setText(PASSPHRASE)
    with qtbot.waitSignal(lock.unlocked, timeout=20000):
        lock.screen.button.click()
    assert shows(window, PATIENT_NAME) and window.assistant_dock.isVisible() and window.menuBar().isEnabled()
    assert window.export_csv_action.isEnabled() and window.assistant_dock.toggleViewAction().isEnabled()
    settings_file = Path(qsettings().fileName())  # the settings keep paths only, never patient data
    assert settings_file.exists() and str(path) in settings_file.read_text(encoding="utf-8")
    assert PATIENT_NAME not in settings_file.read_text(encoding="utf-8")
    assert "p-alice" not in settings_file.read_text(encoding="utf-8")
    wait_idle(qtbot, window.workspace)
    actions = [(e.action, e.patient_id) for e in window.workspace.executor.run_sync(read_audit)]
    assert actions[-4:] == [
        ("workspace_opened", None),
        ("patient_viewed", "p-alice"),
        ("locked", None),
        ("unlocked", None),
    ]


def test_idle_time_locks_a_plaintext_workspace_and_the_os_user_unlocks_it(
    qtbot, window: QtMainWindow, workspace_file: Path
) -> None:
    _open(qtbot, window, workspace_file)
    _view_alice(qtbot, window)
    lock = window.security.lock
    lock.idle.set_timeout_ms(300)
    qtbot.waitUntil(lambda: lock.is_locked, timeout=5000)
    assert not shows(window, PATIENT_NAME)
    assert not lock.screen.field.isVisible()  # no passphrase to ask for, and the screen says so
    assert "not encrypted" in lock.screen.explanation.text() and "Unlock as" in lock.screen.button.text()
    with qtbot.waitSignal(lock.unlocked, timeout=5000):
        lock.screen.button.click()
    assert shows(window, PATIENT_NAME)
    wait_idle(qtbot, window.workspace)
    entries = window.workspace.executor.run_sync(read_audit)
    assert [e.action for e in entries][-2:] == ["locked", "unlocked"]
    assert "without use" in entries[-2].detail


def test_input_keeps_the_window_unlocked(qtbot, window: QtMainWindow, workspace_file: Path) -> None:
    _open(qtbot, window, workspace_file)
    lock = window.security.lock
    lock.idle.set_timeout_ms(600)
    for _ in range(6):  # 1.2 s of typing, never 600 ms apart
        qtbot.wait(200)
        qtbot.keyClick(window.patient_list.search, Qt.Key.Key_A)
    assert not lock.is_locked
    qtbot.waitUntil(lambda: lock.is_locked, timeout=5000)


def test_each_patient_selection_is_one_audit_entry(qtbot, window: QtMainWindow, workspace_file: Path) -> None:
    _open(qtbot, window, workspace_file)
    _view_alice(qtbot, window)
    window.workspace.notify_changed()  # views reload and repaint: no new entry
    wait_idle(qtbot, window.workspace)
    qtbot.waitUntil(lambda: window.patient_list.model.rowCount() == 3, timeout=10000)
    with qtbot.waitSignal(
        window.patient_view.loaded, timeout=10000, check_params_cb=lambda pid: pid == "p-bob"
    ):
        window.patient_list.select_row(1)
    wait_idle(qtbot, window.workspace)
    viewed = [
        e.patient_id for e in window.workspace.executor.run_sync(read_audit) if e.action == "patient_viewed"
    ]
    assert viewed == ["p-alice", "p-bob"]


def test_export_says_it_holds_patient_data_and_can_be_deidentified(
    qtbot, window: QtMainWindow, workspace_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open(qtbot, window, workspace_file)
    asked: list[str] = []
    choice = {"kind": DEIDENTIFIED}
    monkeypatch.setattr(
        workspace_files, "ask_export_kind", lambda _parent, what: asked.append(what) or choice["kind"]
    )
    target = {"path": str(tmp_path / "deid.csv")}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (target["path"], "CSV (*.csv)"))
    window.observations.scope.setCurrentIndex(window.observations.scope.findData("all"))
    with qtbot.waitSignal(window.observations.exported, timeout=10000):
        window.export_csv_action.trigger()
    assert asked == ["The observations export"]
    with open(target["path"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 11 and not any(r["Patient"].startswith("p-") for r in rows)
    assert {r["Patient"] for r in rows} == {"patient-0001", "patient-0002", "patient-0003"}
    assert not any(r["Time (UTC)"].startswith("2023-03-12 09:00") for r in rows)  # dates shifted

    choice["kind"], target["path"] = FULL, str(tmp_path / "full.csv")
    with qtbot.waitSignal(window.observations.exported, timeout=10000):
        window.export_csv_action.trigger()
    assert "p-alice" in Path(target["path"]).read_text(encoding="utf-8")
    wait_idle(qtbot, window.workspace)
    exports = [
        e.detail for e in window.workspace.executor.run_sync(read_audit) if e.action == "data_exported"
    ]
    assert exports == [
        f"observations CSV, 11 rows, de-identified, to {tmp_path / 'deid.csv'}",
        f"observations CSV, 11 rows, to {tmp_path / 'full.csv'}",
    ]


def test_audit_log_dialog_shows_entries_checks_the_chain_and_exports(
    qtbot, window: QtMainWindow, workspace_file: Path, tmp_path: Path
) -> None:
    _open(qtbot, window, workspace_file)
    _view_alice(qtbot, window)
    window.unit_actions["temperature:F"].trigger()
    wait_idle(qtbot, window.workspace)
    dialog = window.security.show_audit_log()
    assert isinstance(dialog, AuditLogDialog)
    qtbot.waitUntil(lambda: dialog.check is not None, timeout=10000)
    assert dialog.chain_label.text().startswith("Chain check: intact")
    cells = {dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount())}
    assert {"workspace_opened", "patient_viewed", "setting_changed"} <= cells
    out = tmp_path / "audit.csv"
    dialog.export_to(str(out))
    with open(out, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "sequence" and rows[-1][:2] == ["chain", "intact"]
    assert any(r[3] == "setting_changed" and r[5] == "temperature unit = F" for r in rows[1:-1])
    wait_idle(qtbot, window.workspace)
    assert window.workspace.executor.run_sync(read_audit)[-1].action == "data_exported"

    # An entry edited behind the app's back is reported as such.
    window.workspace.executor.run_sync(
        lambda s: s.con.execute("UPDATE audit_log SET detail = 'edited' WHERE sequence = 1")
    )
    dialog.refresh()
    qtbot.waitUntil(lambda: "BROKEN" in dialog.chain_label.text(), timeout=10000)
    assert "entry 1 was altered" in dialog.chain_label.text()


def _fail_with_patient_text() -> None:
    raise ValueError(f"could not convert {PATIENT_NAME}'s creatinine 1.4 for question 'is she worse?'")


def test_logs_name_the_error_and_where_but_never_its_patient_text(
    caplog: pytest.LogCaptureFixture, presented: list[str]
) -> None:
    try:
        _fail_with_patient_text()
    except ValueError as exc:
        error = exc
    with caplog.at_level(logging.ERROR):
        qt_errors.show_exception(None, error)
    logged = caplog.text
    assert (
        "ValueError" in logged and "test_security_lock.py" in logged and "_fail_with_patient_text" in logged
    )
    assert PATIENT_NAME not in logged and "1.4" not in logged and "worse" not in logged
    assert PATIENT_NAME in presented[0]  # the clinician, on screen, still reads what went wrong

    # Any other logger's traceback, through the app's formatter, drops the message too.
    formatter = qt_errors.PrivateFormatter("%(message)s")
    record = logging.LogRecord(
        "x",
        logging.ERROR,
        __file__,
        1,
        "model job %s failed",
        (3,),
        (type(error), error, error.__traceback__),
    )
    text = formatter.format(record)
    assert "model job 3 failed" in text and "ValueError" in text and PATIENT_NAME not in text


def test_lock_empties_the_chat_and_the_models_kv_cache(qtbot, make_workspace, workspace_file: Path,
                                                       monkeypatch, tmp_path: Path) -> None:
    from desktop.core.chat.session import ChatSettings
    from desktop.ui.app import attach_assistant

    ws = make_workspace(workspace_file)
    window = QtMainWindow(ws, AppSettings())
    qtbot.addWidget(window)
    window.show()
    assistant = attach_assistant(window)
    assert assistant is not None, "llama-cpp-python must load in the test environment"
    worker = assistant.worker
    try:
        assistant.model.apply_settings(ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=8))
        qtbot.waitUntil(lambda: assistant.model.ready, timeout=60000)
        with qtbot.waitSignal(assistant.conversations.conversationsChanged, timeout=10000):
            ws.select_patient("p-alice")
        wait_idle(qtbot, ws)
        with qtbot.waitSignal(assistant.turns.streamFinished, timeout=120000):
            assistant.turns.send("What lifestyle advice could help her?")
        qtbot.waitUntil(lambda: len(assistant.conversations.messages) == 2, timeout=10000)
        assert worker._engine is not None and worker._engine.llm.n_tokens > 0  # the prompt is in the KV cache
        wait_idle(qtbot, ws)
        asked = [e for e in ws.executor.run_sync(read_audit) if e.action == "question_asked"]
        assert [(e.patient_id, e.detail) for e in asked] == [
            ("p-alice", "")
        ]  # who asked about whom, not what

        window.security.lock.lock()
        assert assistant.conversations.messages == [] and assistant.conversations.conversation_id is None
        assert not window.assistant_dock.isVisible()
        qtbot.waitUntil(lambda: worker._engine.llm.n_tokens == 0, timeout=10000)

        with qtbot.waitSignal(window.security.lock.unlocked, timeout=5000):
            window.security.lock.screen.button.click()  # plaintext workspace: the OS user's confirmation
        qtbot.waitUntil(lambda: len(assistant.conversations.messages) == 2, timeout=10000)  # the conversation is back
        assert window.assistant_dock.isVisible()

        # Exporting the conversation: told it holds patient data, then audited with where it went.
        from PySide6.QtWidgets import QFileDialog, QMessageBox

        target = tmp_path / "conversation.md"
        monkeypatch.setattr(QMessageBox, "information", lambda *_a: QMessageBox.StandardButton.Ok)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Markdown (*.md)"))
        assistant.panel.export_button.click()
        qtbot.waitUntil(lambda: any(e.action == "data_exported" and str(target) in e.detail
                                    for e in ws.executor.run_sync(read_audit)), timeout=10000)
        exported = [e for e in ws.executor.run_sync(read_audit) if e.action == "data_exported"]
        assert exported[-1].patient_id == "p-alice" and target.exists()
    finally:
        assert assistant.shutdown(), "the model owner thread did not end"
        ws.shutdown()


def test_an_import_through_the_window_is_audited_per_file(
    qtbot, window: QtMainWindow, tmp_path: Path, synthea_folder: Path
) -> None:
    with open_store(tmp_path / "empty.duckdb"):   # File > Open opens workspaces; it never makes one
        pass
    _open(qtbot, window, tmp_path / "empty.duckdb")
    dialog = window.open_import_dialog([synthea_folder])
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.plan_table.rowCount() == 3, timeout=10000)
    with qtbot.waitSignal(dialog.finished_import, timeout=20000):
        dialog.start_import()
    wait_idle(qtbot, window.workspace)
    qtbot.waitUntil(
        lambda: sum(e.action == "file_imported" for e in window.workspace.executor.run_sync(read_audit)) == 3,
        timeout=10000,
    )
    details = [
        e.detail for e in window.workspace.executor.run_sync(read_audit) if e.action == "file_imported"
    ]
    observations = [d for d in details if d.startswith("observations.csv (")]
    assert len(observations) == 1 and observations[0].endswith("): 11 rows accepted, 0 rejected")
