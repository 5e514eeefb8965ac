"""The assembled app: the real window, the real model in its owner thread, the real workspace file.

A clinician selects a patient and asks; the answer streams into the Assistant dock, is grounded in
that patient's values, and is in the workspace when the app has closed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool

from desktop.core.chat.session import ChatSettings
from desktop.core.settings import AppSettings
from desktop.core.workspace.store import open_store
from desktop.ui.app import attach_assistant
from desktop.ui.chat.chat_assistant import chat_settings_from
from desktop.ui.qt_main_window import QtMainWindow
from desktop.ui.qt_settings import load_settings
from tests.ui.conftest import wait_idle


def test_ask_about_the_selected_patient_in_the_window(qtbot, make_workspace, workspace_file: Path) -> None:
    ws = make_workspace(workspace_file)
    window = QtMainWindow(ws, AppSettings())
    qtbot.addWidget(window)
    assistant = attach_assistant(window)
    assert assistant is not None, "llama-cpp-python must load in the test environment"
    try:
        # Greedy and short: the test asserts on grounding, not on prose.
        chosen = ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=40)
        assistant.model.apply_settings(chosen)
        qtbot.waitUntil(lambda: assistant.model.ready, timeout=60000)
        # The chat settings are saved with the app's settings: the next start reads them back.
        restarted = load_settings()
        assert chat_settings_from(restarted) == chosen
        assert (restarted.chat_threads, restarted.chat_ctx, restarted.chat_max_tokens) == (1, 2048, 40)
        assert window.assistant_dock.widget() is assistant.panel

        with qtbot.waitSignal(assistant.conversations.conversationsChanged, timeout=10000):
            ws.select_patient("p-alice")
        wait_idle(qtbot, ws)

        streamed: list[str] = []
        assistant.turns.streamText.connect(streamed.append)
        with qtbot.waitSignal(assistant.turns.streamFinished, timeout=120000):
            assistant.turns.send("What lifestyle advice could help her?")
        assert "".join(streamed).strip(), "no tokens reached the panel"
    finally:
        assert assistant.shutdown(), "the model owner thread did not end"
        ws.shutdown()
    assert QThreadPool.globalInstance().activeThreadCount() == 0

    with open_store(workspace_file, read_only=True) as store:
        rows = store.con.execute(
            "SELECT m.role, m.content, m.context_summary FROM messages m JOIN conversations c USING (conversation_id) "
            "WHERE c.patient_id = 'p-alice' ORDER BY m.position"
        ).fetchall()
    assert [r[0] for r in rows] == ["user", "assistant"]
    assert rows[0][1] == "What lifestyle advice could help her?"
    assert rows[1][1] == "".join(streamed)
    # The model was given this patient's facts, from the workspace: name, the flagged creatinine, the BP.
    context = rows[1][2]
    assert "Alice Ames" in context and "Creatinine: 1.4 mg/dL" in context and "flagged H" in context
    assert "142" in context


def test_saved_chat_settings_are_read_back_and_damaged_ones_fall_back() -> None:
    app = AppSettings.from_dict({"chat_threads": "3", "chat_ctx": "1024", "chat_temperature": "0.7",
                                 "chat_top_p": "0.5", "chat_max_tokens": "100"})  # QSettings gives strings
    assert chat_settings_from(app) == ChatSettings(n_threads=3, n_ctx=1024, temperature=0.7, top_p=0.5,
                                                   max_tokens=100)
    assert chat_settings_from(AppSettings()) == ChatSettings()  # nothing saved: the defaults
    damaged = AppSettings.from_dict({"chat_ctx": "12", "chat_temperature": "warm"})
    assert chat_settings_from(damaged) == ChatSettings()


def test_a_workspace_opened_after_the_assistant_gets_its_cut_off_answers_marked(qtbot, make_workspace,
                                                                               workspace_file: Path) -> None:
    """The window builds the assistant before any workspace is open: the answer a crash left 'generating' is
    marked 'interrupted' when the workspace opens, and the chat shows no "no workspace is open"."""
    from desktop.core.chat import history as h

    with open_store(workspace_file) as store:
        conv = h.create_conversation(store, patient_id="p-alice").conversation_id
        h.add_message(store, conversation_id=conv, role="user", content="How is she?")
        h.add_message(store, conversation_id=conv, role="assistant", content="She is st", status="generating",
                      model="m")
    ws = make_workspace(None)
    window = QtMainWindow(ws, AppSettings())
    qtbot.addWidget(window)
    assistant = attach_assistant(window)
    assert assistant is not None
    try:
        qtbot.waitUntil(lambda: assistant.model.ready, timeout=60000)
        with qtbot.waitSignal(ws.opened, timeout=10000):
            ws.open(workspace_file)
        wait_idle(qtbot, ws)
        statuses = ws.executor.run_sync(lambda store: [m.status for m in h.active_messages(store, conversation_id=conv)])
        assert statuses == ["complete", "interrupted"]
        assert assistant.panel.notice.text() == ""
    finally:
        assert assistant.shutdown(), "the model owner thread did not end"
        ws.shutdown()
