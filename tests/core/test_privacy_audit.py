"""The audit log detects edited, removed and truncated entries; keys come from a memory-hard KDF."""

from __future__ import annotations

import hashlib

import pytest

from desktop.core.workspace import audit
from desktop.core.workspace.keys import (
    DEFAULT_PARAMETERS,
    MINIMUM_MEMORY_BYTES,
    ScryptParameters,
    derive_key,
    new_salt,
)
from desktop.core.workspace.store import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "w.duckdb") as opened:
        audit.record(opened, action="workspace_opened")
        audit.record(opened, action="patient_viewed", patient_id="p-1")
        audit.record(opened, action="data_exported", detail="observations to /tmp/x.csv")
        yield opened


def test_intact_chain_verifies(store):
    check = audit.verify_chain(store)
    assert check.ok and check.entries == 3
    entries = audit.read_audit(store)
    assert [e.action for e in entries] == ["workspace_opened", "patient_viewed", "data_exported"]
    assert entries[1].patient_id == "p-1" and entries[0].os_user


def test_edited_entry_is_detected(store):
    store.con.execute("UPDATE audit_log SET patient_id = 'p-2' WHERE sequence = 2")
    check = audit.verify_chain(store)
    assert not check.ok and "entry 2" in check.problem


def test_deleted_middle_entry_is_detected(store):
    store.con.execute("DELETE FROM audit_log WHERE sequence = 2")
    assert not audit.verify_chain(store).ok


def test_deleted_last_entry_is_detected(store):
    store.con.execute("DELETE FROM audit_log WHERE sequence = 3")
    check = audit.verify_chain(store)
    assert not check.ok and "removed" in check.problem


def test_unknown_action_refused(store):
    with pytest.raises(ValueError):
        audit.record(store, action="coffee")


def test_scrypt_parameters_are_not_weak():
    assert DEFAULT_PARAMETERS.memory_bytes >= MINIMUM_MEMORY_BYTES
    assert DEFAULT_PARAMETERS.n >= 2**17 and DEFAULT_PARAMETERS.r >= 8
    with pytest.raises(ValueError):
        derive_key("secret", salt=new_salt(), parameters=ScryptParameters(n=2**10))


def test_key_depends_on_salt_and_is_not_a_plain_hash():
    salt = new_salt()
    key = derive_key("correct horse", salt=salt)
    assert key == derive_key("correct horse", salt=salt)
    assert key != derive_key("correct horse", salt=new_salt())
    assert key != hashlib.sha256(b"correct horse").hexdigest()
    assert len(bytes.fromhex(key)) == 32


def test_encrypted_workspace_encrypts_temporary_files(tmp_path):
    with open_store(tmp_path / "e.duckdb", encryption_key="k" * 64) as opened:
        setting = opened.con.execute("SELECT current_setting('temp_file_encryption')").fetchone()[0]
        opened.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p1', 'Zebedee Marmaduke')")
        opened.con.execute("CHECKPOINT")
    assert setting is True
    assert b"Zebedee" not in (tmp_path / "e.duckdb").read_bytes()
