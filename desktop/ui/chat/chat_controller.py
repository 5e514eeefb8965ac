"""The chat panel's controller: three parts, one per concern, behind the names the panel uses.

* :class:`~desktop.ui.chat.conversations.Conversations`: the subject, the list, the open conversation,
  export;
* :class:`~desktop.ui.chat.turn_control.TurnControl`: a turn (computed by DuckDB or written by the model)
  and its stream;
* :class:`~desktop.ui.chat.model_control.ChatModel`: the loaded model, its settings, model files, and
  warming the KV cache for the selected patient.

Everything here runs on the GUI thread. Workspace calls go to the one DuckDB thread and their results come
back on the GUI thread through the window's one door (``op``, via ``Calls``); the model runs on the :class:`ModelWorker` thread.
The parts' signals are this object's signals (the same signal objects), so a view connects to one place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.assistant.verify import Span
from desktop.core.chat import history as h
from desktop.core.chat.db import DbCalls
from desktop.core.chat.session import ChatSettings
from desktop.core.llm.model_files import ModelEntry
from desktop.ui.chat.calls import Calls
from desktop.ui.chat.conversations import Conversations
from desktop.ui.chat.model_control import ChatModel
from desktop.ui.chat.model_worker import ModelWorker
from desktop.ui.chat.turn_control import TurnControl
from desktop.ui.executor import DbExecutor


class ChatController(QObject):
    errorRaised = Signal(str)             # from any part: a message for the panel's notice line

    def __init__(self, *, worker: ModelWorker, db: DbCalls, model_path: Path, settings: ChatSettings | None = None) -> None:
        super().__init__()
        # The window's one door to the DuckDB thread (op, callbacks on the GUI thread); a controller given a
        # bare WorkspaceExecutor (previews, tests) puts the same door in front of it.
        self._owns_door = not isinstance(db, DbExecutor)
        self._door = db if isinstance(db, DbExecutor) else DbExecutor(workspace=db, parent=self)  # type: ignore[arg-type]
        calls = Calls(db=self._door, on_error=self.errorRaised.emit)
        self.model = ChatModel(worker=worker, calls=calls, model_path=model_path, settings=settings)
        self.conversations = Conversations(calls)
        self.turns = TurnControl(worker=worker, conversations=self.conversations, model=self.model)
        for part in (self.model, self.conversations, self.turns):
            part.errorRaised.connect(self.errorRaised)
        # Re-exported signals: the parts' own signal objects.
        self.conversationsChanged = self.conversations.conversationsChanged
        self.conversationSelected = self.conversations.conversationSelected
        self.messagesChanged = self.conversations.messagesChanged
        self.streamStarted = self.turns.streamStarted
        self.streamText = self.turns.streamText
        self.streamChecked = self.turns.streamChecked
        self.streamFinished = self.turns.streamFinished
        self.busyChanged = self.turns.busyChanged
        self.contextChanged = self.turns.contextChanged
        self.statsChanged = self.turns.statsChanged
        self.answerComputed = self.turns.answerComputed
        self.questionAsked = self.turns.questionAsked
        self.modelChanged = self.model.modelChanged
        self.settingsChanged = self.model.settingsChanged
        # The buttons follow the model's readiness as well as the turn's.
        self.model.readyChanged.connect(lambda _ready: self.turns.busyChanged.emit(self.turns.busy))
        calls.db_call(h.recover_interrupted)
        self.model.load()

    # -- state the panel reads -------------------------------------------------------------------------
    @property
    def settings(self) -> ChatSettings:
        return self.model.settings

    @property
    def model_path(self) -> Path:
        return self.model.model_path

    @property
    def model_ready(self) -> bool:
        return self.model.ready

    @property
    def busy(self) -> bool:
        return self.turns.busy

    @property
    def patient_id(self) -> str | None:
        return self.conversations.patient_id

    @property
    def conversation_id(self) -> int | None:
        return self.conversations.conversation_id

    @property
    def messages(self) -> list[h.Message]:
        return self.conversations.messages

    @property
    def streaming_message_id(self) -> int | None:
        return self.turns.streaming_message_id

    @property
    def streaming_text(self) -> str:
        return self.turns.streaming_text

    @property
    def streaming_marks(self) -> list[Span]:
        return self.turns.streaming_marks

    # -- actions ---------------------------------------------------------------------------------------
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

    def load_model(self, path: Path | None = None) -> None:
        self.model.load(path)

    def apply_settings(self, settings: ChatSettings) -> None:
        self.model.apply_settings(settings)

    def send(self, text: str) -> None:
        self.turns.send(text)

    def regenerate(self) -> None:
        self.turns.regenerate()

    def edit_and_resend(self, message_id: int, text: str) -> None:
        self.turns.edit_and_resend(message_id, text)

    def stop(self) -> None:
        self.turns.stop()

    def new_conversation(self) -> None:
        self.conversations.new()

    def select_conversation(self, conversation_id: int | None) -> None:
        self.conversations.select(conversation_id)

    def last_user_message(self) -> h.Message | None:
        return self.conversations.last_user_message()

    def export_markdown(self, path: Path, on_saved: Callable[[Path], None] | None = None) -> None:
        self.conversations.export_markdown(path, on_saved)

    def list_models(self, on_done: Callable[[list[ModelEntry]], None]) -> None:
        self.model.list_models(on_done)

    def import_model(self, path: Path, on_done: Callable[[ModelEntry], None],
                     on_error: Callable[[str], None] | None = None) -> None:
        self.model.import_model(path, on_done, on_error)

    def close(self) -> None:
        if self._owns_door:  # the workspace executor is its owner's to shut down; the relay's pool is ours
            self._door.tasks.shutdown()
