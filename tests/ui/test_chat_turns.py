# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
"""The chat's turns through the window's real parts (the assistant's parts, model owner thread, the workspace
executor the app uses) with a scripted engine: stop, regenerate, edit, errors, recovery after a crash, and
warming the KV cache for the selected patient. The store is read only through ``executor.call``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop.core.chat import history as h
from desktop.ui.chat.chat_assistant import ChatAssistant
from desktop.ui.chat.model_worker import ModelWorker
from tests.ui.chat_support import SETTINGS, ChatEnv, ask, open_panel, scripted_env  # noqa: F401  (fixture)

QUESTION = "What lifestyle advice could help her?"  # not a data question: the model answers it


def _saved(env: ChatEnv, *, all_rows: bool = False) -> list[h.Message] | list[tuple]:
    """The conversation as stored, read on the workspace's one DuckDB thread."""
    cid = env.assistant.conversations.conversation_id
    if all_rows:
        return env.db.call(lambda store: store.con.execute(
            "SELECT role, content, status, superseded_at IS NOT NULL FROM messages WHERE conversation_id = ? ORDER BY message_id",
            [cid]).fetchall()).result(timeout=30)
    return env.db.call(lambda store: h.active_messages(store, conversation_id=cid)).result(timeout=30)


def test_an_answer_streams_is_saved_and_the_patient_was_warmed_first(qtbot, scripted_env) -> None:
    env, engine = scripted_env
    panel = open_panel(qtbot, env)
    qtbot.waitUntil(lambda: "patient context ready" in panel.model_line.text())
    assert len(engine.warmed) == 1 and engine.warmed[0] > 10  # the system prompt + the patient's facts
    result = ask(qtbot, panel, QUESTION, timeout_ms=30000)
    assert result.status == "complete" and result.text == "".join(f"answer-1-{i} " for i in range(5))
    saved = _saved(env)
    assert [m.role for m in saved] == ["user", "assistant"] and saved[1].content == result.text
    # The prompt starts with exactly the tokens warmed, so llama.cpp reuses them.
    warm_len = engine.warmed[0]
    assert len(engine.prompts[0]) > warm_len
    qtbot.waitUntil(lambda: "answer-1-4" in panel.view.toPlainText())


def test_stop_mid_answer_keeps_the_partial_text(qtbot, scripted_env) -> None:
    env, engine = scripted_env
    engine.pieces, engine.pace_s = 2000, 0.005
    panel = open_panel(qtbot, env)
    panel.input.setPlainText(QUESTION)
    with qtbot.waitSignal(env.assistant.turns.streamFinished, timeout=30000) as done:
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(env.assistant.turns.streaming_text) > 40, timeout=20000)
        assert panel.stop_button.isEnabled()
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    assert result.status == "stopped" and result.stats.completion_tokens < 2000
    assert result.text.startswith(env.assistant.turns.streaming_text[:40])
    saved = _saved(env)[-1]
    assert saved.status == "stopped" and saved.content == result.text
    qtbot.waitUntil(lambda: "stopped" in panel.view.toPlainText())
    assert panel.send_button.isEnabled() and not panel.stop_button.isEnabled()


def test_regenerate_edit_and_export(qtbot, scripted_env, tmp_path: Path, monkeypatch) -> None:
    env, _engine = scripted_env
    panel = open_panel(qtbot, env)
    ask(qtbot, panel, QUESTION, timeout_ms=30000)
    with qtbot.waitSignal(env.assistant.turns.streamFinished, timeout=30000) as regenerated:
        qtbot.mouseClick(panel.regenerate_button, Qt.MouseButton.LeftButton)
    assert regenerated.args[0].text.startswith("answer-2-0")
    qtbot.waitUntil(lambda: len(env.assistant.conversations.messages) == 2 and env.assistant.conversations.messages[1].status == "complete")
    assert env.assistant.conversations.messages[1].content.startswith("answer-2-0")

    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    assert panel.input.toPlainText() == QUESTION
    assert panel.send_button.text() == "Resend edited"
    result = ask(qtbot, panel, "Summarise this patient for a handover.", timeout_ms=30000)
    assert result.status == "complete" and result.text.startswith("answer-3-0")
    qtbot.waitUntil(lambda: [m.content for m in env.assistant.conversations.messages][:1]
                    == ["Summarise this patient for a handover."])
    assert len(env.assistant.conversations.messages) == 2 and panel.send_button.text() == "Send"
    rows = _saved(env, all_rows=True)
    assert [(r[0], r[3]) for r in rows] == [("user", True), ("assistant", True), ("assistant", True),
                                            ("user", False), ("assistant", False)]

    target = tmp_path / "chat.md"
    notices: list[str] = []
    monkeypatch.setattr(QMessageBox, "information",
                        lambda _parent, _title, text, *_a: notices.append(text) or QMessageBox.StandardButton.Cancel)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Markdown (*.md)"))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)  # told it holds patient data: cancelled
    assert "contains patient data" in notices[0] and not target.exists()
    monkeypatch.setattr(QMessageBox, "information", lambda *_a: QMessageBox.StandardButton.Ok)
    with qtbot.waitSignal(panel.exported, timeout=10000) as exported:
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert exported.args == [str(target)]
    qtbot.waitUntil(lambda: "Exported to" in panel.notice.text(), timeout=10000)
    md = target.read_text(encoding="utf-8")
    assert "Summarise this patient for a handover." in md and "answer-3-0" in md
    assert md.count(QUESTION) == 1  # the title only: the question was superseded


