"""The workspace's audit log: who did what to patient data, and when.

Entries are append-only and hash-chained: each stores the SHA-256 of the previous entry's hash and
its own fields, so editing or removing an entry breaks every later link. Removing the *last* entries
leaves a valid shorter chain, so the chain's head (entry count and last hash) is also kept in
``audit_head``, written in the same transaction as the entry. Someone who can rewrite both tables can
forge the log; in an encrypted workspace that requires the passphrase.

Entries carry patient ids at most, never names, values or question text.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from desktop.core.workspace.store import Store

ACTIONS = frozenset(
    {
        "workspace_opened",
        "patient_viewed",
        "file_imported",
        "data_exported",
        "question_asked",
        "setting_changed",
        "locked",
        "unlocked",
        "passphrase_changed",
        "workspace_encrypted",
        "workspace_storage_upgraded",
    }
)
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    sequence: int
    recorded_at: datetime
    os_user: str
    action: str
    patient_id: str | None
    detail: str
    previous_hash: str
    entry_hash: str


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    problem: str | None = None


def _entry_hash(previous_hash: str, sequence: int, recorded_at: datetime, os_user: str, action: str,
                patient_id: str | None, detail: str) -> str:
    payload = json.dumps(
        [previous_hash, sequence, recorded_at.isoformat(), os_user, action, patient_id, detail],
        ensure_ascii=True,
    )
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (service accounts, some containers)
        return "unknown"


def record(store: Store, *, action: str, patient_id: str | None = None, detail: str = "") -> AuditEntry:
    """Append one entry; ``detail`` names files or settings, never patient names or values."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}")
    with store.transaction() as con:
        head = con.execute("SELECT entries, last_hash FROM audit_head").fetchone()
        sequence, previous = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS_HASH)
        # Microseconds are kept so the hash recomputes from what DuckDB stores.
        recorded_at = datetime.now(UTC).replace(tzinfo=None)
        user = _os_user()
        digest = _entry_hash(previous, sequence, recorded_at, user, action, patient_id, detail)
        con.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [sequence, recorded_at, user, action, patient_id, detail, previous, digest],
        )
        con.execute("DELETE FROM audit_head")
        con.execute("INSERT INTO audit_head VALUES (?, ?)", [sequence, digest])
    return AuditEntry(sequence, recorded_at, user, action, patient_id, detail, previous, digest)


def record_question(store: Store, *, patient_id: str | None) -> AuditEntry | None:
    """The ``question_asked`` entry, written once for every caller by ``desktop.core.chat.ask_turn``: with
    the patient when they exist (otherwise the question itself says so, and shows nothing), or "about the
    workspace" when no patient is selected."""
    if patient_id is None:
        return record(store, action="question_asked", detail="about the workspace")
    known = store.con.execute("SELECT count(*) FROM patients WHERE patient_id = ?", [patient_id]).fetchone()
    if not (known and known[0]):
        return None
    return record(store, action="question_asked", patient_id=patient_id)


def read_audit(store: Store, *, limit: int | None = None) -> list[AuditEntry]:
    """Entries oldest first (the last ``limit`` when given)."""
    rows = store.con.execute(
        "SELECT sequence, recorded_at, os_user, action, patient_id, detail, previous_hash, entry_hash "
        "FROM audit_log ORDER BY sequence"
    ).fetchall()
    entries = [AuditEntry(*row) for row in rows]
    return entries[-limit:] if limit else entries


def verify_chain(store: Store) -> ChainCheck:
    """Recompute every link; report the first entry that was edited, removed or appended around."""
    entries = read_audit(store)
    previous = GENESIS_HASH
    for expected_sequence, entry in enumerate(entries, start=1):
        if entry.sequence != expected_sequence:
            return ChainCheck(False, len(entries), f"entry {expected_sequence} is missing")
        if entry.previous_hash != previous:
            return ChainCheck(False, len(entries), f"entry {entry.sequence} does not follow its predecessor")
        digest = _entry_hash(previous, entry.sequence, entry.recorded_at, entry.os_user, entry.action,
                             entry.patient_id, entry.detail)
        if digest != entry.entry_hash:
            return ChainCheck(False, len(entries), f"entry {entry.sequence} was altered")
        previous = digest
    head = store.con.execute("SELECT entries, last_hash FROM audit_head").fetchone()
    head_entries, head_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    if head_entries != len(entries) or head_hash != previous:
        return ChainCheck(False, len(entries), f"the log should hold {head_entries} entries; the last were removed")
    return ChainCheck(True, len(entries))
