"""The lock screen: after an idle time (AppSettings.auto_lock_minutes) or on Ctrl+L, every patient view
and the assistant dock are hidden behind it until the passphrase is given again.

On lock the window forgets the workspace key (store.forget_workspace_key), the chat empties its panel
and the model's KV cache (ChatAssistant.clear_for_lock, through the ``locked`` signal), and open
dialogs are hidden. Background work goes on: an import finishes into the workspace (its connection
stays open) and an answer being written is stopped and saved as far as it came, so nothing is lost.
A plaintext workspace locks too; unlocking it only confirms the OS user, and the screen says so.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.workspace.crypto import unlock_workspace
from desktop.core.workspace.keyslot import is_encrypted_workspace
from desktop.core.workspace.store import forget_workspace_key
from desktop.ui.security.passphrase_dialogs import WEAK_STYLE, check_in_background, password_field
from desktop.ui.taskman import TaskManager

#: a QAction property: the action stays usable while the window is locked (Quit, Lock)
AVAILABLE_WHEN_LOCKED = "available_when_locked"

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "this computer's user"


class IdleWatcher(QObject):
    """An app-wide event filter: any keyboard or mouse input restarts the idle timer; ``idle`` fires when
    it runs out."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle)
        self.set_timeout_ms(timeout_ms)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_timeout_ms(self, timeout_ms: int) -> None:
        self.timer.setInterval(max(1, timeout_ms))
        if self.timer.isActive():
            self.timer.start()

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self.timer.isActive():
            self.timer.start()
        return False

    def remove(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.timer.stop()


class LockScreen(QWidget):
    """What the window shows while locked: no patient data, a passphrase field (or, for a plaintext
    workspace, a plain "unlock as" button that says why no passphrase is asked)."""

    unlock_requested = Signal(str)  # the passphrase typed ("" for a plaintext workspace)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lock_screen")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame.setMaximumWidth(560)
        box = QVBoxLayout(frame)
        self.title = QLabel("<h2>Vitalsight is locked</h2>")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.title)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        box.addWidget(self.explanation)
        row = QHBoxLayout()
        self.field: QLineEdit = password_field("workspace passphrase")
        self.field.returnPressed.connect(self._request)
        self.button = QPushButton("Unlock")
        self.button.setDefault(True)
        self.button.clicked.connect(self._request)
        row.addWidget(self.field, 1)
        row.addWidget(self.button)
        box.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(WEAK_STYLE)
        box.addWidget(self.message)
        middle = QHBoxLayout()
        middle.addStretch(1)
        middle.addWidget(frame, 2)
        middle.addStretch(1)
        outer.addLayout(middle)
        outer.addStretch(2)
        self.encrypted = True

    def prepare(self, *, workspace_name: str | None, encrypted: bool, reason: str) -> None:
        self.encrypted = encrypted
        self.message.clear()
        self.field.clear()
        self.field.setVisible(encrypted)
        self.set_busy(False)
        where = f"The workspace {workspace_name}" if workspace_name else "The window"
        if encrypted:
            self.explanation.setText(f"{reason} {where} is hidden until its passphrase is typed again.")
            self.button.setText("Unlock")
            self.field.setFocus()
        else:
            self.explanation.setText(
                f"{reason} {where} is hidden. It is not encrypted, so no passphrase protects it: unlocking "
                f"only confirms that you are {os_user()}, the user signed in to this computer. Encrypt it "
                "(File > Encrypt workspace…) to require a passphrase."
            )
            self.button.setText(f"Unlock as {os_user()}")
            self.button.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.field.setEnabled(not busy)
        self.button.setEnabled(not busy)

    def _request(self) -> None:
        if self.encrypted and not self.field.text():
            self.message.setText("Type the passphrase first.")
            return
        self.unlock_requested.emit(self.field.text() if self.encrypted else "")


