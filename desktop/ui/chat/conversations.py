"""Which conversations the chat shows, which one is open and its messages, as last read from the workspace.
Holds ids and messages only; every change is written by core functions on the DuckDB thread and read back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.chat import history as h
from desktop.core.chat.export import conversation_markdown
from desktop.core.chat.turn import WORKSPACE_SUBJECT
from desktop.core.workspace.store import Store
from desktop.ui.chat.calls import Calls


class Conversations(QObject):
    conversationsChanged = Signal(list)   # [Conversation] about the current subject
    conversationSelected = Signal(object) # conversation id or None
    messagesChanged = Signal(list)        # [Message], the open conversation
    errorRaised = Signal(str)

    def __init__(self, calls: Calls) -> None:
        super().__init__()
        self._calls = calls
        self.patient_id: str | None = None
        self.conversation_id: int | None = None
        self.messages: list[h.Message] = []

    @property
    def subject(self) -> str:
        """No patient selected: the conversations about the workspace."""
        return self.patient_id or WORKSPACE_SUBJECT

    def set_patient(self, patient_id: str | None) -> None:
        self.patient_id = patient_id
        self.conversation_id = None
        self.conversationSelected.emit(None)
        self.messages = []
        self.messagesChanged.emit([])
        self.refresh(select_first=True)

    def refresh(self, *, select_first: bool = False) -> None:
        subject = self.subject

        def shown(convs: list[h.Conversation]) -> None:
            if subject != self.subject:
                return  # another patient was selected meanwhile
            self.conversationsChanged.emit(convs)
            if select_first and convs and self.conversation_id is None:
                self.select(convs[0].conversation_id)

        self._calls.db_call(lambda store: h.list_conversations(store, patient_id=subject), shown)

    def new(self) -> None:
        subject = self.subject

        def created(conv: h.Conversation) -> None:
            self.refresh()
            self.select(conv.conversation_id)

        self._calls.db_call(lambda store: h.create_conversation(store, patient_id=subject), created)

    def select(self, conversation_id: int | None) -> None:
        self.conversation_id = conversation_id
        self.conversationSelected.emit(conversation_id)
        self.reload()

    def follow(self, conversation_id: int, then: Callable[[], None] | None = None) -> None:
        """A turn wrote into ``conversation_id`` (perhaps one it created): show it and the list again."""
        if conversation_id != self.conversation_id:
            self.conversation_id = conversation_id
            self.conversationSelected.emit(conversation_id)
        self.refresh()
        self.reload(then)

    def clear(self) -> None:
        """Forget what is shown without reading the workspace (it may be locked or closing)."""
        self.patient_id = None
        self.conversation_id = None
        self.messages = []
        self.conversationSelected.emit(None)
        self.messagesChanged.emit([])
        self.conversationsChanged.emit([])

    def reload(self, then: Callable[[], None] | None = None) -> None:
        cid = self.conversation_id
        if cid is None:
            self.messages = []
            self.messagesChanged.emit([])
            return

        def show(msgs: list[h.Message]) -> None:
            if cid == self.conversation_id:
                self.messages = msgs
                self.messagesChanged.emit(msgs)
                if then is not None:
                    then()

        self._calls.db_call(lambda store: h.active_messages(store, conversation_id=cid), show)

    def last_user_message(self) -> h.Message | None:
        return next((m for m in reversed(self.messages) if m.role == "user"), None)

    def export_markdown(self, path: Path, on_saved: Callable[[Path], None] | None = None) -> None:
        cid = self.conversation_id
        if cid is None:
            self.errorRaised.emit("No conversation to export.")
            return

        def write(store: Store) -> Path:
            Path(path).write_text(conversation_markdown(store, conversation_id=cid), encoding="utf-8")
            return Path(path)

        self._calls.db_call(write, on_saved)
