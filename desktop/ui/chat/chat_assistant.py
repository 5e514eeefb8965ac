"""The chat, assembled: model owner thread, its three parts and the panel, built and shut down in one place.

The parts, one per concern, all on the GUI thread:

* :class:`~desktop.ui.chat.conversations.Conversations`: the subject, the list, the open conversation, export;
* :class:`~desktop.ui.chat.turn_control.TurnControl`: a turn (computed by DuckDB or written by the model) and
  its stream;
* :class:`~desktop.ui.chat.model_control.ChatModel`: the loaded model, its settings, model files, and warming
  the KV cache for the selected patient.

The panel connects to the parts' own signals. Workspace calls go to the one DuckDB thread and come back on
the GUI thread through the window's one door (``op``, via ``Calls``); the model runs on the
:class:`ModelWorker` thread. The main window needs three lines::

    assistant = ChatAssistant(db=executor)                # the window's DbExecutor (or a WorkspaceExecutor)
    window.set_assistant_widget(assistant.panel)
    window.workspace.patient_selected.connect(assistant.set_patient)  # the patient's one owner

and ``assistant.shutdown()`` at ``aboutToQuit``, *before* the database executor shuts down: Stop takes
effect between tokens and the last answer is saved through ``db``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.core.chat import history as h
from desktop.core.chat.db import DbCalls
from desktop.core.chat.session import ChatSettings
from desktop.core.llm.model_files import default_model_path
from desktop.core.settings import AppSettings
from desktop.ui.chat.calls import Calls
from desktop.ui.chat.conversations import Conversations
from desktop.ui.chat.model_control import ChatModel
from desktop.ui.chat.model_worker import ModelWorker
from desktop.ui.chat.qt_chat_panel import QtChatPanel
from desktop.ui.chat.turn_control import TurnControl
from desktop.ui.executor import DbExecutor


class ChatAssistant:
    def __init__(self, *, db: DbCalls, model_path: Path | None = None, settings: ChatSettings | None = None,
                 parent: QWidget | None = None, worker: ModelWorker | None = None) -> None:
        """``worker``: a model owner not yet started, built by the caller (tests give it a scripted engine);
        by default one that loads GGUF files with llama.cpp."""
        # The window's one door to the DuckDB thread (op, callbacks on the GUI thread); an assistant given a
        # bare WorkspaceExecutor (previews, tests) puts the same door in front of it, and closes it.
        self._own_door = None if isinstance(db, DbExecutor) else DbExecutor(workspace=db)  # type: ignore[arg-type]
        door = db if isinstance(db, DbExecutor) else self._own_door
        assert door is not None
        self.worker = worker or ModelWorker(db=db)
        self.worker.start()
        # A workspace call's error with no handler of its own is shown as the conversations' error.
        calls = Calls(db=door, on_error=lambda message: self.conversations.errorRaised.emit(message))
        self.conversations = Conversations(calls)
        self.model = ChatModel(worker=self.worker, calls=calls, model_path=model_path or default_model_path(),
                               settings=settings)
        self.turns = TurnControl(worker=self.worker, conversations=self.conversations, model=self.model)
        self._calls = calls
        if door.store is not None:  # a workspace already open (previews, tests); the window calls it on open
            self.recover_interrupted()
        self.model.load()
        self.panel = QtChatPanel(conversations=self.conversations, turns=self.turns, model=self.model,
                                 parent=parent)

    def recover_interrupted(self) -> None:
        """Mark the answers a crash or a kill left half-written in the open workspace as interrupted (their
        text is kept). Called when a workspace opens: the window builds the assistant before any is open, and
        asking then only put "no workspace is open" under the chat."""
        self._calls.db_call(h.recover_interrupted)

    def set_patient(self, patient_id: str | None) -> None:
        """The workspace's current patient changed: stop any answer, show their conversations, warm the
        model for them in the background."""
        if self.turns.busy:
            self.turns.stop()
        self.conversations.set_patient(patient_id)
        self.model.warm_for(patient_id)

    def clear_for_lock(self) -> None:
        """The workspace is being locked: stop the answer (it is saved as far as it got), drop the warmed
        patient and forget what the panel shows, without reading the workspace again."""
        self.turns.stop()
        self.model.warm_for(None)
        self.model.forget_context()
        self.conversations.clear()

    def shutdown(self, warn_after_ms: int = 10000) -> bool:
        """Stop the answer being written (it is saved as far as it got), end the model thread (waiting for a
        model load in progress: one cannot be cut short), close the door this assistant opened."""
        ok = self.worker.shutdown(warn_after_ms)
        if self._own_door is not None:  # the window's door (and its executor) are the window's to shut down
            self._own_door.tasks.shutdown()
            self._own_door = None
        return ok


def chat_settings_from(app: AppSettings) -> ChatSettings:
    """The chat settings saved in the app's settings; unset or invalid fields (a hand-edited file) take
    the defaults, so a damaged settings file never stops the chat from loading."""
    d = ChatSettings()
    chosen = ChatSettings(
        n_threads=app.chat_threads or d.n_threads, n_ctx=app.chat_ctx or d.n_ctx,
        temperature=app.chat_temperature if app.chat_temperature >= 0 else d.temperature,
        top_p=app.chat_top_p or d.top_p, max_tokens=app.chat_max_tokens or d.max_tokens,
        use_adapter=app.chat_use_adapter)
    return d if chosen.problems() else chosen


def store_chat_settings(app: AppSettings, chat: ChatSettings) -> None:
    app.chat_threads, app.chat_ctx, app.chat_max_tokens = chat.n_threads, chat.n_ctx, chat.max_tokens
    app.chat_temperature, app.chat_top_p = chat.temperature, chat.top_p
    app.chat_use_adapter = chat.use_adapter
