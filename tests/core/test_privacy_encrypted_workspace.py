"""Passphrase-encrypted workspaces: create, open, wrong passphrase, encrypt in place, change passphrase."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from desktop.core.workspace.audit import read_audit, verify_chain
from desktop.core.workspace.crypto import (
    UnlockThrottle,
    change_passphrase,
    create_encrypted_workspace,
    encrypt_workspace,
    open_encrypted_workspace,
)
from desktop.core.workspace.keys import ScryptParameters
from desktop.core.workspace.keyslot import (
    file_is_encrypted,
    pending_slot_path,
    recover_interrupted_rewrite,
    rewrite_path,
    slot_path,
)
from desktop.core.workspace.store import WorkspaceError, forget_workspace_key, open_store

# The weakest settings derive_key accepts (64 MiB), to keep the tests quick; the app uses n=2**17.
FAST = ScryptParameters(n=2**16, r=8, p=1)
NAME = "Philomena Grimsditch-Oyelaran"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _no_remembered_keys():
    forget_workspace_key()
    yield
    forget_workspace_key()


def _no_wait() -> UnlockThrottle:
    waits: list[float] = []
    return UnlockThrottle(sleep=waits.append)


def _make(path: Path, passphrase: str = "plum tree at dusk") -> None:
    with create_encrypted_workspace(path, passphrase, parameters=FAST) as store:
        store.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p1', ?)", [NAME])
    forget_workspace_key(path)


def test_created_workspace_is_encrypted_and_opens_with_its_passphrase(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    assert file_is_encrypted(path)
    assert slot_path(path).exists()
    assert NAME.encode() not in path.read_bytes()
    assert b"Grimsditch" not in slot_path(path).read_bytes()
    with open_encrypted_workspace(path, "plum tree at dusk", read_only=True, throttle=_no_wait()) as store:
        assert store.con.execute("SELECT name FROM patients").fetchone()[0] == NAME


def test_wrong_passphrase_is_refused_and_leaves_the_file_unchanged(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    before = _digest(path), _digest(slot_path(path))
    with pytest.raises(WorkspaceError, match="passphrase .* is not correct"):
        open_encrypted_workspace(path, "plum tree at dawn", throttle=_no_wait())
    assert (_digest(path), _digest(slot_path(path))) == before
    assert not Path(str(path) + ".wal").exists()


def test_repeated_failures_wait_longer_and_a_success_resets(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    waits: list[float] = []
    throttle = UnlockThrottle(first_delay_s=1.0, max_delay_s=5.0, sleep=waits.append)
    for _ in range(4):
        with pytest.raises(WorkspaceError):
            open_encrypted_workspace(path, "guess", throttle=throttle)
    assert waits == [1.0, 2.0, 4.0, 5.0]
    open_encrypted_workspace(path, "plum tree at dusk", throttle=throttle).close()
    with pytest.raises(WorkspaceError):
        open_encrypted_workspace(path, "guess", throttle=throttle)
    assert waits[-1] == 1.0


def test_open_store_by_path_needs_an_unlock_and_names_a_missing_slot(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    with pytest.raises(WorkspaceError, match="passphrase is needed"):
        open_store(path)
    open_encrypted_workspace(path, "plum tree at dusk", throttle=_no_wait()).close()
    with open_store(path, read_only=True) as store:  # existing callers, once unlocked in this process
        assert store.con.execute("SELECT count(*) FROM patients").fetchone()[0] == 1
    forget_workspace_key()
    slot_path(path).rename(tmp_path / "elsewhere")
    with pytest.raises(WorkspaceError, match=r"clinic\.duckdb\.keyslot is missing: copy it together"):
        open_store(path)
    with pytest.raises(WorkspaceError, match=r"clinic\.duckdb\.keyslot is missing"):
        open_encrypted_workspace(path, "plum tree at dusk", throttle=_no_wait())


def test_a_copied_workspace_opens_when_its_slot_travels_with_it(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    moved = tmp_path / "usb" / "copy.duckdb"
    moved.parent.mkdir()
    moved.write_bytes(path.read_bytes())
    slot_path(moved).write_bytes(slot_path(path).read_bytes())
    with open_encrypted_workspace(moved, "plum tree at dusk", throttle=_no_wait()) as store:
        assert store.con.execute("SELECT name FROM patients").fetchone()[0] == NAME


def test_encrypting_a_plaintext_workspace_keeps_every_row(tmp_path):
    path = tmp_path / "clinic.duckdb"
    with open_store(path) as store:
        store.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p1', ?), ('p2', 'B')", [NAME])
        for _ in range(3):
            store.con.execute(
                "INSERT INTO imports (file_name, sha256, format, rows_accepted, rows_rejected, imported_at) "
            "VALUES ('f.csv', 'x', 'csv', 1, 0, now()::TIMESTAMP)"
            )
    result = encrypt_workspace(path, "a new passphrase", parameters=FAST)
    assert result.row_counts["main.patients"] == 2
    assert "SSD" in result.message and "full-disk encryption" in result.message
    assert file_is_encrypted(path) and NAME.encode() not in path.read_bytes()
    assert not rewrite_path(path).exists() and not pending_slot_path(path).exists()
    forget_workspace_key()
    with open_encrypted_workspace(path, "a new passphrase", throttle=_no_wait()) as store:
        assert store.con.execute("SELECT count(*) FROM patients").fetchone()[0] == 2
        assert [e.action for e in read_audit(store)] == ["workspace_encrypted"]
        # Sequences are copied with their position: the next import does not reuse an id.
        store.con.execute(
            "INSERT INTO imports (file_name, sha256, format, rows_accepted, rows_rejected, imported_at) "
            "VALUES ('f.csv', 'x', 'csv', 1, 0, now()::TIMESTAMP)"
        )
        assert store.con.execute("SELECT max(import_id) FROM imports").fetchone()[0] == 4
        assert verify_chain(store).ok
    with pytest.raises(WorkspaceError, match="already encrypted"):
        encrypt_workspace(path, "again", parameters=FAST)


def test_changing_the_passphrase_rekeys_the_file(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    old_slot = slot_path(path).read_bytes()
    change_passphrase(path, "plum tree at dusk", "heron over the weir", parameters=FAST, throttle=_no_wait())
    forget_workspace_key()
    with pytest.raises(WorkspaceError):
        open_encrypted_workspace(path, "plum tree at dusk", throttle=_no_wait())
    with open_encrypted_workspace(path, "heron over the weir", throttle=_no_wait()) as store:
        assert store.con.execute("SELECT name FROM patients").fetchone()[0] == NAME
        assert read_audit(store)[-1].action == "passphrase_changed"
    # A copy of the old slot (an old backup) does not open the re-keyed file: the salt is new.
    slot_path(path).write_bytes(old_slot)
    forget_workspace_key()
    with pytest.raises(WorkspaceError, match="Wrong encryption key|Cannot open"):
        open_encrypted_workspace(path, "plum tree at dusk", throttle=_no_wait())


def test_change_with_a_wrong_old_passphrase_changes_nothing(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    before = _digest(path), _digest(slot_path(path))
    with pytest.raises(WorkspaceError, match="not correct"):
        change_passphrase(path, "wrong", "a long new passphrase", parameters=FAST, throttle=_no_wait())
    assert (_digest(path), _digest(slot_path(path))) == before


def test_an_interrupted_rewrite_is_discarded_or_completed(tmp_path):
    path = tmp_path / "clinic.duckdb"
    _make(path)
    original = _digest(path), _digest(slot_path(path))
    # Crash before the swap: the rewrite file still exists, so the original stays.
    rewrite_path(path).write_bytes(b"half written")
    pending_slot_path(path).write_text("{}")
    recover_interrupted_rewrite(path)
    assert (_digest(path), _digest(slot_path(path))) == original
    assert not rewrite_path(path).exists() and not pending_slot_path(path).exists()
    # Crash after the swap: only the pending slot's rename was left to do.
    pending_slot_path(path).write_text("new slot")
    recover_interrupted_rewrite(path)
    assert slot_path(path).read_text() == "new slot" and not pending_slot_path(path).exists()


def test_a_too_short_new_passphrase_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "clinic.duckdb"
    with pytest.raises(WorkspaceError, match="at least 8 characters"):
        create_encrypted_workspace(path, "short", parameters=FAST)
    assert not path.exists() and not slot_path(path).exists()


def test_a_copy_that_does_not_verify_leaves_the_plaintext_workspace_in_place(tmp_path, monkeypatch):
    from desktop.core.workspace import rewrite as workspace_rewrite

    path = tmp_path / "clinic.duckdb"
    with open_store(path) as store:
        store.con.execute("INSERT INTO patients (patient_id, name) VALUES ('p1', ?), ('p2', 'B')", [NAME])
    real_copy = workspace_rewrite._copy_database

    def lossy_copy(source, destination, *, source_key, key):
        real_copy(source, destination, source_key=source_key, key=key)
        with open_store(destination, encryption_key=key) as copy:  # a row lost on the way
            copy.con.execute("DELETE FROM patients WHERE patient_id = 'p2'")

    monkeypatch.setattr(workspace_rewrite, "_copy_database", lossy_copy)
    before = _digest(path)
    with pytest.raises(WorkspaceError, match="did not verify"):
        encrypt_workspace(path, "a new passphrase", parameters=FAST)
    assert _digest(path) == before and not file_is_encrypted(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic.duckdb"]
