"""The chat, assembled: model owner thread, controller and panel, built and shut down in one place.

The main window needs three lines::

    assistant = ChatAssistant(db=executor)                # anything with call(fn(store)) -> Future
    window.set_assistant_widget(assistant.panel)
    window.patient_selected.connect(assistant.controller.set_patient)

and ``assistant.shutdown()`` at ``aboutToQuit``, *before* the database executor shuts down: Stop takes
effect between tokens and the last answer is saved through ``db``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.core.chat.db import DbCalls
from desktop.core.chat.session import ChatSettings
from desktop.core.llm.model_files import default_model_path
from desktop.ui.chat.chat_controller import ChatController
from desktop.ui.chat.model_worker import ModelWorker
from desktop.ui.chat.qt_chat_panel import QtChatPanel


class ChatAssistant:
    def __init__(self, *, db: DbCalls, model_path: Path | None = None, settings: ChatSettings | None = None,
                 parent: QWidget | None = None) -> None:
        self.worker = ModelWorker(db=db)
        self.worker.start()
        self.controller = ChatController(worker=self.worker, db=db, model_path=model_path or default_model_path(),
                                         settings=settings)
        self.panel = QtChatPanel(self.controller, parent)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the answer being written (it is saved as far as it got), end the model thread."""
        ok = self.worker.shutdown(timeout_ms)
        self.controller.close()
        return ok
