"""Where an encrypted workspace keeps its salt and scrypt settings: a key-slot file beside it.

``clinic.duckdb`` is accompanied by ``clinic.duckdb.keyslot``, a small JSON file holding the scrypt
parameters, the per-workspace random salt and a key check (an HMAC of a constant under the derived key).
None of it is secret. Why this place and not another:

* **Inside the DuckDB file** is impossible with DuckDB 1.5.5: the key must be known before ATTACH, the
  file's own header salt is written by DuckDB after the key is given (so it cannot seed our derivation),
  and a plaintext table would need an unencrypted database, which is what we are avoiding. Appending bytes
  after DuckDB's blocks, or writing into its header's spare bytes, depends on undocumented file layout that
  DuckDB may rewrite or reject on a checkpoint.
* **A workspace folder** would make "the workspace" a directory everywhere (file dialogs, recent files,
  the CLI's ``--workspace W.duckdb``, the sample, the other helpers' code), for the sake of one small file.
* **A key-slot file** keeps ``W.duckdb`` a file. DuckDB already puts ``W.duckdb.wal`` beside it, so the
  workspace is a name prefix rather than a single file in any case. The app creates, replaces and names the
  slot itself, and every error about it says plainly that it must be copied together with the workspace.

The key check lets a wrong passphrase be refused before DuckDB is handed anything, so the workspace file
is certainly unchanged; it gives an attacker nothing the encrypted file does not (each guess still costs a
full scrypt run).

Rewrites (encrypting a plaintext workspace, changing the passphrase) write the new slot as
``W.duckdb.keyslot.pending`` and the new database as ``W.duckdb.rewrite``; :func:`recover_interrupted_rewrite`
settles a rewrite that a crash or power cut interrupted, from which of those files still exist.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from desktop.core.workspace.keys import DEFAULT_PARAMETERS, ScryptParameters, derive_key, new_salt

SLOT_SUFFIX = ".keyslot"
PENDING_SUFFIX = ".keyslot.pending"
REWRITE_SUFFIX = ".rewrite"
FORMAT = "vitalsight-keyslot-1"
_CHECK_MESSAGE = b"vitalsight workspace key check v1"
# DuckDB's main header: "DUCK" at byte 8, then an 8-byte version and 8 bytes of flags; flag bit 0 marks an
# encrypted database (checked against files written by DuckDB 1.5.5, see tests/core/test_privacy_keyslot.py).
_MAGIC_OFFSET, _FLAGS_OFFSET = 8, 20


class KeySlotError(Exception):
    """The key slot is missing or unreadable; the message says what to do."""


@dataclass(frozen=True)
class KeySlot:
    parameters: ScryptParameters
    salt: bytes
    key_check: str

    @classmethod
    def create(cls, passphrase: str, *, parameters: ScryptParameters = DEFAULT_PARAMETERS) -> tuple[KeySlot, str]:
        """A fresh slot (new salt) for ``passphrase``, and the key it derives."""
        salt = new_salt()
        key = derive_key(passphrase, salt=salt, parameters=parameters)
        return cls(parameters, salt, _key_check(key)), key

    def derive(self, passphrase: str) -> str | None:
        """The workspace key, or None when ``passphrase`` is not the right one."""
        key = derive_key(passphrase, salt=self.salt, parameters=self.parameters)
        return key if hmac.compare_digest(_key_check(key), self.key_check) else None

    def to_json(self) -> str:
        p = self.parameters
        return json.dumps(
            {"format": FORMAT, "kdf": "scrypt", "n": p.n, "r": p.r, "p": p.p, "salt": self.salt.hex(),
             "key_check": self.key_check},
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> KeySlot:
        data = json.loads(text)
        if data.get("format") != FORMAT or data.get("kdf") != "scrypt":
            raise ValueError(f"unknown key slot format {data.get('format')!r}")
        parameters = ScryptParameters(n=int(data["n"]), r=int(data["r"]), p=int(data["p"]))
        return cls(parameters, bytes.fromhex(data["salt"]), str(data["key_check"]))


def _key_check(key_hex: str) -> str:
    return hmac.new(bytes.fromhex(key_hex), _CHECK_MESSAGE, hashlib.sha256).hexdigest()


def slot_path(workspace: str | Path) -> Path:
    return Path(str(workspace) + SLOT_SUFFIX)


def pending_slot_path(workspace: str | Path) -> Path:
    return Path(str(workspace) + PENDING_SUFFIX)


def rewrite_path(workspace: str | Path) -> Path:
    return Path(str(workspace) + REWRITE_SUFFIX)


def companion_files(workspace: str | Path) -> list[Path]:
    """Every file that belongs to the workspace and must be copied or moved with it."""
    return [p for p in (Path(workspace), slot_path(workspace)) if p.exists()]


def missing_slot_message(workspace: str | Path) -> str:
    name = slot_path(workspace).name
    return (f"{workspace} is encrypted, but {name} is missing: copy it together with the workspace "
            f"(the workspace cannot be opened without it).")


def read_slot(workspace: str | Path) -> KeySlot:
    path = slot_path(workspace)
    try:
        return KeySlot.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeySlotError(missing_slot_message(workspace)) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeySlotError(
            f"{path.name} is damaged ({exc}); restore it from the copy made together with the workspace."
        ) from exc


def write_slot_atomically(target: Path, slot: KeySlot) -> None:
    """Write via a temporary name, flushed to disk, so a crash never leaves half a slot."""
    temporary = target.with_name(target.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(slot.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def file_is_encrypted(workspace: str | Path) -> bool:
    """Whether DuckDB's header marks the file encrypted (False for a missing or non-DuckDB file)."""
    try:
        with open(workspace, "rb") as handle:
            header = handle.read(_FLAGS_OFFSET + 8)
    except OSError:
        return False
    if len(header) < _FLAGS_OFFSET + 8 or header[_MAGIC_OFFSET:_MAGIC_OFFSET + 4] != b"DUCK":
        return False
    return bool(int.from_bytes(header[_FLAGS_OFFSET:_FLAGS_OFFSET + 8], "little") & 1)


def is_encrypted_workspace(workspace: str | Path) -> bool:
    """An encrypted workspace has a key slot or an encrypted header (the slot may have been left behind)."""
    return slot_path(workspace).exists() or file_is_encrypted(workspace)


def recover_interrupted_rewrite(workspace: str | Path) -> None:
    """Finish or undo a rewrite that was interrupted.

    The rewrite file is renamed onto the workspace in one step, so while it still exists the original is
    untouched and the attempt is discarded; once it is gone the new database is in place and only the
    pending slot's rename remains to be done.
    """
    rewrite, pending = rewrite_path(workspace), pending_slot_path(workspace)
    if rewrite.exists():
        for leftover in (rewrite, Path(str(rewrite) + ".wal"), pending):
            leftover.unlink(missing_ok=True)
    elif pending.exists():
        os.replace(pending, slot_path(workspace))
