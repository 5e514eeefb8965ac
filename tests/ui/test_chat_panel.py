"""The chat panel driven like a user would: real model, real workspace, offscreen Qt."""

# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from desktop.core.chat import history as h
from desktop.core.chat.session import DISCLAIMER
from desktop.ui.chat.qt_chat_settings import QtChatSettingsDialog
from tests.ui.chat_support import SETTINGS, ChatEnv, ask, chat_env, open_panel  # noqa: F401  (fixture)

DONE = ("complete", "truncated")  # an answer may reach max tokens
REPO = Path(__file__).resolve().parents[2]


def _saved(env: ChatEnv) -> list[h.Message]:
    """The conversation as stored, read on the workspace's one DuckDB thread: the assistant may still be
    verifying the answer there, and a DuckDB connection is not shared across threads."""
    cid = env.assistant.conversations.conversation_id
    return env.db.call(lambda store: h.active_messages(store, conversation_id=cid)).result(timeout=60)


def _forbid(*_a: object, **_k: object) -> None:
    raise AssertionError("network use")


def test_an_answer_streams_into_the_panel_and_is_saved(qtbot, chat_env: ChatEnv, monkeypatch) -> None:
    monkeypatch.setattr(socket, "socket", _forbid)  # the app path stays offline too
    panel = open_panel(qtbot, chat_env)
    assert panel.disclaimer.text() == DISCLAIMER and panel.disclaimer.isVisibleTo(panel)
    pieces: list[str] = []
    chat_env.assistant.turns.streamText.connect(pieces.append)
    result = ask(qtbot, panel, "What lifestyle advice could help her?")
    assert result.status in DONE and result.text.strip()
    assert pieces and "".join(pieces) == result.text
    assert len(pieces) <= result.stats.completion_tokens  # batched by the throttle, never more than tokens
    qtbot.waitUntil(lambda: result.text.strip()[:30] in panel.view.toPlainText())
    assert "What lifestyle advice could help her?" in panel.view.toPlainText()
    assert "tokens/s" in panel.stats.text() and "first token" in panel.stats.text()
    assert 0 < panel.meter.value() <= SETTINGS.n_ctx
    assert panel.conversation_list.count() == 1
    saved = _saved(chat_env)
    assert [m.role for m in saved] == ["user", "assistant"] and saved[1].content == result.text
    # The model read the patient's facts: the summary went into the prompt.
    assert "152 mm[Hg]" in result.plan.text


def test_a_corrupt_model_is_an_error_and_the_app_lives_on(qtbot, chat_env: ChatEnv, tmp_path: Path) -> None:
    panel = open_panel(qtbot, chat_env)
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    with qtbot.waitSignal(chat_env.assistant.model.errorRaised, timeout=60000) as err:
        chat_env.assistant.model.load(bad)
    assert "broken.gguf" in err.args[0]
    assert panel.notice.text() == err.args[0] and not panel.send_button.isEnabled()
    from desktop.core.llm.model_files import default_model_path

    chat_env.assistant.model.load(default_model_path())
    qtbot.waitUntil(lambda: panel.send_button.isEnabled(), timeout=60000)
    assert ask(qtbot, panel, "Hello").status in DONE


def test_history_shows_again_after_a_restart(qtbot, chat_env: ChatEnv) -> None:
    panel = open_panel(qtbot, chat_env)
    answer = ask(qtbot, panel, "What lifestyle advice could help her?").text
    # Close everything, as quitting the app does, then start again on the same file.
    assert chat_env.assistant.shutdown()
    chat_env.db.shutdown()
    from desktop.core.llm.model_files import default_model_path
    from desktop.core.workspace.executor import WorkspaceExecutor
    from desktop.core.workspace.store import open_store
    from desktop.ui.chat.chat_assistant import ChatAssistant

    chat_env.db = WorkspaceExecutor(open_store(chat_env.workspace))
    chat_env.assistant = ChatAssistant(db=chat_env.db, model_path=default_model_path(), settings=SETTINGS)
    qtbot.addWidget(chat_env.assistant.panel)
    again = open_panel(qtbot, chat_env)
    qtbot.waitUntil(lambda: answer.strip()[:30] in again.view.toPlainText(), timeout=10000)
    assert "What lifestyle advice could help her?" in again.view.toPlainText()
    assert again.conversation_list.count() == 1


def test_settings_dialog_round_trips(qtbot) -> None:
    dialog = QtChatSettingsDialog(SETTINGS)
    qtbot.addWidget(dialog)
    assert dialog.value() == SETTINGS
    dialog.temperature.setValue(0.7)
    dialog.max_tokens.setValue(256)
    assert dialog.value() == SETTINGS.__class__(n_threads=1, n_ctx=2048, temperature=0.7, top_p=SETTINGS.top_p,
                                                max_tokens=256)


