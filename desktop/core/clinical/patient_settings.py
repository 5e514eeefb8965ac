"""Per-patient clinical settings a clinician switches on, recorded with who and when.

SpO2 scale 2 (target 88-92 %) is for documented hypercapnic respiratory failure, "on a clinician's
decision" (RCP NEWS2 2017): the app never infers it. Each change is a new row, so the record shows who
switched it and when; the newest row is in force.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime

from desktop.core.workspace.store import Store

SPO2_SCALE2 = "spo2_scale2"


@dataclass(frozen=True)
class SettingChange:
    value: bool
    set_by: str
    set_at: datetime
    reason: str | None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers, services): still record that someone did it
        return "unknown user"


def set_spo2_scale2(store: Store, *, patient_id: str, enabled: bool, user: str | None = None,
                    reason: str | None = None) -> SettingChange:
    """Record that SpO2 scale 2 is switched on (or off) for this patient from now on."""
    change = SettingChange(enabled, user or _os_user(), datetime.now(UTC).replace(tzinfo=None, microsecond=0), reason)
    store.con.execute(
        "INSERT INTO patient_settings_log VALUES (?, ?, ?, ?, ?, ?)",
        [patient_id, SPO2_SCALE2, "on" if enabled else "off", change.set_by, change.set_at, reason],
    )
    return change


def spo2_scale2(store: Store, patient_id: str) -> SettingChange | None:
    """The change in force (None when the setting was never touched: scale 1)."""
    if store.schema_version() < 3:  # a workspace opened read-only before its upgrade: never set
        return None
    row = store.con.execute(
        "SELECT value, set_by, set_at, reason FROM patient_settings_log WHERE patient_id = ? AND setting = ? "
        "ORDER BY set_at DESC, rowid DESC LIMIT 1",
        [patient_id, SPO2_SCALE2],
    ).fetchone()
    if row is None:
        return None
    return SettingChange(row[0] == "on", row[1], row[2], row[3])
