"""The assistant dock folds to a narrow strip (small screens), from its own button or the View menu, and
stays folded across a restart; open at its narrowest (340 px) nothing in it is cut."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt, QThreadPool
from PySide6.QtWidgets import QApplication

from desktop.core.settings import AppSettings
from desktop.ui.app import attach_assistant
from desktop.ui.chat.qt_collapse import MIN_OPEN_WIDTH, STRIP_WIDTH
from desktop.ui.qt_main_window import DOCK_MIN_WIDTH, QtMainWindow
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


def test_at_340_pixels_every_button_and_the_model_line_fit_in_the_dock(qtbot, make_workspace) -> None:
    """A 1366-pixel laptop with the dock at its narrowest: the model line wraps, the button rows reflow."""
    window = _window(qtbot, make_workspace, AppSettings())
    assistant = attach_assistant(window)
    assert assistant is not None
    try:
        window.show()
        qtbot.waitExposed(window)
        panel, dock = assistant.panel, window.assistant_dock
        qtbot.waitUntil(lambda: assistant.model.ready, timeout=60000)
        assert "loaded in" in panel.model_line.text()  # the long line, as a clinician sees it
        window.resizeDocks([dock], [DOCK_MIN_WIDTH], Qt.Orientation.Horizontal)
        qtbot.waitUntil(lambda: dock.width() <= DOCK_MIN_WIDTH + 12, timeout=3000)
        QApplication.processEvents()
        assert panel.minimumSizeHint().width() <= DOCK_MIN_WIDTH
        line = panel.model_line
        assert line.minimumSizeHint().width() <= DOCK_MIN_WIDTH
        assert line.height() >= line.heightForWidth(line.width())  # wrapped onto lines it has room for
        inside = dock.rect()
        buttons = [panel.send_button, panel.stop_button, panel.regenerate_button, panel.edit_button,
                   panel.export_button, panel.models_button, panel.settings_button]
        boxes = []
        for widget in [line, *buttons]:
            assert widget.isVisible(), widget.text()
            box = QRect(widget.mapTo(dock, QPoint(0, 0)), widget.size())
            assert inside.contains(box), (widget.text(), box, inside)
            if widget in buttons:
                assert widget.width() >= widget.sizeHint().width(), widget.text()  # the label is not cut
                boxes.append(box)
        assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        # The rows wrapped: at this width the four answer buttons cannot share one line.
        assert len({b.y() for b in boxes[:4]}) >= 2
    finally:
        assert assistant.shutdown()
        window.workspace.shutdown()
