"""Passphrase-encrypted workspaces: create, unlock and open, encrypt a plaintext one, change the passphrase.

The key is scrypt(passphrase, per-workspace salt) (see keys.py), kept beside the workspace in its
key slot (see keyslot.py for why there). A wrong passphrase is caught by the slot's key check before DuckDB
sees the file, so the file is byte-for-byte unchanged; each failure for the same workspace path in this
process makes the next refusal wait longer, on top of the cost of scrypt itself.

Encrypting and changing the passphrase both rewrite the whole database into a new file under a new key
(a new salt, so a copy of the old key slot cannot open the new file), verify the new file opens and holds
the same row counts, and only then replace the old one. The window, the CLI and the tests call these
functions alike.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from desktop.core.workspace import audit
from desktop.core.workspace.keys import DEFAULT_PARAMETERS, ScryptParameters
from desktop.core.workspace.keyslot import (
    KeySlot,
    KeySlotError,
    file_is_encrypted,
    pending_slot_path,
    read_slot,
    recover_interrupted_rewrite,
    rewrite_path,
    slot_path,
    write_slot_atomically,
)
from desktop.core.workspace.store import (
    STORAGE_VERSION,
    Store,
    WorkspaceError,
    _sql_string,
    new_connection,
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


@dataclass(frozen=True)
class RewriteResult:
    path: Path
    row_counts: dict[str, int]
    message: str


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
    counts = _rewrite(target, source_key=None, slot=slot, key=key, action="workspace_encrypted")
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
    counts = _rewrite(target, source_key=old_key, slot=slot, key=key, action="passphrase_changed")
    return RewriteResult(target, counts, f"Changed the passphrase of {target}; the old passphrase no longer "
                         f"opens it. {LEFTOVER_WARNING}")


def _rewrite(target: Path, *, source_key: str | None, slot: KeySlot, key: str, action: str) -> dict[str, int]:
    recover_interrupted_rewrite(target)
    rewrite = rewrite_path(target)
    # A writable open brings the schema up to date and, on close, checkpoints the WAL into the file,
    # so no log of the old file is left beside the new one.
    with open_store(target, encryption_key=source_key) as source:
        source.con.execute("CHECKPOINT")
        expected = _row_counts(source.con, "ws")
        expected_catalog = _catalog(source.con, "ws")
    if Path(str(target) + ".wal").exists():
        raise WorkspaceError(f"{target} is still in use (its log could not be written back); close it first.")
    try:
        _copy_database(target, rewrite, source_key=source_key, key=key)
        with open_store(rewrite, encryption_key=key, read_only=True) as copy:
            found, found_catalog = _row_counts(copy.con, "ws"), _catalog(copy.con, "ws")
        if found != expected or found_catalog != expected_catalog:
            raise WorkspaceError(f"The encrypted copy of {target} did not verify (row counts or schema differ); "
                                 "the workspace was not changed.")
        with open_store(rewrite, encryption_key=key) as copy:
            audit.record(copy, action=action, detail=f"workspace {target.name}")
        write_slot_atomically(pending_slot_path(target), slot)
    except BaseException:
        for leftover in (rewrite, Path(str(rewrite) + ".wal"), pending_slot_path(target)):
            leftover.unlink(missing_ok=True)
        raise
    # The rename is the commit point (see keyslot.recover_interrupted_rewrite).
    os.replace(rewrite, target)
    os.replace(pending_slot_path(target), slot_path(target))
    remember_workspace_key(target, key)
    return expected


def _copy_database(source: Path, destination: Path, *, source_key: str | None, key: str) -> None:
    con = new_connection(encrypted=True)
    try:
        source_options = "READ_ONLY" + (f", ENCRYPTION_KEY {_sql_string(source_key)}" if source_key else "")
        con.execute(f"ATTACH {_sql_string(str(source))} AS src ({source_options})")
        con.execute(f"ATTACH {_sql_string(str(destination))} AS dst (ENCRYPTION_KEY {_sql_string(key)}, "
                    f"STORAGE_VERSION {_sql_string(STORAGE_VERSION)})")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute("DETACH src")
        con.execute("DETACH dst")
    except duckdb.Error as exc:
        raise WorkspaceError(f"Could not write the encrypted copy of {source}: {exc}. "
                             "The workspace was not changed.") from exc
    finally:
        con.close()


def _row_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND NOT temporary "
        "ORDER BY ALL", [database]
    ).fetchall()
    counts = {}
    for schema, table in tables:
        row = con.execute(f'SELECT count(*) FROM "{database}"."{schema}"."{table}"').fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def _catalog(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[object, ...]]]:
    """Tables, views, indexes and sequences (with their position), to check a copy lost none of them."""
    queries = {
        "tables": "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = ? AND NOT temporary",
        "views": "SELECT view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal "
                 "AND NOT temporary",
        "indexes": "SELECT index_name, sql FROM duckdb_indexes() WHERE database_name = ?",
        "sequences": "SELECT sequence_name, start_value, last_value FROM duckdb_sequences() WHERE database_name = ?",
    }
    return {name: sorted(con.execute(sql, [database]).fetchall(), key=repr) for name, sql in queries.items()}