def test_the_preview_runs_on_its_own() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", VITALSIGHT_PREVIEW_QUIT_MS="1500")
    proc = subprocess.run([sys.executable, "-m", "desktop.ui.dev.chat_preview", "panel"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_model_manager_lists_imports_and_switches(qtbot, chat_env: ChatEnv, tmp_path: Path) -> None:
    from desktop.core.llm.model_files import default_model_path
    from desktop.ui.chat.qt_model_manager import QtModelManager

    panel = open_panel(qtbot, chat_env)
    dialog = QtModelManager(chat_env.assistant.model, panel)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() >= 1, timeout=30000)
    row = [dialog.table.item(0, c).text() for c in range(dialog.table.columnCount())]
    assert row[0].startswith(default_model_path().name) and "in use" in row[0]
    assert row[2:5] == ["Q4_1", "8192", "yes"] and row[-1] == "ok"

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model at all")
    dialog.import_gguf(broken)
    qtbot.waitUntil(lambda: "not a GGUF file" in dialog.status.text(), timeout=30000)
    assert dialog.import_button.isEnabled()

    copy = tmp_path / "copy-of-default.gguf"
    copy.write_bytes(default_model_path().read_bytes())
    dialog.import_gguf(copy)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Imported"), timeout=60000)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=30000)
    names = [dialog.table.item(r, 0).text() for r in range(2)]
    dialog.table.selectRow(names.index("copy-of-default.gguf"))
    dialog.use_button.click()
    qtbot.waitUntil(lambda: chat_env.assistant.model.ready, timeout=60000)
    assert chat_env.assistant.model.model_path.name == "copy-of-default.gguf"
    assert "copy-of-default.gguf" in panel.model_line.text()


def test_a_data_question_is_computed_saved_and_shows_how(qtbot, chat_env: ChatEnv) -> None:
    panel = open_panel(qtbot, chat_env)
    panel.input.setPlainText("What is the highest systolic blood pressure?")
    with qtbot.waitSignal(chat_env.assistant.turns.answerComputed, timeout=20000) as done:
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    answer = done.args[0]
    assert answer.computed and answer.facts[0].value == 152.0  # Jane Doe's three visits: 138, 145, 152
    qtbot.waitUntil(lambda: "computed from the record" in panel.view.toPlainText())
    text = panel.view.toPlainText()
    assert "152 mm[Hg]" in text and "How this was computed" in text and "SELECT" in text
    saved = _saved(chat_env)
    assert [m.role for m in saved] == ["user", "assistant"] and saved[1].content == answer.text
    assert chat_env.assistant.turns.streaming_message_id is None  # no model ran


def test_with_no_patient_the_panel_answers_about_the_workspace(qtbot, chat_env: ChatEnv) -> None:
    panel = open_panel(qtbot, chat_env)
    chat_env.assistant.set_patient(None)
    panel.input.setPlainText("How many patients have hypertension?")
    with qtbot.waitSignal(chat_env.assistant.turns.answerComputed, timeout=20000) as done:
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    assert done.args[0].plan.subject == "workspace" and done.args[0].facts[0].value == 1.0
    qtbot.waitUntil(lambda: "How this was computed" in panel.view.toPlainText())


def test_a_question_the_parser_is_unsure_of_is_planned_by_the_model_first(qtbot, chat_env: ChatEnv) -> None:
    """The exact parser reads "systolic" but not "gone": the model plans it under the grammar on its thread,
    and whatever it decides, the answer shown is computed by DuckDB and says who planned it."""
    panel = open_panel(qtbot, chat_env)
    panel.input.setPlainText("How high has her systolic ever gone?")
    with qtbot.waitSignal(chat_env.worker.planned, timeout=120000) as planned, \
            qtbot.waitSignal(chat_env.assistant.turns.answerComputed, timeout=120000) as computed:
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    outcome, answer = planned.args[1], computed.args[0]
    assert outcome.reply or outcome.reason  # the model answered under the grammar, or said why not
    assert answer.computed and answer.planner in ("model", "parser_unsure")
    assert answer.text.startswith(("Planned by the on-device model", "Check the plan"))  # marked either way
    assert answer.model_plan is not None
    saved = _saved(chat_env)
    assert [m.role for m in saved] == ["user", "assistant"] and saved[1].content == answer.text
    assert chat_env.assistant.turns.streaming_message_id is None and not chat_env.assistant.turns.busy


def test_a_long_status_line_wraps_instead_of_widening_the_dock(qtbot, chat_env: ChatEnv) -> None:
    # At 1366x768 a one-line status of ~100 characters pushed the dock wider and cut the patient list.
    panel = open_panel(qtbot, chat_env)
    panel.stats.setText("The on-device model planned the question in 1.0 s (its plan was used); computed from the "
                        "workspace")
    panel.stats.adjustSize()
    assert panel.stats.minimumSizeHint().width() < 300
