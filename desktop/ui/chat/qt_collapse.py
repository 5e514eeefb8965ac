"""Folding the assistant's dock to a narrow strip, for small screens (issue 14: at 1366x768 the dock took
too much width from the plots). The panel stays the dock's widget and keeps its state; only its content is
hidden and its width capped. The window puts :attr:`DockCollapse.action` in its View menu (Ctrl+Shift+A) and
remembers the state in its settings (``AppSettings.assistant_collapsed``)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSizePolicy, QToolButton, QWidget

QWIDGETSIZE_MAX = (1 << 24) - 1
STRIP_WIDTH = 34
MIN_OPEN_WIDTH = 340  # a readable chat column (see QtMainWindow.set_assistant_widget)


class DockCollapse(QObject):
    collapsedChanged = Signal(bool)

    def __init__(self, host: QWidget, content: QWidget) -> None:
        super().__init__(host)
        self._host = host
        self._content = content
        self._open_width = 0
        self.button = QToolButton()
        self.button.setText("»")
        self.button.setToolTip("Fold the assistant to a narrow strip (Ctrl+Shift+A)")
        self.button.setAutoRaise(True)
        # A vertical label, one letter a line: a strip 34 pixels wide still says what it opens.
        self.strip = QToolButton()
        self.strip.setText("«\n\n" + "\n".join("Assistant"))
        self.strip.setToolTip("Show the assistant (Ctrl+Shift+A)")
        self.strip.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.strip.setFixedWidth(STRIP_WIDTH - 6)
        self.strip.hide()
        self.action = QAction("Fold the assistant to a strip", host)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.action.toggled.connect(self._apply)
        self.button.clicked.connect(lambda: self.action.setChecked(True))
        self.strip.clicked.connect(lambda: self.action.setChecked(False))

    @property
    def collapsed(self) -> bool:
        return self.action.isChecked()

    def set_collapsed(self, collapsed: bool) -> None:
        self.action.setChecked(collapsed)  # toggled -> _apply, only when it changes

    def _dock(self) -> QDockWidget | None:
        parent = self._host.parentWidget()
        return parent if isinstance(parent, QDockWidget) else None

    def _apply(self, collapsed: bool) -> None:
        dock = self._dock()
        if collapsed:
            self._open_width = (dock or self._host).width()
        self._content.setVisible(not collapsed)
        self.strip.setVisible(collapsed)
        self._host.setMaximumWidth(STRIP_WIDTH if collapsed else QWIDGETSIZE_MAX)
        window = self._host.window()
        if not collapsed and dock is not None and isinstance(window, QMainWindow):
            width = max(self._open_width, MIN_OPEN_WIDTH)
            # The dock takes its new size once the layout has seen the raised maximum: after this event.
            QTimer.singleShot(0, lambda: window.resizeDocks([dock], [width], Qt.Orientation.Horizontal))
        self.collapsedChanged.emit(collapsed)
