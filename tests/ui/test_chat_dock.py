"""The assistant dock folds to a narrow strip (small screens), from its own button or the View menu, and
stays folded across a restart."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool

from desktop.core.settings import AppSettings
from desktop.ui.app import attach_assistant
from desktop.ui.chat.qt_collapse import MIN_OPEN_WIDTH, STRIP_WIDTH
from desktop.ui.qt_main_window import QtMainWindow
from desktop.ui.qt_settings import load_settings, save_settings


def _window(qtbot, make_workspace, settings: AppSettings) -> QtMainWindow:
    window = QtMainWindow(make_workspace(None), settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    return window


def test_the_dock_folds_to_a_strip_and_opens_again(qtbot, make_workspace) -> None:
    window = _window(qtbot, make_workspace, AppSettings())
    assistant = attach_assistant(window)
    assert assistant is not None
    try:
        window.show()
        qtbot.waitExposed(window)
        panel, dock = assistant.panel, window.assistant_dock
        fold = panel.collapse.action
        assert fold in window.view_menu.actions() and fold.shortcut().toString() == "Ctrl+Shift+A"
        qtbot.waitUntil(lambda: dock.width() >= MIN_OPEN_WIDTH)
        panel.collapse.button.click()
        qtbot.waitUntil(lambda: dock.width() <= STRIP_WIDTH + 40)
        assert fold.isChecked() and panel.collapse.strip.isVisible() and not panel.send_button.isVisible()
        assert load_settings().assistant_collapsed == 1  # remembered at once
        fold.trigger()  # the View menu entry opens it again
        qtbot.waitUntil(lambda: dock.width() >= MIN_OPEN_WIDTH)
        assert panel.send_button.isVisible() and not panel.collapse.strip.isVisible()
        assert load_settings().assistant_collapsed == 0
    finally:
        assert assistant.shutdown()
        window.workspace.shutdown()


def test_a_folded_dock_stays_folded_after_a_restart(qtbot, make_workspace) -> None:
    settings = AppSettings(assistant_collapsed=1)
    save_settings(settings)
    window = _window(qtbot, make_workspace, load_settings())
    assistant = attach_assistant(window)
    assert assistant is not None
    try:
        window.show()
        qtbot.waitExposed(window)
        assert assistant.panel.collapse.collapsed
        qtbot.waitUntil(lambda: window.assistant_dock.width() <= STRIP_WIDTH + 40)
        assert window.width() - window.assistant_dock.width() >= 1366 - STRIP_WIDTH - 40  # the plots get the room
    finally:
        assert assistant.shutdown()
        window.workspace.shutdown()
    assert QThreadPool.globalInstance().activeThreadCount() == 0