class LockController(QObject):
    """Locks and unlocks one main window. ``locked``/``unlocked`` let others (the chat) follow."""

    locked = Signal()
    unlocked = Signal()

    def __init__(
        self,
        window: QMainWindow,
        *,
        stack: QStackedWidget,
        dock: QDockWidget,
        tasks: TaskManager,
        workspace_path: Callable[[], str | None],
        record: Callable[..., None],
        idle_minutes: int,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._stack = stack
        self._dock = dock
        self._tasks = tasks
        self._workspace_path = workspace_path
        self._record = record
        self.screen = LockScreen()
        self.screen.unlock_requested.connect(self.try_unlock)
        stack.addWidget(self.screen)
        self.is_locked = False
        self.failures = 0
        self._restore: list[QWidget] = []
        self._disabled_actions: list[QAction] = []
        # True while the key must outlive a lock (a passphrase change reopening the file); the owner
        # forgets it when that work ends, if still locked.
        self.keep_key: Callable[[], bool] | None = None
        self._dock_was_visible = False
        self.idle = IdleWatcher(idle_minutes * 60_000, self)
        self.idle.idle.connect(lambda: self.lock(reason="Locked after a time without use."))
        self.idle.start()

    def set_idle_minutes(self, minutes: int) -> None:
        self.idle.set_timeout_ms(minutes * 60_000)

    def lock(self, *, reason: str = "Locked.") -> None:
        if self.is_locked:
            return
        self.is_locked = True
        self.idle.stop()
        path = self._workspace_path()
        self._dock_was_visible = self._dock.isVisible()
        self._dock.hide()
        self._restore = [w for w in self._window.findChildren(QDialog) if w.isVisible()]
        for dialog in self._restore:
            dialog.hide()
        self._stack.setCurrentWidget(self.screen)
        self._window.menuBar().setEnabled(False)
        # Shortcuts too (Ctrl+E export, View > Assistant): every action but those marked to stay (Quit).
        self._disabled_actions = [
            a
            for a in self._window.findChildren(QAction)
            if a.isEnabled() and not a.property(AVAILABLE_WHEN_LOCKED)
        ]
        for action in self._disabled_actions:
            action.setEnabled(False)
        self._window.statusBar().clearMessage()
        encrypted = bool(path) and is_encrypted_workspace(path)  # type: ignore[arg-type]
        self.screen.prepare(
            workspace_name=Path(path).name if path else None, encrypted=encrypted, reason=reason
        )
        if path:
            self._record("locked", detail=reason.rstrip("."))
        if self.keep_key is None or not self.keep_key():
            forget_workspace_key()
        self.locked.emit()

    def try_unlock(self, passphrase: str) -> None:
        if not self.is_locked:
            return
        path = self._workspace_path()
        if not self.screen.encrypted or not path:
            self._finish_unlock()
            return
        self.screen.set_busy(True)
        self.screen.message.setText("Checking the passphrase…")
        check_in_background(
            self._tasks,
            lambda: unlock_workspace(path, passphrase),
            lambda _key: self._finish_unlock(),
            self._refused,
        )

    def _refused(self, sentence: str) -> None:
        self.failures += 1
        self.screen.set_busy(False)
        self.screen.field.clear()
        more = (
            " Each further wrong passphrase waits longer before it is refused." if self.failures > 1 else ""
        )
        self.screen.message.setText(sentence + more)
        self.screen.field.setFocus()

    def _finish_unlock(self) -> None:
        self.is_locked = False
        self.failures = 0
        self.screen.field.clear()
        self._stack.setCurrentIndex(0)
        self._window.menuBar().setEnabled(True)
        for action in self._disabled_actions:
            action.setEnabled(True)
        self._disabled_actions = []
        if self._dock_was_visible:
            self._dock.show()
        for dialog in self._restore:
            try:
                dialog.show()
            except RuntimeError:  # closed and deleted while locked (an import that finished)
                pass
        self._restore = []
        if self._workspace_path():
            self._record("unlocked", detail=f"by {os_user()}")
        self.idle.start()
        self.unlocked.emit()

    def shutdown(self) -> None:
        self.idle.remove()
        forget_workspace_key()
