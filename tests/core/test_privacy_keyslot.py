"""The key slot file and the encrypted-header check it relies on (DuckDB 1.5.5's file layout)."""

from __future__ import annotations

import pytest

from desktop.core.workspace.keys import ScryptParameters
from desktop.core.workspace.keyslot import (
    KeySlot,
    KeySlotError,
    companion_files,
    file_is_encrypted,
    read_slot,
    slot_path,
    write_slot_atomically,
)
from desktop.core.workspace.store import open_store

FAST = ScryptParameters(n=2**16, r=8, p=1)


def test_header_check_tells_encrypted_from_plaintext_duckdb_files(tmp_path):
    encrypted, plain, other = tmp_path / "e.duckdb", tmp_path / "p.duckdb", tmp_path / "o.duckdb"
    open_store(encrypted, encryption_key="k" * 64).close()
    open_store(plain).close()
    other.write_bytes(b"not a database at all" * 10)
    assert file_is_encrypted(encrypted)
    assert not file_is_encrypted(plain)
    assert not file_is_encrypted(other)
    assert not file_is_encrypted(tmp_path / "missing.duckdb")


def test_slot_round_trip_and_key_check(tmp_path):
    workspace = tmp_path / "w.duckdb"
    slot, key = KeySlot.create("a passphrase to test", parameters=FAST)
    write_slot_atomically(slot_path(workspace), slot)
    loaded = read_slot(workspace)
    assert loaded == slot and loaded.parameters == FAST
    assert loaded.derive("a passphrase to test") == key
    assert loaded.derive("a passphrase to tesT") is None
    assert "a passphrase" not in slot_path(workspace).read_text()
    # A second slot for the same passphrase has a new salt, hence a different key.
    assert KeySlot.create("a passphrase to test", parameters=FAST)[1] != key


def test_missing_and_damaged_slots_say_what_to_do(tmp_path):
    workspace = tmp_path / "clinic.duckdb"
    with pytest.raises(KeySlotError, match=r"clinic\.duckdb\.keyslot is missing: copy it together with the workspace"):
        read_slot(workspace)
    slot_path(workspace).write_text('{"format": "vitalsight-keyslot-1", "kdf": "scrypt"}')
    with pytest.raises(KeySlotError, match=r"clinic\.duckdb\.keyslot is damaged"):
        read_slot(workspace)


def test_companion_files_name_the_slot(tmp_path):
    workspace = tmp_path / "clinic.duckdb"
    open_store(workspace, encryption_key="k" * 64).close()
    write_slot_atomically(slot_path(workspace), KeySlot.create("a passphrase to test", parameters=FAST)[0])
    assert [p.name for p in companion_files(workspace)] == ["clinic.duckdb", "clinic.duckdb.keyslot"]
