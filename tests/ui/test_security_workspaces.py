"""Encrypted workspaces in the window: New asks for a passphrase twice and encrypts by default, opening
asks for it, a wrong one changes nothing and slows down, Encrypt and Change passphrase rewrite off the
GUI thread; a workspace held by another process gets a dialog naming it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.settings import AppSettings
from desktop.core.workspace import crypto as workspace_crypto
from desktop.core.workspace.audit import read_audit
from desktop.core.workspace.keyslot import is_encrypted_workspace
from desktop.core.workspace.store import forget_workspace_key
from desktop.ui.qt_main_window import QtMainWindow
from desktop.ui.security.in_use import WorkspaceInUseDialog
from desktop.ui.security.passphrase_dialogs import NewPassphraseDialog, UnlockDialog
from desktop.ui.security.strength import passphrase_hint
from tests.ui.conftest import wait_idle
from tests.ui.security_support import PASSPHRASE, encrypted_workspace


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The core's growing delay after wrong passphrases, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(workspace_crypto.DEFAULT_THROTTLE, "sleep", recorded.append)
    monkeypatch.setattr(workspace_crypto.DEFAULT_THROTTLE, "failures", {})
    return recorded


@pytest.fixture
def make_window(qtbot, make_workspace):
    def make() -> QtMainWindow:
        win = QtMainWindow(make_workspace(None), AppSettings())
        qtbot.addWidget(win)
        return win

    yield make
    forget_workspace_key()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_strength_hint_says_plainly_when_a_passphrase_is_weak() -> None:
    assert not passphrase_hint("short").acceptable
    weak = passphrase_hint("password1")
    assert weak.acceptable and weak.weak and weak.text.startswith("Weak")
    assert passphrase_hint("aaaaaaaaaaaaaaaa").weak  # long but one letter
    strong = passphrase_hint(PASSPHRASE)
    assert not strong.weak and strong.text.startswith("Strong")


def test_new_workspace_is_encrypted_and_reopens_only_with_its_passphrase(
    qtbot, make_window, tmp_path: Path, synthea_folder: Path, delays: list[float]
) -> None:
    from desktop.core.importers import import_paths

    window = make_window()
    path = tmp_path / "clinic.duckdb"
    dialog = window.files.new_workspace_at(str(path))
    assert isinstance(dialog, NewPassphraseDialog) and dialog.encrypt  # encrypted unless the user says not
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.first.setText(PASSPHRASE)
    dialog.second.setText(PASSPHRASE + "x")
    assert not ok.isEnabled() and "differ" in dialog.mismatch.text()
    dialog.second.setText(PASSPHRASE)
    assert ok.isEnabled()
    with qtbot.waitSignal(window.workspace.opened, timeout=20000):
        ok.click()
    assert is_encrypted_workspace(path)
    window.workspace.executor.run_sync(lambda store: import_paths(store, [synthea_folder]))
    window.workspace.shutdown()  # as at quit: the store closes, the file is whole on disk
    forget_workspace_key()
    assert b"Alice123" not in path.read_bytes()
    before = _digest(path)

    again = make_window()
    unlock = again.files.open_workspace(str(path))
    assert isinstance(unlock, UnlockDialog) and unlock.isVisible()
    for attempt in (1, 2):
        unlock.field.setText("not the passphrase")
        unlock.try_unlock()
        qtbot.waitUntil(lambda n=attempt: unlock.failures == n, timeout=20000)
        assert "not correct" in unlock.message.text() and unlock.isVisible()
    assert "waits longer" in unlock.message.text()
    assert delays == [1.0, 2.0]  # the core's throttle: each wrong passphrase waits longer
    assert not again.workspace.is_open and _digest(path) == before  # nothing changed
    unlock.field.setText(PASSPHRASE)
    with qtbot.waitSignal(again.workspace.opened, timeout=20000):
        unlock.try_unlock()
    wait_idle(qtbot, again.workspace)
    qtbot.waitUntil(lambda: again.patient_list.model.rowCount() == 3, timeout=10000)


def test_new_workspace_without_encryption_is_an_explicit_choice(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window()
    path = tmp_path / "plain.duckdb"
    dialog = window.files.new_workspace_at(str(path))
    assert dialog is not None and dialog.plaintext is not None and not dialog.plaintext.isChecked()
    dialog.plaintext.setChecked(True)
    assert "plain text" in dialog.hint.text()
    with qtbot.waitSignal(window.workspace.opened, timeout=20000):
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert path.exists() and not is_encrypted_workspace(path)
    assert window.security.encrypt_action.isEnabled() and not window.security.change_action.isEnabled()


def test_encrypt_then_change_passphrase_from_the_window(
    qtbot, make_window, workspace_file: Path, delays: list[float]
) -> None:
    window = make_window()
    with qtbot.waitSignal(window.workspace.opened, timeout=20000):
        window.open_workspace(str(workspace_file))
    dialog = window.security.encrypt_workspace()
    assert dialog is not None and "SSD" in " ".join(w.text() for w in dialog.findChildren(type(dialog.hint)))
    dialog.first.setText(PASSPHRASE)
    dialog.second.setText(PASSPHRASE)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: len(window.security.messages) == 1, timeout=60000)
    assert (
        window.security.messages[0].startswith("Encrypted")
        and "full-disk encryption" in window.security.messages[0]
    )
    assert is_encrypted_workspace(workspace_file)
    assert window.security.change_action.isEnabled() and not window.security.encrypt_action.isEnabled()
    wait_idle(qtbot, window.workspace)
    # The window carries on with the workspace it had: same patients, now from the encrypted file.
    assert (
        window.workspace.executor.run_sync(
            lambda s: s.con.execute("SELECT count(*) FROM patients").fetchone()[0]
        )
        == 3
    )

    change = window.security.change_passphrase()
    assert change is not None and change.current is not None
    change.current.setText("wrong passphrase!")
    change.first.setText("a new and longer clinic passphrase")
    change.second.setText("a new and longer clinic passphrase")
    change.buttons.button(change.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: len(window.security.messages) == 2, timeout=60000)
    assert "not correct" in window.security.messages[1] and delays == [1.0]
    change = window.security.change_passphrase()
    change.current.setText(PASSPHRASE)
    change.first.setText("a new and longer clinic passphrase")
    change.second.setText("a new and longer clinic passphrase")
    change.buttons.button(change.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: len(window.security.messages) == 3, timeout=60000)
    assert window.security.messages[2].startswith("Changed the passphrase")
    wait_idle(qtbot, window.workspace)
    actions = [e.action for e in window.workspace.executor.run_sync(read_audit)]
    assert "workspace_encrypted" in actions and "passphrase_changed" in actions


_HOLDER = (
    "import sys, duckdb\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.read()\n"
)


def test_workspace_in_use_elsewhere_names_the_process_and_offers_to_try_again(
    qtbot, make_window, workspace_file: Path
) -> None:
    window = make_window()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(workspace_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        window.open_workspace(str(workspace_file))
        qtbot.waitUntil(lambda: isinstance(window.files.dialog, WorkspaceInUseDialog), timeout=20000)
        dialog = window.files.dialog
        assert isinstance(dialog, WorkspaceInUseDialog)
        assert (
            f"PID {holder.pid}" in dialog.message.text()
            and "in use by another process" in dialog.message.text()
        )
        assert dialog.retry_button.text() == "Try again" and "another workspace" in dialog.other_button.text()
        assert not window.workspace.is_open
        assert (
            window.statusBar().currentMessage().startswith("No workspace open: ")
        )  # never empty without why
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(20)
        holder.stdout.close()
    with qtbot.waitSignal(window.workspace.opened, timeout=20000):
        dialog.retry_button.click()
    assert window.workspace.path == str(workspace_file.resolve())


def test_cancelled_passphrase_leaves_a_window_that_says_why_it_is_empty(
    qtbot, make_window, tmp_path: Path, synthea_folder: Path
) -> None:
    path = encrypted_workspace(tmp_path / "enc.duckdb", synthea_folder)
    window = make_window()
    dialog = window.files.open_workspace(str(path))
    assert isinstance(dialog, UnlockDialog)
    dialog.reject()
    assert not window.workspace.is_open
    assert window.statusBar().currentMessage() == (
        "No workspace open: enc.duckdb is encrypted and its passphrase was not given."
    )
