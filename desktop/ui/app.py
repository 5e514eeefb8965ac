"""Start the window: ``python -m desktop gui [--workspace W]`` calls :func:`run_app`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from desktop.ui.qt_settings import APPLICATION, ORGANIZATION, save_settings

if TYPE_CHECKING:
    from desktop.core.chat.session import ChatSettings
    from desktop.ui.chat.chat_assistant import ChatAssistant
    from desktop.ui.qt_main_window import QtMainWindow


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Vitalsight")
    return app


def attach_assistant(window: QtMainWindow) -> ChatAssistant | None:
    """Put the on-device chat in the window's Assistant dock, following the selected patient.

    Returns None (and the dock says why) when llama.cpp cannot be loaded on this machine: the rest
    of the app works without it.
    """
    try:
        from desktop.ui.chat.chat_assistant import ChatAssistant
    except ImportError as exc:  # llama-cpp-python missing or its native library unloadable
        logging.getLogger(__name__).warning("assistant unavailable: %s", exc)
        return None
    from desktop.ui.chat.chat_assistant import chat_settings_from, store_chat_settings

    assistant = ChatAssistant(db=window.workspace.executor, settings=chat_settings_from(window.settings),
                              parent=window)

    def persist(chat: ChatSettings) -> None:  # what the user sets in the chat dialog survives a restart
        store_chat_settings(window.settings, chat)
        save_settings(window.settings)
        window.security.record_setting("assistant settings", "changed")

    def persist_fold(collapsed: bool) -> None:  # a folded dock stays folded next time
        window.settings.assistant_collapsed = int(collapsed)
        save_settings(window.settings)

    assistant.model.settingsChanged.connect(persist)
    window.set_assistant_widget(assistant.panel)
    assistant.panel.collapse.set_collapsed(bool(window.settings.assistant_collapsed))
    assistant.panel.collapse.collapsedChanged.connect(persist_fold)
    # Answers a crash left half-written in a workspace are marked interrupted when it opens.
    window.workspace.opened.connect(lambda _path: assistant.recover_interrupted())
    # The workspace owns the current patient; the chat follows it (and starts on it, if one is chosen).
    window.workspace.patient_selected.connect(assistant.set_patient)
    if window.workspace.patient_id:
        assistant.set_patient(window.workspace.patient_id)
    # Each question is audited (who asked about which patient, never the text) by ask_turn itself, in core.
    assistant.panel.exported.connect(lambda path: window.security.trail.record(
        "data_exported", patient_id=assistant.conversations.patient_id or None,
        detail=f"conversation {assistant.conversations.conversation_id}, to {path}"))
    # Locking empties the panel and the model's KV cache; unlocking shows the patient's conversation again.
    lock = window.security.lock
    lock.locked.connect(assistant.clear_for_lock)
    lock.unlocked.connect(lambda: assistant.set_patient(window.workspace.patient_id))
    return assistant


def run_app(workspace: str | None = None) -> int:
    """Open the window on ``workspace`` (else the last one used) and run until it closes."""
    from desktop.ui.qt_errors import install_private_logging

    install_private_logging()
    app = create_app()
    from desktop.ui.qt_main_window import QtMainWindow

    window = QtMainWindow()
    assistant = attach_assistant(window)
    window.show()
    # A workspace named on the command line is created if missing; the remembered one only if it exists
    # (a moved or deleted file must not come back as a new, empty workspace).
    if workspace and not Path(workspace).exists():
        window.workspace.create(workspace, passphrase=None)   # asked for by name: the one place besides File > New
    elif workspace:
        window.open_workspace(workspace)
    elif window.settings.last_workspace and Path(window.settings.last_workspace).exists():
        window.open_workspace(window.settings.last_workspace)
    # Stop the model between tokens (its partial answer is saved through the database thread), then
    # drain the database thread, all before Qt tears the widgets down.
    if assistant is not None:
        app.aboutToQuit.connect(assistant.shutdown)
    app.aboutToQuit.connect(window.shutdown)
    code = int(app.exec())
    from desktop.ui.teardown import dispose

    dispose(window)
    return code