def test_a_model_error_is_saved_shown_and_the_panel_lives_on(qtbot, scripted_env) -> None:
    env, engine = scripted_env
    panel = open_panel(qtbot, env)
    engine.fail = "llama_decode returned -3"
    with qtbot.waitSignal(env.assistant.turns.errorRaised, timeout=30000) as err:
        result = ask(qtbot, panel, QUESTION, timeout_ms=30000)
    assert result.status == "failed" and "llama_decode returned -3" in err.args[0]
    assert panel.notice.text() == err.args[0]
    saved = _saved(env)[-1]
    assert saved.role == "assistant" and saved.status == "failed"
    engine.fail = None
    assert panel.send_button.isEnabled()
    assert ask(qtbot, panel, QUESTION, timeout_ms=30000).status == "complete"


def test_an_answer_cut_off_by_a_crash_is_shown_as_interrupted(qtbot, scripted_env) -> None:
    env, _engine = scripted_env

    def crashed(store) -> int:
        conv = h.create_conversation(store, patient_id=env.patient).conversation_id
        h.add_message(store, conversation_id=conv, role="user", content=QUESTION)
        h.add_message(store, conversation_id=conv, role="assistant", content="Ask about her hea",
                      status="generating", model="m")
        return conv

    conv = env.db.call(crashed).result(timeout=30)
    # A new assistant on the same workspace, as the next start of the app builds.
    assert env.assistant.shutdown()
    worker = ModelWorker(db=env.db, load_engine=lambda _path, _role, _settings: _engine)
    env.assistant = ChatAssistant(db=env.db, model_path=Path("scripted.gguf"), settings=SETTINGS, worker=worker)
    qtbot.addWidget(env.assistant.panel)
    qtbot.waitUntil(lambda: env.assistant.model.ready, timeout=30000)
    panel = open_panel(qtbot, env)
    qtbot.waitUntil(lambda: env.assistant.conversations.conversation_id == conv and len(env.assistant.conversations.messages) == 2)
    assert env.assistant.conversations.messages[1].status == "interrupted"
    assert env.assistant.conversations.messages[1].content == "Ask about her hea"  # the text is kept
    qtbot.waitUntil(lambda: "interrupted when the app closed" in panel.view.toPlainText())
    assert ask(qtbot, panel, QUESTION, timeout_ms=30000).status == "complete"  # the conversation goes on


def test_a_question_cancels_warming_and_a_new_patient_replaces_it(qtbot, scripted_env) -> None:
    env, engine = scripted_env
    engine.hold_warm = True  # a warm-up that would take as long as it is allowed to
    panel = open_panel(qtbot, env)
    qtbot.waitUntil(lambda: len(engine.warmed) == 1)
    result = ask(qtbot, panel, QUESTION, timeout_ms=30000)  # queued behind the warm-up, which gives way at once
    assert result.status == "complete" and engine.warm_cancelled == [True]
    env.assistant.set_patient(env.patient)
    qtbot.waitUntil(lambda: len(engine.warmed) == 2)
    env.assistant.set_patient(env.patient)  # selected again: the new warm-up replaces the one in progress
    qtbot.waitUntil(lambda: engine.warm_cancelled == [True, True] and len(engine.warmed) == 3)
    env.assistant.clear_for_lock()  # the lock cancels warming too, and forgets what was shown
    qtbot.waitUntil(lambda: engine.warm_cancelled == [True, True, True] and engine.forgotten == 1)
    assert env.assistant.conversations.patient_id is None and env.assistant.conversations.messages == []
    assert panel.conversation_list.count() == 0 and QUESTION not in panel.view.toPlainText()



def test_no_patient_selected_warms_nothing(qtbot, scripted_env) -> None:
    env, engine = scripted_env
    panel = open_panel(qtbot, env)
    qtbot.waitUntil(lambda: len(engine.warmed) == 1)
    env.assistant.set_patient("")  # what the workspace says when the selection is cleared
    with qtbot.waitSignal(env.assistant.conversations.conversationsChanged, timeout=10000):
        pass
    assert len(engine.warmed) == 1 and env.assistant.model.warm_patient is None
    assert "patient context ready" not in panel.model_line.text()
    assert panel.model_line.text().startswith("scripted.gguf")  # the line still names the loaded model


def test_a_figure_the_record_does_not_hold_is_marked_while_the_answer_streams(qtbot, scripted_env) -> None:
    env, engine = scripted_env
    # Jane Doe's systolic readings are 138, 145 and 152: 999 is nowhere in her record.
    engine.words = "Her systolic pressure was 999 mmHg at the last visit.".split() + ["more"] * 40
    engine.pace_s = 0.05
    panel = open_panel(qtbot, env)
    panel.input.setPlainText(QUESTION)
    with qtbot.waitSignal(env.assistant.turns.streamFinished, timeout=30000) as done:
        with qtbot.waitSignal(env.assistant.turns.streamChecked, timeout=30000) as checked:
            qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
        assert env.assistant.turns.streaming_message_id is not None  # still writing when the mark came
        marks = checked.args[0]
        assert any(m.text == "999" and m.status in ("unverified", "contradicted") for m in marks)
        qtbot.waitUntil(lambda: "#fff3c4" in panel.view.toHtml() or "#ffd6d6" in panel.view.toHtml())
    assert done.args[0].status == "complete"
    saved = _saved(env)[-1]
    assert "999" in saved.content and saved.verdict and '"999"' in saved.verdict  # the saved verdict agrees
