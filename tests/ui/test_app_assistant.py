"""The assembled app: the real window, the real model in its owner thread, the real workspace file.

A clinician selects a patient and asks; the answer streams into the Assistant dock, is grounded in
that patient's values, and is in the workspace when the app has closed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool

from desktop.core.chat.session import ChatSettings
from desktop.core.settings import AppSettings
from desktop.core.store import open_store
from desktop.ui.app import attach_assistant
from desktop.ui.qt_main_window import QtMainWindow
from tests.ui.conftest import wait_idle


def test_ask_about_the_selected_patient_in_the_window(qtbot, make_workspace, workspace_file: Path) -> None:
    ws = make_workspace(workspace_file)
    window = QtMainWindow(ws, AppSettings())
    qtbot.addWidget(window)
    assistant = attach_assistant(window)
    assert assistant is not None, "llama-cpp-python must load in the test environment"
    controller = assistant.controller
    try:
        # Greedy and short: the test asserts on grounding, not on prose.
        controller.apply_settings(ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=40))
        qtbot.waitUntil(lambda: controller.model_ready, timeout=60000)
        assert window.assistant_dock.widget() is assistant.panel

        with qtbot.waitSignal(controller.conversationsChanged, timeout=10000):
            ws.select_patient("p-alice")
        wait_idle(qtbot, ws)

        streamed: list[str] = []
        controller.streamText.connect(streamed.append)
        with qtbot.waitSignal(controller.streamFinished, timeout=120000):
            controller.send("What was the latest creatinine value?")
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
    assert rows[0][1] == "What was the latest creatinine value?"
    assert rows[1][1] == "".join(streamed)
    # The model was given this patient's facts, from the workspace: name, the flagged creatinine, the BP.
    context = rows[1][2]
    assert "Alice Ames" in context and "Creatinine: 1.4 mg/dL (H" in context and "142" in context
