"""The chat, assembled: model owner thread, controller and panel, built and shut down in one place.

The main window needs three lines::

    assistant = ChatAssistant(db=executor)                # anything with call(fn(store)) -> Future
    window.set_assistant_widget(assistant.panel)
    window.workspace.patient_selected.connect(assistant.controller.set_patient)  # the patient's one owner

and ``assistant.shutdown()`` at ``aboutToQuit``, *before* the database executor shuts down: Stop takes
effect between tokens and the last answer is saved through ``db``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.core.chat.db import DbCalls
from desktop.core.chat.session import ChatSettings
from desktop.core.llm.model_files import default_model_path
from desktop.core.settings import AppSettings
from desktop.ui.chat.chat_controller import ChatController
from desktop.ui.chat.model_worker import ModelWorker
from desktop.ui.chat.qt_chat_panel import QtChatPanel


class ChatAssistant:
    def __init__(self, *, db: DbCalls, model_path: Path | None = None, settings: ChatSettings | None = None,
                 parent: QWidget | None = None, tasks: object = None) -> None:
        # ``tasks`` is no longer used (the chat reaches the workspace through ``db``'s own door, op());
        # accepted until desktop/ui/app.py stops passing it.
        del tasks
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
