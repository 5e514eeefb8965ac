"""Passphrase-encrypted workspaces: create, unlock and open, encrypt a plaintext one, change the passphrase.

The key is scrypt(passphrase, per-workspace salt) (see keys.py), kept beside the workspace in its
key slot (see keyslot.py for why there). A wrong passphrase is caught by the slot's key check before DuckDB
sees the file, so the file is byte-for-byte unchanged; each failure for the same workspace path in this
process makes the next refusal wait longer, on top of the cost of scrypt itself.

Encrypting and changing the passphrase both rewrite the whole database into a new file under a new key
(a new salt, so a copy of the old key slot cannot open the new file), verify the new file opens and holds
the same row counts, and only then replace the old one (rewrite.py). The window, the CLI and the tests call these
functions alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.workspace.keys import DEFAULT_PARAMETERS, ScryptParameters
from desktop.core.workspace.keyslot import (
    KeySlot,
    KeySlotError,
    file_is_encrypted,
    read_slot,
    recover_interrupted_rewrite,
    slot_path,
    write_slot_atomically,
)
from desktop.core.workspace.rewrite import RewriteResult, rewrite_workspace
from desktop.core.workspace.store import (
    Store,
    WorkspaceError,
    open_store,
    remember_workspace_key,
)

LEFTOVER_WARNING = (
    "Copies of the old file, and blocks of it on an SSD, may remain on this disk and in its backups: "
    "full-disk encryption (BitLocker, FileVault, LUKS) is recommended."
)


@dataclass
class UnlockThrottle:
    """A growing delay after each wrong passphrase for one workspace path, reset by a right one."""

    first_delay_s: float = 1.0
    max_delay_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    failures: dict[str, int] = field(default_factory=dict)

    def delay_after(self, failures: int) -> float:
        return min(self.first_delay_s * 2 ** (failures - 1), self.max_delay_s) if failures > 0 else 0.0

    def failed(self, path: str) -> float:
        self.failures[path] = self.failures.get(path, 0) + 1
        delay = self.delay_after(self.failures[path])
        self.sleep(delay)
        return delay

    def succeeded(self, path: str) -> None:
        self.failures.pop(path, None)


DEFAULT_THROTTLE = UnlockThrottle()
# A floor, not a strength meter: scrypt makes each guess expensive, but not a 4-character passphrase safe.
MIN_PASSPHRASE_CHARS = 8


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise WorkspaceError(f"A passphrase needs at least {MIN_PASSPHRASE_CHARS} characters; "
                             "several unrelated words are easy to remember and hard to guess.")


def _name(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


def create_encrypted_workspace(path: str | Path, passphrase: str, *,
                               parameters: ScryptParameters = DEFAULT_PARAMETERS) -> Store:
    """Create a new workspace encrypted under ``passphrase``; returns it open and migrated."""
    target = Path(path).expanduser()
    if target.exists():
        raise WorkspaceError(f"{target} already exists; choose a new name for the new workspace.")
    check_new_passphrase(passphrase)
    slot, key = KeySlot.create(passphrase, parameters=parameters)
    # The slot first: a crash before the database exists leaves a slot that the next create overwrites.
    write_slot_atomically(slot_path(target), slot)
    remember_workspace_key(target, key)
    return open_store(target, encryption_key=key)


def unlock_workspace(path: str | Path, passphrase: str, *, throttle: UnlockThrottle = DEFAULT_THROTTLE) -> str:
    """Check ``passphrase`` against the key slot and return the workspace key (remembered in this process).

    Raises WorkspaceError for a wrong passphrase (after the throttle's delay) or a missing slot.
    """
    name = _name(path)
    recover_interrupted_rewrite(path)
    try:
        slot = read_slot(path)
    except KeySlotError as exc:
        raise WorkspaceError(str(exc)) from exc
    key = slot.derive(passphrase)
    if key is None:
        throttle.failed(name)
        raise WorkspaceError(f"The passphrase for {path} is not correct. The workspace was not changed.")
    throttle.succeeded(name)
    remember_workspace_key(path, key)
    return key


def open_encrypted_workspace(path: str | Path, passphrase: str, *, read_only: bool = False,
                             throttle: UnlockThrottle = DEFAULT_THROTTLE) -> Store:
    if not Path(path).expanduser().exists():
        raise WorkspaceError(f"{path}: no such workspace")
    key = unlock_workspace(path, passphrase, throttle=throttle)
    return open_store(path, encryption_key=key, read_only=read_only)


def encrypt_workspace(path: str | Path, passphrase: str, *,
                      parameters: ScryptParameters = DEFAULT_PARAMETERS) -> RewriteResult:
    """Encrypt a plaintext workspace in place: new encrypted file, verified, then swapped in."""
    target = Path(path).expanduser()
    if not target.exists():
        raise WorkspaceError(f"{target}: no such workspace")
    if file_is_encrypted(target) or slot_path(target).exists():
        raise WorkspaceError(f"{target} is already encrypted; use change-passphrase to change its passphrase.")
    check_new_passphrase(passphrase)
    slot, key = KeySlot.create(passphrase, parameters=parameters)
    counts = rewrite_workspace(target, source_key=None, slot=slot, key=key, action="workspace_encrypted")
    return RewriteResult(target, counts, f"Encrypted {target} ({sum(counts.values())} rows verified). "
                         f"Keep {slot_path(target).name} with it. {LEFTOVER_WARNING}")


def change_passphrase(path: str | Path, old_passphrase: str, new_passphrase: str, *,
                      parameters: ScryptParameters = DEFAULT_PARAMETERS,
                      throttle: UnlockThrottle = DEFAULT_THROTTLE) -> RewriteResult:
    """Re-encrypt the workspace under a new passphrase (and a new salt)."""
    target = Path(path).expanduser()
    if not target.exists():
        raise WorkspaceError(f"{target}: no such workspace")
    check_new_passphrase(new_passphrase)
    old_key = unlock_workspace(target, old_passphrase, throttle=throttle)
    slot, key = KeySlot.create(new_passphrase, parameters=parameters)
    counts = rewrite_workspace(target, source_key=old_key, slot=slot, key=key, action="passphrase_changed")
    return RewriteResult(target, counts, f"Changed the passphrase of {target}; the old passphrase no longer "
                         f"opens it. {LEFTOVER_WARNING}")
